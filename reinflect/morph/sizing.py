"""Defaults chosen from the training set's size, where the user chose nothing.

Where labeled pairs are few (at most :data:`SMALL` of them, as in
CoNLL-SIGMORPHON 2017's low and medium settings) a run copies from the source
(``copy``, with hard monotonic attention, :data:`STYLE_SMALL`, unless the user
asked for source attention) and adds :data:`HALLUCINATE` hallucinated pairs
per real pair; above, both stay off (measured at 100 and 1,000 pairs on the
2017 development languages, and at SIGMORPHON 2016's 12.8k pairs, where
hallucination cost a point: results/README.md, "Small data"). At or below
:data:`STEM_MAX` pairs, where there is source attention, each unlabeled word
is rebuilt from its stem (the word with a random ending cut off,
``unlabeled_source="stem"``): ahead at 100 pairs on the development
languages, not shown at 1,000 (results/README.md, "Unlabeled words rebuilt
from their stems"). Between :data:`STEM_MAX` and :data:`SMALL` pairs the
unlabeled words are off (``supervised_only``): at 1,000 pairs a run without
them makes more updates in the same minutes and was ahead on every
development language measured (results/README.md, "Medium with the edit
rules: supervised-only against the default"); at 100 pairs and at
SIGMORPHON 2016's sizes they are on. Dev checks come
every :data:`CHECK_PASSES` passes over the pairs (real and hallucinated),
between :data:`CHECK_MIN` and :data:`CHECK_MAX` updates, so that a short run
still has a learning curve. The KL(z) weight starts at once and fast at or
below :data:`SMALL` pairs, after :data:`KL_DELAY` updates above (results/
README.md, "The KL(z) weight from the start at small sizes"). Adam's learning
rate is :data:`LR_SMALL` at or below :data:`SMALL` pairs and :data:`LR` above:
a run of a few minutes on a small set is cut off long before it converges,
and the larger step was ahead at 1,000 pairs on every development language
measured and at 100 pairs on most (results/README.md, "The learning rate at
small sizes"). The model's
sizes are MSVED's (:data:`PAPER`) above :data:`SMALL_MODEL` pairs and
:data:`SMALL_SIZES` at or below: at 100
pairs the smaller model makes about twice the updates in the same minutes and
was ahead on most development languages, at 1,000 the paper's was (results/
README.md, "Model size by the training set's size"). ``reinflect train``
logs what was chosen.
"""

from __future__ import annotations

import dataclasses
import math

from reinflect.config import MODEL_SIZES, MorphModelConfig, MorphTrainConfig

SMALL = 2_000
HALLUCINATE = 2.0
STYLE_SMALL = "monotonic"  # the source attention chosen at or below SMALL pairs
CHECK_PASSES = 4
CHECK_MIN, CHECK_MAX = 50, 500
# MorphModelConfig's sizes (config.MODEL_SIZES): the paper's (Zhou & Neubig
# 2017), and the smaller model used at or below SMALL_MODEL pairs.
PAPER = {"char_embedding": 300, "encoder_hidden": 256, "latent": 150, "tag_embedding": 200,
         "decoder_hidden": 256}  # fmt: skip
SMALL_SIZES = {"char_embedding": 100, "encoder_hidden": 128, "latent": 64, "tag_embedding": 64,
               "decoder_hidden": 128}  # fmt: skip
SMALL_MODEL = 500
# At or below STEM_MAX pairs, with source attention, an unlabeled word is rebuilt
# from its stem (MorphTrainConfig.unlabeled_source "stem"); above, from z and y.
STEM_MAX = 500
# The KL(z) schedule (linear to MorphTrainConfig's cap): MSVED's rate from update
# KL_DELAY above SMALL pairs; at or below, from the start at KL_RATE_SMALL (the
# cap within a few hundred updates), so that z does not grow to carry the whole
# source word, tags and all, in a run too short to reach the delay.
KL_DELAY, KL_RATE = 3_000, 1.0 / 150_000
KL_RATE_SMALL = 1e-3
# Adam's learning rate above SMALL pairs (MSVED's) and at or below.
LR, LR_SMALL = 1e-3, 2e-3


