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
