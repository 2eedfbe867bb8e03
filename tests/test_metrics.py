"""The evaluation metrics: exact match, mean Levenshtein, chrF, per group."""

import pytest

from reinflect import metrics


def test_scores_by_hand_and_each_group_scores_like_its_subset():
    preds = ["walked", "sang", "goed", "mice"]
    golds = ["walked", "sung", "went", "mice"]
    kinds = ["rule", "irregular", "irregular", "rule"]
    s = metrics.score(preds, golds, kinds)
    assert (s["correct"], s["total"], s["accuracy"]) == (2, 4, 50.0)
    assert s["levenshtein"] == pytest.approx((0 + 1 + 4 + 0) / 4)
    assert s["by_tag"]["rule"] | {"chrf": 0} == {
        "accuracy": 100.0,
        "levenshtein": 0.0,
        "chrf": 0,
        "correct": 2,
        "total": 2,
    }
    assert s["by_tag"]["irregular"] == metrics.score(["sang", "goed"], ["sung", "went"])
    assert s["by_tag"]["rule"]["chrf"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="3 predictions for 4 gold forms"):
        metrics.score(preds[:3], golds)
