// Moves the canvas toolbar above the canvas and sends each stroke at pen-up; see ui/canvas.py.
// Its key and css placeholders are filled in by canvas_toolbar_above with Python string formatting.
(() => {
  const key = %(key)s, css = %(css)s, id = "siamese-toolbar-above";
  const send = "button[title='Update the app with this drawing']";
  // A sent stroke that no script run follows was dropped by the server: after a restart the new
  // session does not know the page's fragment yet (ui/canvas.py, canvas_toolbar_above). Then the
  // whole app is rerun, Streamlit's "r" key, which carries every widget's state, the stroke's too.
  const app = () => document.querySelector("[data-testid=stApp]");
  const runs = window.__siameseScriptRuns = window.__siameseScriptRuns || (() => {
    const seen = {started: 0};  // when a script run last started (performance.now())
    new MutationObserver(() => {
      if (app()?.dataset.testScriptState === "running") seen.started = performance.now();
    }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ["data-test-script-state"]});
    return seen;
  })();
  const rerunIfDropped = (sentAt) => {
    let idleSince = null;
    const check = () => {
      const el = app();
      if (!el || runs.started > sentAt || performance.now() - sentAt > 60000) return;  // a run took it
      const idle = el.dataset.testConnectionState === "CONNECTED" && el.dataset.testScriptState === "notRunning";
      idleSince = idle ? (idleSince ?? performance.now()) : null;
      if (idleSince !== null && performance.now() - idleSince > 2500) {
        document.dispatchEvent(new KeyboardEvent("keydown", {key: "r", code: "KeyR", keyCode: 82, bubbles: true}));
        return;
      }
      setTimeout(check, 250);
    };
    setTimeout(check, 250);
  };
  const sendOnPenUp = (root) => {
    let drawing = false;  // a stroke began on this canvas
    root.addEventListener("pointerdown", (e) => { drawing = e.target.classList.contains("upper-canvas"); }, true);
    const up = () => {
      if (!root.isConnected) { window.removeEventListener("pointerup", up, true); return; }
      if (!drawing) return;
      drawing = false;
      setTimeout(() => {  // after the component's own mouse-up work
        const button = root.querySelector(send);
        if (!button) return;
        button.click();
        rerunIfDropped(performance.now());
      }, 0);
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
