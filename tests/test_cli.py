"""The command line on real data (CI): evaluation and a few training episodes."""
import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT

pytestmark = pytest.mark.realdata


@pytest.mark.slow
def test_evaluate_prints_accuracy_and_interval(real_data_dir, tmp_path):
    out = tmp_path / "eval.json"
    proc = subprocess.run([sys.executable, "-m", "siamese", "evaluate", "--protocol", "within-alphabet", "--way", "20",
                           "--shot", "1", "--episodes", "20", "--json", str(out)], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={**__import__("os").environ, "SIAMESE_DATA_DIR": str(real_data_dir)})
    assert "20-way 1-shot within-alphabet:" in proc.stdout and "95% CI" in proc.stdout
    res = json.loads(out.read_text())
    assert res["queries"] == 400 and res["ci95"][0] <= res["accuracy"] <= res["ci95"][1]
    assert res["accuracy"] > 0.5  # far above chance (5%) for the shipped model


@pytest.mark.slow
def test_training_learns_and_keeps_evaluation_alphabets_out(real_data_dir, monkeypatch):
    from siamese.data.datasets import load_omniglot, split_background
    from siamese.embedding.training import TrainConfig, embed_array, train_embedding
    from siamese.fewshot.evaluation import evaluate

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    bg = load_omniglot("background")
    train, val = split_background(bg)
    assert not set(bg.alphabet_of_image[train]) & set(bg.alphabet_of_image[val])
    assert val.sum() > 0 and train.sum() > 10 * val.sum() / 2
    model, history = train_embedding(bg, TrainConfig(episodes=60, way=10, queries=3, validate_every=30),
                                     log=lambda s: None)
    assert [h["episode"] for h in history["validation"]] == [30, 60]
    ev = load_omniglot("evaluation")
    emb = embed_array(model, ev.images)
    res = evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, 5, 1, "within-alphabet", episodes=80)
    assert res.ci_low > 0.2  # 60 episodes already beat chance (20%)
    assert np.isfinite(emb).all()


@pytest.mark.slow
def test_compare_writes_each_variants_history_as_json(real_data_dir, tmp_path):
    out = tmp_path / "compare.json"
    proc = subprocess.run([sys.executable, "-m", "siamese", "compare", "--preset", "lecture", "--epochs", "2",
                           "--n-pairs", "400", "--batch-size", "64", "--seed", "3", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "SIAMESE_DATA_DIR": str(real_data_dir)})
    assert "Shared tower + distance (Siamese): " in proc.stdout and "after epoch 2." in proc.stdout
    res = json.loads(out.read_text())
    assert list(res) == ["dataset", "preset", "settings", "seed", "lecture_init", "pairs", "wall_seconds", "variants"]
    assert (res["dataset"], res["preset"], res["seed"], res["lecture_init"]) == ("mnist", "lecture", 3, False)
    assert res["settings"] == {"epochs": 2, "batch_size": 64, "n_pairs": 400}  # the preset, overridden
    assert list(res["variants"]) == ["separate", "shared", "siamese"]
    for variant in res["variants"].values():
        assert list(variant) == ["name", "params", "seconds", "stopped", "epochs"] and not variant["stopped"]
        assert [e["epoch"] for e in variant["epochs"]] == [1, 2]
        assert list(variant["epochs"][0]) == ["variant", "epoch", "loss", "pair_accuracy", "val_loss",
                                              "val_pair_accuracy", "seconds", "partial"]
        assert {e["variant"] for e in variant["epochs"]} == {variant["name"]}


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "epochs must be a whole number of at least 1, not 0"),
    ("--batch-size", "-16", "batch size must be a whole number of at least 1, not -16"),
    ("--n-pairs", "1", "training pairs must be a whole number of at least 2, not 1"),
    ("--seed", "-1", "seed must be a whole number of at least 0, not -1"),
])
def test_compare_refuses_invalid_settings_before_loading_data(option, value, message, monkeypatch):
    from siamese.cli import main

    monkeypatch.setenv("SIAMESE_DATA_DIR", "/nonexistent")  # a data error would mean it got that far
    with pytest.raises(SystemExit) as exit_:
        main(["compare", option, value])
    assert str(exit_.value.code) == f"python -m siamese compare: {message}"


def tiny_embedding():
    """A (n, 28, 28) -> (n, 4) Keras model: enough for the commands' bookkeeping, trained on nothing."""
    import keras
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(4)])


@pytest.mark.realdata
def test_one_rule_says_where_a_models_card_lives_for_every_command(real_data_dir, tmp_path, monkeypatch):
    """#24 item 16: ``train --out x/emb.keras`` wrote ``x/model_card.json`` while loading
    ``x/emb.keras`` looked for ``x/emb.json``, so the model was served without its card and
    ``official-runs --write-card`` failed. Now the card is where :func:`card_path_for` says, for
    training, loading and recording; the shipped model's card is found from a relative path too."""
    import siamese.data.datasets
    import siamese.embedding.training
    import siamese.measure.report
    from siamese import load_matcher
    from siamese.embedding.card import card_path_for, read_card
    from siamese.cli import main
    from siamese.embedding.matcher import file_model_id
    from siamese.paths import ASSETS_DIR

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    # The command's own steps run; the hour of training and its measurements are left out.
    monkeypatch.setattr(siamese.data.datasets, "load_omniglot", lambda split: type("Split", (), {"labels": np.zeros(1)})())
    monkeypatch.setattr(siamese.embedding.training, "check_episodes", lambda labels, cfg: None)
    monkeypatch.setattr(siamese.data.datasets, "split_background", lambda bg: (np.zeros(1, bool), np.zeros(1, bool)))
    monkeypatch.setattr(siamese.embedding.training, "train_embedding", lambda *a, **k: (tiny_embedding(), {}))
    monkeypatch.setattr(siamese.measure.report, "trained_embedding_card",
                        lambda model, out, *a, **k: {"model_id": file_model_id(out), "threshold": 1.25})
    out = tmp_path / "x" / "emb.keras"
    main(["train", "--out", str(out), "--digits", "0"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["emb.json", "emb.keras"]
    assert card_path_for(out) == out.parent / "emb.json"
    matcher = load_matcher(out)
    assert matcher.threshold == 1.25 and matcher.card["model_id"] == matcher.model_id  # its own card, not the shipped one's
    main(["official-runs", "--model", str(out), "--write-card"])
    card = read_card(out.parent / "emb.json")
    assert card["threshold"] == 1.25 and card["official_runs"]["trials"] == 400
    monkeypatch.chdir(ROOT)  # the shipped model named as a person types it
    for typed in ("assets/embedding.keras", "./assets/../assets/embedding.keras"):
        assert card_path_for(typed).resolve() == ASSETS_DIR / "model_card.json", typed
    assert load_matcher("assets/embedding.keras").card == read_card(ASSETS_DIR / "model_card.json")


def test_ship_runs_every_step_of_the_shipped_model_in_order(monkeypatch):
    """``python -m siamese ship`` is the one command behind the shipped assets: it trains, then
    makes everything the app reads from the model (Digits set, open-set calibration, official
    runs, histograms), and the card records ``ship`` as the command that made it."""
    import siamese.cli as cli

    calls = []
    real_main = cli.main
    monkeypatch.setattr(cli, "main", lambda argv=None: calls.append(argv))
    real_main(["ship"])
    assert [c[0] for c in calls] == ["train", "digit-references", "calibrate-openset", "official-runs",
                                     "distance-histograms"]
    assert calls[0][-2:] == ["--command-line", "python -m siamese ship"] and "--pen-widths" in calls[0]
    assert "--write-card" in calls[3]
