"""The morph model's files: the one writer and reader of its payload.

A trained model is ``model.pt`` (:mod:`reinflect.checkpoint`: the weights as
torch tensors, the vocabulary, the tag schema, the model config, the
reranking record) and, beside it, ``model.npz``: the same weights as float32
arrays with the same metadata and the sha256 of the ``model.pt`` it was made
from, which the numpy engine reads without importing torch (a fast cold
start). ``last.pt`` adds what ``--resume`` needs (optimizer, RNG, streams).

This module imports torch only inside the functions that build a torch
model, so the numpy engine can use its readers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from reinflect import checkpoint, config
from reinflect.errors import ReinflectError
from reinflect.morph import tags, vocab

KIND = "morph"
META, VOCAB = "__meta__", "__vocab__"
MODEL, NPZ = "model.pt", "model.npz"


def payload(
    *,
    weights: dict,
    model_cfg: config.MorphModelConfig,
    train_cfg: config.MorphTrainConfig,
    vocab_proto: bytes,
    schema: tags.Schema,
    step: int,
    best_dev_accuracy: float,
    lang: str | None,
    known: dict | None = None,
) -> dict:
    """What ``model.pt`` holds: everything prediction needs (weights on the CPU;
    ``known``: the training pairs, ``predict.known_pairs``)."""
    return {
        "kind": KIND,
        "model_config": config.to_dict(model_cfg),
        "train_config": {**config.to_dict(train_cfg), "kl": config.to_dict(train_cfg.kl)},
        "model": cpu_weights(weights),
        "vocab": vocab_proto,
        "schema": schema.to_dict(),
        "step": step,
        "best_dev_accuracy": best_dev_accuracy,
        "lang": lang,
        "known": known,
    }


def cpu_weights(state: dict) -> dict:
    """A state dict's tensors, detached, on the CPU (what a checkpoint stores)."""
    return {k: v.detach().cpu() for k, v in state.items()}


def model_path(path: str | os.PathLike) -> Path:
    """``path`` itself, or the ``model.pt`` of a run directory."""
    path = Path(path)
    return path / MODEL if path.is_dir() or not path.suffix else path


def load(path: str | os.PathLike, *, map_location="cpu") -> dict:
    """The payload of a morph checkpoint (``model.pt``, ``last.pt`` or a run directory)."""
    return checkpoint.load(model_path(path), kind=KIND, map_location=map_location)


def write_model(out_dir: str | os.PathLike, p: dict) -> None:
    """``out_dir/model.pt`` and its torch-free twin ``model.npz`` (both atomic)."""
    out_dir = Path(out_dir)
    checkpoint.save(out_dir / MODEL, p)
    export(p, out_dir / NPZ, source=out_dir / MODEL)


def build_model(p: dict, device="cpu"):
    """(the torch MSVED with the payload's weights, in eval mode; its vocabulary;
    its tag schema)."""
    from reinflect.morph import model as morph_model

    v = vocab.Vocab(p["vocab"])
    schema = tags.Schema.from_dict(p["schema"])
    cfg = config.MorphModelConfig(**p["model_config"])
    model = morph_model.MSVED(vocab_size=len(v), tag_sizes=schema.sizes, cfg=cfg)
    model.load_state_dict(p["model"])
    return model.to(device).eval(), v, schema


# -- the torch-free twin ------------------------------------------------------------


def export(p: dict, path: str | os.PathLike, *, source: str | os.PathLike) -> None:
    """Write ``path`` (``.npz``) from a payload ``p`` (torch tensors) that was
    saved as ``source``; atomic, like the checkpoint."""
    meta = {
        "format_version": checkpoint.FORMAT_VERSION,
        "kind": KIND,
        "model_config": p["model_config"],
        "schema": p["schema"],
        "step": p.get("step"),
        "rerank": p.get("rerank", {}),
        "known": p.get("known"),
        "checkpoint_sha256": checkpoint.sha256_of(source),
    }
    arrays = {k: v.detach().float().cpu().numpy() for k, v in p["model"].items()}
    arrays[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays[VOCAB] = np.frombuffer(p["vocab"], dtype=np.uint8)
    checkpoint.atomic_write(path, lambda f: np.savez(f, **arrays))


def read_npz(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict, bytes]:
    """(weights, metadata, vocabulary proto) of a ``model.npz``; one clear error
    for a damaged, foreign or other-version file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop(META).tobytes())
        proto = arrays.pop(VOCAB).tobytes()
    except Exception as e:
        raise ReinflectError(f"{path}: not a readable reinflect model ({type(e).__name__})") from e
    if meta.get("kind") != KIND or meta.get("format_version") != checkpoint.FORMAT_VERSION:
        raise ReinflectError(f"{path}: not a reinflect {KIND} model of this version")
    return arrays, meta, proto


def companion(checkpoint_path: str | os.PathLike) -> Path | None:
    """The ``model.npz`` that belongs to ``checkpoint_path`` (same directory, made
    from exactly that file, or alone there), or None."""
    checkpoint_path = Path(checkpoint_path)
    npz = checkpoint_path.with_suffix(".npz")
    if not npz.is_file():
        return None
    if not checkpoint_path.exists():
        return npz
    try:
        with np.load(npz, allow_pickle=False) as f:
            meta = json.loads(f[META].tobytes())
    except Exception:  # damaged or foreign: the torch checkpoint still works
        return None
    return npz if meta.get("checkpoint_sha256") == checkpoint.sha256_of(checkpoint_path) else None
