"""The app with its gallery in PostgreSQL, under Streamlit's AppTest: it starts without its database
and says what is unavailable (naming the database without its password), and a database lost in
the middle of a session is said so at the next rerun, then found again with nothing lost."""
from helpers import SHAPES
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery
from helpers import add_symbol, app, texts
from ui import nav

UNAVAILABLE = "cannot be reached, so matching against the stored sets and registering symbols are unavailable"


def test_the_app_starts_without_its_database_and_says_matching_is_unavailable(offline, monkeypatch, postgres):
    closed = postgres.port + 1 if postgres.port < 65535 else 1
    monkeypatch.setenv("SIAMESE_DATABASE_URL", f"postgresql://ana:s3cret@127.0.0.1:{closed}/siamese")
    at = app()
    body = texts(at)
    assert "One-shot learning" in body and at.metric  # Home still explains, and shows the model
    assert UNAVAILABLE in body and f"postgresql://ana@127.0.0.1:{closed}/siamese" in body
    assert "s3cret" not in body
    for page in (nav.DRAW, nav.REGISTER):
        at.switch_page(page).run()
        assert not at.exception and UNAVAILABLE in texts(at) and "s3cret" not in texts(at)


def test_the_database_lost_mid_session_is_said_then_found_again(offline, monkeypatch, postgres, postgres_url):
    from ui import resources

    monkeypatch.setenv("SIAMESE_DATABASE_URL", postgres_url)
    add_symbol("star", SHAPES["star"])
    at = app(nav.DRAW)
    assert f"{CLASS_SYMBOLS} (1 symbol)" in at.selectbox[0].options
    postgres.stop()
    try:
        at.run()
        assert not at.exception and UNAVAILABLE in texts(at)
        assert f"127.0.0.1:{postgres.port}/gallery" in texts(at)
    finally:
        postgres.start()
    resources._failures.clear()  # as when RETRY_AFTER_S has passed
    at.run()
    assert not at.exception and UNAVAILABLE not in texts(at)
    assert f"{CLASS_SYMBOLS} (1 symbol)" in at.selectbox[0].options
    assert [s["name"] for s in Gallery(postgres_url).symbols(CLASS_SYMBOLS)] == ["star"]
