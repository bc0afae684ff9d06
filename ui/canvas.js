// Moves the canvas toolbar above the canvas and sends each stroke at pen-up; see ui/canvas.py.
// Its key and css placeholders are filled in by canvas_toolbar_above with Python string formatting.
(() => {
  const key = %(key)s, css = %(css)s, id = "siamese-toolbar-above";
  const send = "button[title='Update the app with this drawing']";
  const sendOnPenUp = (root) => {
    let drawing = false;  // a stroke began on this canvas
    root.addEventListener("pointerdown", (e) => { drawing = e.target.classList.contains("upper-canvas"); }, true);
    const up = () => {
      if (!root.isConnected) { window.removeEventListener("pointerup", up, true); return; }
      if (!drawing) return;
      drawing = false;
      setTimeout(() => root.querySelector(send)?.click(), 0);  // after the component's own mouse-up work
    };
    window.addEventListener("pointerup", up, true);  // the pen may lift outside the canvas
  };
  const fix = () => document.querySelectorAll(".st-key-" + CSS.escape(key) + " *").forEach((el) => {
    const root = el.shadowRoot;  // the canvas component's (open) shadow root
    if (!root || root.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = css;
    root.appendChild(style);
    sendOnPenUp(root);
    new MutationObserver(fix).observe(root, {childList: true});
  });
  fix();
  const flag = "__siameseToolbarAbove_" + key;  // one watcher per canvas key and browser tab
  if (!window[flag]) {
    let queued = false;
    window[flag] = new MutationObserver(() => {
      if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fix(); }); }
    });
    window[flag].observe(document.body, {childList: true, subtree: true});
  }
})();
