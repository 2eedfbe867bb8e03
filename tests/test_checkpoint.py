"""Checkpoints round-trip, refuse foreign or damaged files, and write atomically."""

import pytest
import torch

from reinflect import checkpoint
from reinflect.errors import ReinflectError


def test_round_trip(tmp_path):
    w = {"layer.weight": torch.randn(3, 4)}
    checkpoint.save(tmp_path / "m.pt", {"kind": "toy", "model": w, "config": {"a": 1}})
    back = checkpoint.load(tmp_path / "m.pt", kind="toy")
    assert torch.equal(back["model"]["layer.weight"], w["layer.weight"])
    assert back["config"] == {"a": 1} and back["format_version"] == checkpoint.FORMAT_VERSION


def test_clear_errors(tmp_path):
    with pytest.raises(ReinflectError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ReinflectError, match=r"junk\.pt: not a readable reinflect checkpoint"):
        checkpoint.load(tmp_path / "junk.pt")
    torch.save({"format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(ReinflectError, match="checkpoint format 99 is not supported"):
        checkpoint.load(tmp_path / "future.pt")
    checkpoint.save(tmp_path / "m.pt", {"kind": "mnist"})
    with pytest.raises(ReinflectError, match="a 'mnist' checkpoint, expected 'morph'"):
        checkpoint.load(tmp_path / "m.pt", kind="morph")


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    checkpoint.save(path, {"kind": "toy", "step": 1})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, {"kind": "toy", "step": 2})
    monkeypatch.undo()
    assert checkpoint.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary left behind
