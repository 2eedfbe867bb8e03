"""Defaults chosen from the training set's size, where the user chose nothing.

Where labeled pairs are few (at most :data:`SMALL` of them, as in
CoNLL-SIGMORPHON 2017's low and medium settings) a run copies from the source
(``copy``, with source attention) and adds :data:`HALLUCINATE` hallucinated
pairs per real pair; above, both stay off (measured at 100 and 1,000 pairs on
the 2017 development languages, and at SIGMORPHON 2016's 12.8k pairs, where
hallucination cost a point: results/README.md, "Small data"). Dev checks come
every :data:`CHECK_PASSES` passes over the pairs (real and hallucinated),
between :data:`CHECK_MIN` and :data:`CHECK_MAX` updates, so that a short run
still has a learning curve. ``reinflect train`` logs what was chosen.
"""

from __future__ import annotations

import dataclasses
import math

from reinflect.config import MorphModelConfig, MorphTrainConfig

SMALL = 2_000
HALLUCINATE = 2.0
CHECK_PASSES = 4
CHECK_MIN, CHECK_MAX = 50, 500


def choose(
    model: MorphModelConfig, train: MorphTrainConfig, pairs: int
) -> tuple[MorphModelConfig, MorphTrainConfig, list[str]]:
    """The configs with every by-size field (None) set for ``pairs`` labeled
    pairs, and a line per choice saying what was chosen and why."""
    small = pairs <= SMALL
    size = f"{pairs} training pairs, {'at most' if small else 'over'} {SMALL}"
    notes = []
    if model.copy is None:
        attend = model.source_attention or small
        model = dataclasses.replace(model, copy=small, source_attention=attend)
        notes.append(f"copy from the source: {'on' if small else 'off'} ({size})")
    if train.hallucinate is None:
        train = dataclasses.replace(train, hallucinate=HALLUCINATE if small else 0.0)
        notes.append(f"hallucinate: {train.hallucinate:g} per pair ({size})")
    if train.eval_every is None:
        per_pass = pairs * (1.0 + train.hallucinate) / train.batch_size
        every = min(CHECK_MAX, max(CHECK_MIN, math.ceil(CHECK_PASSES * per_pass)))
        train = dataclasses.replace(train, eval_every=every)
        notes.append(f"dev check every {every} updates (about {CHECK_PASSES} passes)")
    return model, train, notes