def _side(pairs: int, limit: int) -> str:
    """Which side of ``limit`` ``pairs`` falls, as the notes say it."""
    return f"{pairs} training pairs, {'at most' if pairs <= limit else 'over'} {limit}"


def choose(
    model: MorphModelConfig, train: MorphTrainConfig, pairs: int
) -> tuple[MorphModelConfig, MorphTrainConfig, list[str]]:
    """The configs with every by-size field (None) set for ``pairs`` labeled
    pairs, and a line per choice saying what was chosen and why."""
    small = pairs <= SMALL
    size = _side(pairs, SMALL)
    notes = []
    if model.copy is None:
        style = model.source_attention_style
        if small and not model.source_attention:  # attention chosen here: its style too
            style = STYLE_SMALL
        attend = model.source_attention or small
        model = dataclasses.replace(
            model, copy=small, source_attention=attend, source_attention_style=style
        )
        how = f"on, {style} source attention" if small else "off"
        notes.append(f"copy from the source: {how} ({size})")
    unsized = [n for n in MODEL_SIZES if getattr(model, n) is None]
    if unsized:
        sizes = SMALL_SIZES if pairs <= SMALL_MODEL else PAPER
        model = dataclasses.replace(model, **{n: sizes[n] for n in unsized})
        shown = ", ".join(f"{n} {sizes[n]}" for n in unsized)
        notes.append(f"model sizes: {shown} ({_side(pairs, SMALL_MODEL)})")
    if train.supervised_only is None:
        # an unlabeled source the user chose asks for the unlabeled words
        alone = STEM_MAX < pairs <= SMALL and train.unlabeled_source is None
        train = dataclasses.replace(train, supervised_only=alone)
        where = _side(pairs, SMALL if pairs > SMALL else STEM_MAX)
        if alone:
            where += f" and at most {SMALL}"
        notes.append(f"unlabeled words: {'off' if alone else 'on'} ({where})")
    if train.unlabeled_source is None:
        stems = pairs <= STEM_MAX and model.source_attention and not train.supervised_only
        source = "stem" if stems else "none"
        train = dataclasses.replace(train, unlabeled_source=source)
        if not train.supervised_only:
            how = "the word with a random ending cut off" if source == "stem" else "z and y alone"
            notes.append(f"unlabeled words rebuilt from: {how} ({_side(pairs, STEM_MAX)})")
    if train.hallucinate is None:
        train = dataclasses.replace(train, hallucinate=HALLUCINATE if small else 0.0)
        notes.append(f"hallucinate: {train.hallucinate:g} per pair ({size})")
    kl = train.kl
    if kl.delay is None or kl.rate is None:
        delay = kl.delay if kl.delay is not None else (0 if small else KL_DELAY)
        rate = kl.rate if kl.rate is not None else (KL_RATE_SMALL if small else KL_RATE)
        train = dataclasses.replace(train, kl=dataclasses.replace(kl, delay=delay, rate=rate))
        notes.append(f"KL(z) weight: from update {delay}, {rate:.3g} per update ({size})")
    if train.lr is None:
        train = dataclasses.replace(train, lr=LR_SMALL if small else LR)
        notes.append(f"learning rate: {train.lr:g} ({size})")
    if train.eval_every is None:
        per_pass = pairs * (1.0 + train.hallucinate) / train.batch_size
        every = min(CHECK_MAX, max(CHECK_MIN, math.ceil(CHECK_PASSES * per_pass)))
        train = dataclasses.replace(train, eval_every=every)
        notes.append(f"dev check every {every} updates (about {CHECK_PASSES} passes)")
    return model, train, notes
