"""The dev-file error analysis (kinds of mistake) and the cross-validated
reranking number that benchmarks report beside the dev-selected one."""

import math
import random

import pytest

from reinflect.morph import errors, predict


@pytest.mark.parametrize(
    "source, gold, predicted, expected",
    [
        ("spielen", "gespielt", "gespielt", "correct"),
        ("spielen", "gespielt", "spielen", "copy"),
        ("spielen", "gespielt", "spielte", "wrong affix"),  # keeps "spiel"
        ("spielen", "gespielt", "gespalt", "garbled stem"),
        ("go", "went", "goed", "garbled stem"),  # no shared stem to keep
    ],
)
def test_each_kind_of_mistake(source, gold, predicted, expected):
    assert errors.kind(source, gold, predicted) == expected


def test_the_stem_is_the_longest_shared_stretch():
    assert errors.stem("kitaplar", "kitabım") == "kita"
    assert errors.stem("go", "went") == ""


def test_summary_counts_every_row_and_shows_examples():
    s = errors.summary(
        ["walk", "walk", "sing", "sing"],
        ["walked", "walks", "sang", "sung"],
        ["walked", "walk", "singed", "xyz"],
        examples=1,
    )
    assert s["counts"] == {"correct": 1, "copy": 1, "wrong affix": 1, "garbled stem": 1}
    assert s["examples"]["copy"] == ["walk -> walk (walks)"]
    assert sum(s["counts"].values()) == 4
    with pytest.raises(ValueError):
        errors.summary(["a"], ["b", "c"], ["d"])


def _beams(n, seed):
    rng = random.Random(seed)
    return [
        [
            predict.Hypothesis(f, rng.uniform(-3, 0), rng.uniform(-3, 0), rng.uniform(-3, 0))
            for f in "ab"
        ]
        for _ in range(n)
    ]


GRID = predict.rerank_settings([0.0, 0.25, 0.5, 1.0, 2.0], [None, 1.0], [0.0, 0.5])


def test_a_setting_right_everywhere_carries_to_held_out_rows():
    scored = _beams(60, 0)
    targets = [h[0][0] for h in predict.rank(scored, GRID[5])]
    cv = predict.cross_validated_rerank(scored, targets, GRID)
    assert cv["dev_selected"] == 100.0
    assert cv["cross_validated"] == [100.0] * 3


def test_choosing_on_noise_overstates_what_held_out_rows_get():
    scored = _beams(200, 1)
    targets = [random.Random(i).choice("ab") for i in range(200)]
    cv = predict.cross_validated_rerank(scored, targets, GRID)
    best = max(predict.rerank_accuracy(scored, targets, g) for g in GRID)
    assert cv["dev_selected"] == pytest.approx(best, abs=1e-3)
    assert cv["cross_validated_mean"] < cv["dev_selected"]
    assert set(cv["chosen"]) == {"weight", "floor", "roundtrip", "rules", "first"}


def test_the_accuracy_table_agrees_with_ranking_each_beam():
    """rerank_hits scores every setting at once; it must pick what rank puts
    first, with unscored hypotheses, the rules' added forms and ties."""
    rng = random.Random(2)
    H = predict.Hypothesis
    scored = []
    for _ in range(300):
        beam = [
            H(
                f,
                rng.choice([-1.0, -2.0, rng.uniform(-3, 0)]),
                rng.choice([-math.inf, -1.0, rng.uniform(-9, 0)]),
                rng.uniform(-3, 0),
                rng.choice([0.0, 1.0]),
                added=i >= 3,
                first=float(i == 3),
            )
            for i, f in enumerate(rng.sample("abcdef", rng.randint(1, 5)))
        ]
        scored.append(beam)
    targets = [rng.choice("abcdef") for _ in scored]
    grid = predict.rerank_settings([0.0, 1.0], [None, 2.0], [0.0, 0.5], [0.0, 4.0], [0.0, 2.0])
    hits = predict.rerank_hits(scored, targets, grid)
    for g, row in zip(grid, hits, strict=True):
        first = [b[0].form if b else "" for b in predict.rank(scored, g)]
        assert row.tolist() == [f == t for f, t in zip(first, targets, strict=True)]
