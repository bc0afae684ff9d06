"""The browser tests' waits hold when a rerun replaces the element waited for (issue #24: a wait
on an element handle failed under load). A static page stands in for the app: no server needed.

Every wait in tests/browser.py and the browser test modules looks elements up by locator; the one
that held a handle (``delete_symbol``'s) is tested here as the app behaves at its slowest: the
Delete button is replaced by a new, enabled one only after the handle could have been taken."""
import pytest

from browser import delete_symbol

pytestmark = pytest.mark.browser

# Register's "Rename or delete" panel as a rerun leaves it: ticking the confirmation re-creates the
# Delete button (enabled) 0.8 s later; pressing it removes "star (1)" from the list 0.3 s later.
PANEL = """<div data-testid="stApp">
  <div id="list">star (1)<br>ring (1)</div>
  <label><input type="checkbox" id="tick"> Yes, delete it and all its sketches</label>
  <div id="slot"><button disabled>Delete</button></div>
</div>
<script>
  tick.addEventListener("change", () => setTimeout(() => {
    const b = document.createElement("button");
    b.textContent = "Delete";
    b.onclick = () => setTimeout(() => { list.innerHTML = "ring (1)"; }, 300);
    slot.replaceChildren(b);
  }, 800));
</script>"""


def test_delete_waits_for_the_button_a_rerun_puts_in_place_of_the_old_one(browser):
    page = browser.new_page()
    page.set_content(PANEL)
    body = delete_symbol(page, "star (1)", "ring (1)")
    assert "ring (1)" in body and "star (1)" not in body
    page.close()
