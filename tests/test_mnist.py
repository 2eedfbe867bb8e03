"""MNIST loaders, a short M2 run that learns, and the CLI in-process."""

import gzip
import json
import re
import struct

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from reinflect import cli, config
from reinflect.errors import DataMissingError, ReinflectError
from reinflect.mnist import data
from reinflect.mnist import train as mnist_train

runner = CliRunner()


def _write_idx(path, array: np.ndarray, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_reader_round_trip_and_bad_magic(tmp_path):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", arr)
    assert np.array_equal(data.read_idx(tmp_path / "a.gz"), arr)
    _write_idx(tmp_path / "b.gz", arr, magic_type=0x0D)
    with pytest.raises(ReinflectError, match=r"b\.gz: not an IDX file"):
        data.read_idx(tmp_path / "b.gz")


def test_amat_reader(tmp_path):
    bits = np.random.default_rng(0).integers(0, 2, size=(3, 784))
    text = "".join(" ".join(str(b) for b in row) + "\n" for row in bits)
    (tmp_path / "x.amat.gz").write_bytes(gzip.compress(text.encode()))
    assert np.array_equal(data.read_amat(tmp_path / "x.amat.gz"), bits)
    (tmp_path / "bad.amat.gz").write_bytes(gzip.compress(b"0 1\n"))
    with pytest.raises(ReinflectError, match="not a whole number of 784-pixel lines"):
        data.read_amat(tmp_path / "bad.amat.gz")


def test_missing_data_names_where_and_how(tmp_path, monkeypatch):
    monkeypatch.delenv("REINFLECT_DATA_MIRROR", raising=False)
    with pytest.raises(DataMissingError, match="mnist data not found") as e:
        data.load_mnist(tmp_path)
    assert str(tmp_path) in str(e.value) and "REINFLECT_DATA_MIRROR" in str(e.value)
    result = runner.invoke(
        cli.app, ["mnist", "train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: mnist data not found")
    assert len(result.stderr.strip().splitlines()) == 1


def test_real_files_load(data_mirror):
    splits = data.load_mnist()
    assert [len(s.images) for s in splits.values()] == [50_000, 10_000, 10_000]
    assert splits["train"].images.max() == 1.0
    assert abs(float(data.load_binarized()["test"].images.mean()) - 0.13251) < 1e-4
    idx = data.balanced_labeled_subset(splits["train"].labels, 100, seed=3)
    assert torch.bincount(splits["train"].labels[idx]).tolist() == [10] * 10


def test_short_m2_run_learns(data_mirror, tmp_path):
    cfg = config.MnistConfig(
        model="m2", labels=100, train_size=3000, epochs=4, batch_size=100, hidden=(256,), latent=16
    )
    summary = mnist_train.train_model(cfg, tmp_path, progress=False, plots=False)
    records = mnist_train.train.MetricsLog.read(tmp_path / "metrics.jsonl")
    assert len(records) == 4
    assert records[-1]["loss"] < records[0]["loss"]
    # Chance is 90% error; 100 labels and 3000 images already do far better.
    assert summary["test_error"] < 0.45
    assert min(r["valid_error"] for r in records) == pytest.approx(
        mnist_train.evaluate(tmp_path, split="valid")["valid_error"]
    )


def test_cli_m1_train_evaluate_and_pictures(data_mirror, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "m1"
    args = ["mnist", "train", "--model", "m1", "--latent", "2", "--hidden", "64"]
    args += ["--train-size", "1000", "--epochs", "2", "--out", str(out), "--no-progress"]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "test_elbo=" in result.stdout
    assert {"samples.png", "manifold.png", "curves.png"} <= {p.name for p in out.iterdir()}
    result = runner.invoke(cli.app, ["mnist", "evaluate", str(out), "--iwae-k", "20", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["iwae_k"] == 20
    assert scores["test_log_likelihood"] >= scores["test_elbo"] - 1.0


def test_cli_rejects_bad_options(tmp_path):
    result = runner.invoke(cli.app, ["mnist", "train", "--hidden", "big", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--hidden must be comma-separated integers" in result.stderr
    result = runner.invoke(cli.app, ["mnist", "train", "--labels", "15", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "--labels must be a multiple of 10 (equal per class), got 15" in result.stderr
    result = runner.invoke(cli.app, ["mnist", "evaluate", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no checkpoint at" in result.stderr


def test_gated_layers_and_dynamic_binarization(data_mirror, tmp_path):
    from reinflect.mnist import model as mnist_model

    m = mnist_model.build(
        config.MnistConfig(model="m1", hidden=(32, 32), activation="gated", latent=4)
    )
    assert isinstance(m.encoder.body[0], mnist_model.GatedLinear)
    assert isinstance(m.encoder.body[2], mnist_model.GatedLinear)  # every encoder layer is gated
    cfg = config.MnistConfig(
        model="m2",
        train_size=500,
        epochs=1,
        batch_size=100,
        hidden=(32,),
        latent=4,
        dynamic_binarization=True,
    )
    summary = mnist_train.train_model(cfg, tmp_path, progress=False, plots=False)
    assert 0.0 <= summary["test_error"] <= 1.0


@pytest.mark.parametrize("estimator", ["gumbel", "reinforce"])
def test_m2_trains_with_sampling_estimators(data_mirror, tmp_path, estimator):
    cfg = config.MnistConfig(
        model="m2",
        estimator=estimator,
        train_size=1000,
        epochs=2,
        batch_size=100,
        hidden=(64,),
        latent=8,
    )
    mnist_train.train_model(cfg, tmp_path, progress=False, plots=False)
    records = mnist_train.train.MetricsLog.read(tmp_path / "metrics.jsonl")
    assert records[-1]["loss"] < records[0]["loss"]
    assert all(0.0 <= r["valid_error"] <= 1.0 for r in records)


def test_cli_mnist_defaults_are_the_config_defaults():
    import typer.main

    from reinflect import cli, config

    params = {
        p.name: p.default
        for p in typer.main.get_command(cli.app).commands["mnist"].commands["train"].params
    }
    cfg = config.MnistConfig()
    for name in ("labels", "latent", "epochs", "alpha", "lr", "lr_decay", "batch_size", "seed"):
        assert params[name] == getattr(cfg, name), name
    assert params["model"].value == cfg.model and params["estimator"].value == cfg.estimator
    assert params["activation"].value == cfg.activation
    assert params["hidden"] == ",".join(map(str, cfg.hidden))
    assert (
        params["kl_weight"] == cfg.kl.cap
        and params["dynamic_binarization"] == cfg.dynamic_binarization
    )


def _tiny_m1(epochs=3):
    # 500 images in batches of 100: 5 updates per epoch
    return config.MnistConfig(
        model="m1", train_size=500, epochs=epochs, batch_size=100, hidden=(16,), latent=2
    )


def test_a_non_finite_loss_skips_the_batch_and_repeated_ones_stop(
    data_mirror, tmp_path, monkeypatch, caplog
):
    """The MNIST loop shares the reinflection loop's rule (training.BadBatches)."""
    from reinflect.mnist import objective

    real, calls = objective.m1_loss, [0]

    def nan_at_the_second(model, x, **kw):
        calls[0] += 1
        loss, stats = real(model, x, **kw)
        return (loss * float("nan"), stats) if calls[0] == 2 else (loss, stats)

    monkeypatch.setattr(objective, "m1_loss", nan_at_the_second)
    with caplog.at_level("WARNING", logger="reinflect"):
        mnist_train.train_model(_tiny_m1(1), tmp_path / "once", progress=False, plots=False)
    assert "non-finite loss at step 2: batch skipped" in caplog.text
    model, _ = mnist_train.load_model(tmp_path / "once")
    assert all(torch.isfinite(p).all() for p in model.parameters())

    def always_nan(model, x, **kw):
        loss, stats = real(model, x, **kw)
        return loss * float("nan"), stats

    monkeypatch.setattr(objective, "m1_loss", always_nan)
    with pytest.raises(ReinflectError, match="NaN or infinite for 5 batches in a row") as e:
        mnist_train.train_model(_tiny_m1(), tmp_path / "never", progress=False, plots=False)
    assert "no model was saved (no validation came before)" in str(e.value)
    assert not (tmp_path / "never" / "model.pt").exists()


def test_a_signal_stops_mnist_training_keeping_the_best_model(data_mirror, tmp_path, monkeypatch):
    import os
    import signal

    from reinflect.mnist import objective
    from reinflect.training import Interrupted

    real, calls = objective.m1_loss, [0]

    def term_in_the_second_epoch(model, x, **kw):
        calls[0] += 1
        if calls[0] == 7:
            os.kill(os.getpid(), signal.SIGTERM)  # caught: the step ends, then training
        return real(model, x, **kw)

    monkeypatch.setattr(objective, "m1_loss", term_in_the_second_epoch)
    with pytest.raises(Interrupted) as e:
        mnist_train.train_model(_tiny_m1(), tmp_path, progress=False, plots=False)
    assert e.value.code == 128 + signal.SIGTERM
    assert re.search(r"interrupted at step \d+ \(epoch 2\)", str(e.value))
    assert "model.pt holds the best model so far" in str(e.value)
    assert torch.load(tmp_path / "model.pt", weights_only=True)["epoch"] == 1
    assert len(mnist_train.train.MetricsLog.read(tmp_path / "metrics.jsonl")) == 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
