"""The app's pages, declared once: each page's file (the path that ``st.page_link`` and
``st.switch_page`` take, relative to the app's root) and its ``st.Page``."""
from __future__ import annotations

import streamlit as st

DRAW = "pages/1_Draw_and_match.py"
REGISTER = "pages/2_Register.py"
TRAIN = "pages/3_Train_three_variants.py"
EVALUATE = "pages/4_Evaluate.py"
COMPARE = "pages/5_Compare_two_sketches.py"
EXPERIMENT = "pages/6_Class_experiment.py"

PAGES = {
    DRAW: ("Draw & match", ":material/draw:", "draw"),
    REGISTER: ("Register", ":material/add_circle:", "register"),
    TRAIN: ("Train the three variants", ":material/monitoring:", "train"),
    EVALUATE: ("One-shot evaluation", ":material/target:", "evaluate"),
    COMPARE: ("Compare two sketches", ":material/compare_arrows:", "compare"),
    EXPERIMENT: ("Class experiment", ":material/science:", "experiment"),
}
"""page file -> (title, icon, URL path), in the navigation's order. Icons are Streamlit's Material
Symbols (a font Streamlit serves), not emoji, which show as empty boxes on a machine without an
emoji font (#24 item 13)."""
HOME_ICON = ":material/home:"


def icon(page: str) -> str:
    """The icon of a page of :data:`PAGES` (its file), for every link to it (``st.page_link``)."""
    return PAGES[page][1]


def navigation(home):
    """The app's navigation: ``home`` (a function, the default page) then every page of :data:`PAGES`.

    Returns:
        the ``st.navigation`` object; the caller runs it (``.run()``).
    """
    pages = [st.Page(home, title="Home", icon=HOME_ICON, default=True)]
    pages += [st.Page(path, title=title, icon=icon, url_path=url) for path, (title, icon, url) in PAGES.items()]
    return st.navigation(pages)


_PAGE_FOUND_JS = """<script>(() => {
  const flag = "__siamesePageFound";
  if (window[flag]) return;  // once per browser tab
  window[flag] = true;
  const close = () => document.querySelectorAll("[role=dialog]").forEach((d) => {
    if (d.querySelector("h2")?.textContent === "Page not found") d.querySelector("button[aria-label=Close]")?.click();
  });
  close();
  const watch = new MutationObserver(close);
  watch.observe(document.body, {childList: true, subtree: true});
  setTimeout(() => watch.disconnect(), 20000);  // the dialog comes with a tab's first run only
})();</script>"""


_CLOSE_SIDEBAR_JS = """<script>(() => {
  const flag = "__siameseSidebarCloses";
  if (window[flag]) return;  // once per browser tab
  window[flag] = true;
  document.addEventListener("click", (event) => {
    if (!event.target.closest?.("[data-testid=stSidebarNavLink]")) return;
    setTimeout(() => {  // after Streamlit's own handler (the page change; on a "mobile" browser, the close)
      const sidebar = document.querySelector("[data-testid=stSidebar]");
      const main = document.querySelector("[data-testid=stMain]");
      if (!sidebar || !main || sidebar.dataset.collapsed === "true") return;
      if (main.getBoundingClientRect().left < sidebar.getBoundingClientRect().right - 1)  // it lies over the page
        document.querySelector("[data-testid=stSidebarCollapseButton] button")?.click();
    }, 0);
  }, true);
})();</script>"""


def sidebar_closes_after_a_choice_ui() -> None:
    """Close the sidebar after a page is chosen in it, wherever it lies over the page.

    On a screen narrower than Streamlit's breakpoint the sidebar is drawn over the page, not beside
    it. Streamlit closes it after a page is chosen only when the browser's user agent says "mobile"
    (``isMobile()``, its frontend's ``SidebarNav``): a tablet (an iPad says "iPad", or "Macintosh"),
    a phone asking for the desktop site, or a narrow window keep it open over the page, where it
    takes the next taps (measured in Chromium at 390 x 844 with touch: open after the choice with a
    desktop or iPad user agent, closed with an iPhone's). This sends a script, once per browser
    tab, that presses the sidebar's own close button just after a page link in it is clicked, when
    the sidebar overlaps the page's main area (a wide screen, where it stands beside the page,
    keeps it open). Should the script not run, the sidebar behaves as before.
    """
    st.sidebar.html(_CLOSE_SIDEBAR_JS, unsafe_allow_javascript=True)


def page_found_ui(page) -> None:
    """Close Streamlit's "Page not found" dialog over a page that was found.

    The first script run after a server start goes through Streamlit's wrapper for apps with a
    ``pages/`` folder (``PagesManager.uses_pages_directory`` is true until ``st.navigation`` is first
    called in the process, ``streamlit/runtime/scriptrunner/script_runner.py``): it looks the page up
    among the folder's files, whose addresses are their names ("Draw_and_match", not "draw"), sends
    "Page not found" for a deep link (``/draw?student=...``), then runs ``app.py``, whose
    ``st.navigation`` finds the right page and shows it under the dialog (streamlit#8860, #9992).
    The project keeps its pages in ``pages/``, and no option or hook of ``streamlit run`` runs code
    before that first run. So when ``st.navigation`` has found a page other than Home (where a
    wrong address lands), this sends a script that closes the dialog, once per browser tab, for
    20 s. ``app.py`` calls it first, before the heavier modules load: the dialog stays up until the
    script arrives (sent after them it stayed 1.1 s; before them, 0.4-0.8 s on 2 busy cores).

    Arguments:
        page: what ``st.navigation`` returned.
    """
    if page.url_path:
        st.sidebar.html(_PAGE_FOUND_JS, unsafe_allow_javascript=True)
