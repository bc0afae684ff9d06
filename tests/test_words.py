"""#24 item 13, "Words that disagree": one source for each fact the app states. What the shipped
model is and learned from comes from its card, on Home and in the sidebar alike; alphabets are named
as people write them ("Ge'ez", not the folder's "Ge_ez"), and an older database's set under the old
name is renamed, never built twice; page icons are Streamlit's Material icons, not emoji."""
import json

import numpy as np
import pytest

from helpers import ROOT, app
from siamese.embedding.card import learned_from, model_summary, never_trained_on, read_card
from siamese.gallery import defaults
from siamese.gallery.gallery import SetKind
from siamese.gallery.schema import OMNIGLOT_PREFIX
from ui import nav

SHIPPED_CARD = ROOT / "assets" / "model_card.json"


def test_what_a_model_learned_from_is_its_cards_words():
    """The card's ``trained_on`` (written by training), or for an older card its ``data`` up to
    where the details begin; a card naming other data (a model with UNIPEN pen digits) gives other
    words, with nothing to change in the code."""
    card = read_card(SHIPPED_CARD)
    assert learned_from(card) == card["trained_on"] and "MNIST" in learned_from(card)
    assert model_summary(card) == f"Conv-4 trained on {card['trained_on']}"
    assert never_trained_on(card).endswith("never used in training") and never_trained_on(card) in card["data"]
    older = {k: v for k, v in card.items() if k != "trained_on"}
    assert learned_from(older) == "Omniglot background alphabets and the first 50,000 MNIST training digits"
    pen = {"architecture": "Conv-4 (4 x [...]) -> 128-d embedding",
           "data": "Omniglot background alphabets and the first 50,000 MNIST training digits (26 alphabets); the "
                   "digit classes also hold the pen digits of UNIPEN's training writers; evaluation alphabets and "
                   "the test writers' pen digits never used in training",
           "trained_on": "Omniglot background alphabets, MNIST training digits and digits written with a pen by "
                         "UNIPEN writers"}
    assert model_summary(pen) == ("Conv-4 trained on Omniglot background alphabets, MNIST training digits and digits "
                                  "written with a pen by UNIPEN writers")
    assert never_trained_on(pen) == "evaluation alphabets and the test writers' pen digits never used in training"
    assert model_summary({"description": "MNIST Siamese tower, 1 epoch", "threshold": 1.0}) == \
        "MNIST Siamese tower, 1 epoch"
    assert (learned_from({}), never_trained_on({}), model_summary({})) == ("", "", "a model without a card")


def test_home_and_the_model_picker_say_the_same_about_the_shipped_model(offline):
    """The sidebar's model picker called it "Conv-4 trained on Omniglot" while Home said Omniglot
    and MNIST: both now say the card's words."""
    from siamese.embedding.user_models import available_models

    card = read_card(SHIPPED_CARD)
    assert available_models()[0][0] == f"Shipped: {model_summary(card)}"
    at = app()
    captions = "\n".join(c.value for c in at.caption)
    assert f"trained on {learned_from(card)}; {never_trained_on(card)}." in captions


@pytest.mark.parametrize("folder, name", [("Ge_ez", "Ge'ez"), ("N_Ko", "N'Ko"), ("Oriya", "Oriya"),
                                          ("Old_Church_Slavonic_(Cyrillic)", "Old Church Slavonic (Cyrillic)"),
                                          ("Syriac_(Serto)", "Syriac (Serto)")])
def test_alphabets_are_named_as_people_write_them(folder, name):
    from siamese.data.datasets import alphabet_name
    assert alphabet_name(folder) == name


def test_characters_are_named_in_words():
    from siamese.data.datasets import character_name
    assert character_name("Oriya/character03") == "Oriya, character 3"
    assert character_name("Ge_ez/character10") == "Ge'ez, character 10"


def items(names):
    return [(n, np.full((28, 28), 0.5, np.float32), b"png") for n in names]


@pytest.fixture
def small_datasets(monkeypatch):
    monkeypatch.setattr(defaults, "digit_items", lambda: items("0123456789"))
    monkeypatch.setattr(defaults, "omniglot_items", lambda: {"Ge_ez": items(["character01", "character02"]),
                                                             "Oriya": items(["character01"])})


@pytest.mark.parametrize("seeded", [True, False], ids=["seeding-done", "seeding-again"])
def test_an_older_databases_ge_ez_set_is_renamed_not_built_again(gallery, small_datasets, seeded):
    """A database of a release that built "Omniglot: Ge ez" (and maybe a teacher's example in it):
    after the next start it is "Omniglot: Ge'ez", the same set (id, symbols), and there is no second
    one, whether seeding was done already or runs again (a new Digits version)."""
    old = OMNIGLOT_PREFIX + "Ge ez"
    gallery.add_set_bulk(old, SetKind.OMNIGLOT, items(["character01", "character02", "character03"]))
    set_id = gallery.revision(old)[0]
    if seeded:
        gallery.set_meta(defaults.SEEDED_KEY, "done")
        gallery.set_meta(defaults.DIGITS_KEY, defaults.digits_version())
    assert defaults.seed_default_sets(gallery) == []
    names = [s["name"] for s in gallery.sets()]
    new = OMNIGLOT_PREFIX + "Ge'ez"
    assert old not in names and names.count(new) == 1
    assert gallery.revision(new)[0] == set_id and len(gallery.symbols(new)) == 3  # kept, not rebuilt
    assert defaults.seed_default_sets(gallery) == [] and gallery.revision(new)[0] == set_id


def test_a_users_set_is_never_renamed(gallery):
    gallery.add_set_bulk(OMNIGLOT_PREFIX + "Ge ez", SetKind.USER, items(["a"]))
    assert not gallery.rename_default_set(OMNIGLOT_PREFIX + "Ge ez", OMNIGLOT_PREFIX + "Ge'ez")
    gallery.add_set_bulk("Omniglot: Tengwar", SetKind.OMNIGLOT, items(["a"]))
    gallery.add_set_bulk("Tengwar 2", SetKind.USER, items(["b"]))
    assert not gallery.rename_default_set("Omniglot: Tengwar", "Tengwar 2")  # the name is taken: nothing changes
    assert {s["name"] for s in gallery.sets()} >= {OMNIGLOT_PREFIX + "Ge ez", "Omniglot: Tengwar", "Tengwar 2"}


def test_every_page_icon_is_a_material_icon(offline):
    """Emoji icons (🏠 ➕ 📈 🎯 🧪) showed as empty boxes where no emoji font is installed; Streamlit
    serves its Material Symbols font itself. Every page of the navigation and every link to one on
    Home carries the navigation's icon of that page."""
    from streamlit.string_util import validate_material_icon

    icons = [nav.HOME_ICON] + [icon for _, icon, _ in nav.PAGES.values()]
    assert all(icon.startswith(":material/") and validate_material_icon(icon) for icon in icons)
    assert len(set(icons)) == len(icons)
    at = app()
    links = {link.proto.page: link.proto.icon for link in at.get("page_link")}  # by URL path
    by_url = {url: path for path, (_, _, url) in nav.PAGES.items()}
    assert len(links) == 5 and all(icon == nav.icon(by_url[url]) for url, icon in links.items()), links
    assert json.dumps(links).isascii()
