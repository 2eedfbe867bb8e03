"""The pointer-generator copy (``--copy``): the next-character distribution is
the generator's softmax and the attention's mass on the source's characters,
mixed by the gate; a copying model learns to carry stems it has never seen,
unknown characters included."""

import random

import pytest
import torch
from helpers import SMALL, greedy_accuracy, train_supervised

from reinflect import config
from reinflect.morph import model as morph_model
from reinflect.morph.vocab import EOS, UNK

V = 12


def _pair(style):
    """A copying model and the same weights without the copy."""
    attention = config.source_attention(style)
    copying = morph_model.MSVED(
        vocab_size=V, tag_sizes=[3, 4], cfg=config.MorphModelConfig(**SMALL, **attention, copy=True)
    ).eval()
    plain = morph_model.MSVED(
        vocab_size=V, tag_sizes=[3, 4], cfg=config.MorphModelConfig(**SMALL, **attention)
    ).eval()
    missing, unexpected = plain.load_state_dict(copying.state_dict(), strict=False)
    assert not missing and unexpected == ["copy_gate.weight", "copy_gate.bias"]
    return copying, plain


def _step(m, ids, mask, bias=None):
    torch.manual_seed(1)
    B = ids.shape[0]
    z = torch.randn(B, SMALL["latent"])
    ys = [torch.nn.functional.one_hot(torch.randint(0, c, (B,)), c).float() for c in (3, 4)]
    states, _, _ = m.encode(ids.clamp_max(V - 1), torch.full((B,), ids.shape[1]))
    if bias is not None:
        with torch.no_grad():
            m.copy_gate.weight.zero_()
            m.copy_gate.bias.fill_(bias)
    state = m.start(z, ys, (states, mask, ids))
    with torch.no_grad():
        logp, state = m.decode_step(state, torch.full((B,), morph_model.BOS))
    return logp, state


@pytest.mark.parametrize("style", ["input", "output"])
def test_the_copy_is_a_mixture_of_generating_and_pointing(style):
    copying, plain = _pair(style)
    ids = torch.tensor([[4, 5, 5, 12], [6, 7, 8, 9], [4, 4, 4, 4]])  # 12: an unknown character
    mask = torch.zeros(3, 4)
    mask[1] = morph_model.NEG  # row 1 has no source: no attention, no copy
    generated, _ = _step(plain, ids, mask)
    closed, _ = _step(copying, ids, mask, bias=-100.0)
    assert closed.shape == (3, V + 1)  # one column past V: the unknown character
    assert torch.allclose(closed[:, :V], generated, atol=1e-5)
    assert torch.all(closed[:, V:] < -60)  # nothing to copy: at the floor TINY

    opened, state = _step(copying, ids, mask, bias=100.0)
    p = opened.exp()
    assert torch.allclose(p.sum(-1), torch.ones(3), atol=1e-5)
    # All the mass is on the source's characters, as the attention spreads it.
    src = set(ids[0].tolist())
    assert p[0, sorted(src)].sum() == pytest.approx(1.0, abs=1e-5)
    assert p[2, 4] == pytest.approx(1.0, abs=1e-5)  # one character, repeated
    assert p[0, 5] > 0.0 and p[0, 12] > 0.0
    # The row without a source generates whatever the gate says.
    assert torch.allclose(opened[1, :V], generated[1], atol=1e-5)


def test_the_copy_needs_source_attention():
    from reinflect.errors import ReinflectError

    with pytest.raises(ReinflectError, match="--copy needs --source-attention"):
        config.MorphModelConfig(copy=True)


def _suffix_pairs(rng, n, letters):
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 6))) for _ in range(n)}
    return [(w, "V;PST", w + "ed") for w in sorted(words)]


@pytest.fixture(scope="module")
def suffix_runs(tmp_path_factory):
    """Plain and copying models trained alike to add "ed" to random strings."""
    rng = random.Random(0)
    d = tmp_path_factory.mktemp("copy")
    train = _suffix_pairs(rng, 300, "abcdefghijklmn")
    (d / "train").write_text("".join(f"{a}\t{t}\t{b}\n" for a, t, b in train))
    (d / "dev").write_text("".join(f"{a}\t{t}\t{b}\n" for a, t, b in train[:20]))
    runs = {}
    for copy in (False, True):
        cfg = config.MorphModelConfig(**SMALL, **config.source_attention("input"), copy=copy)
        runs[copy] = train_supervised(d / "train", d / "dev", d / f"copy{copy}", cfg)
    return runs


@pytest.mark.slow
def test_a_copying_model_carries_unseen_stems_and_characters(suffix_runs):
    held_out = _suffix_pairs(random.Random(1), 60, "abcdefghijklmn")
    unseen = _suffix_pairs(random.Random(2), 30, "abcdefgQXZ")  # Q, X, Z: never in training
    assert greedy_accuracy(suffix_runs[True], held_out) >= 0.9
    assert greedy_accuracy(suffix_runs[True], unseen) >= 0.8
    # Without the copy an unknown character cannot come out at all.
    assert greedy_accuracy(suffix_runs[False], unseen) < 0.5


def test_training_makes_one_character_unknown_in_both_words(monkeypatch):
    from reinflect.morph import objective

    copying, _ = _pair("input")
    src = torch.tensor([[4, 5, 4, 6, EOS], [7, 8, EOS, 0, 0]])
    tgt = torch.tensor([[4, 5, 4, 9, EOS], [7, 7, 8, 9, EOS]])
    batch = {"source": src, "target": tgt, "source_len": torch.tensor([5, 3])}
    monkeypatch.setattr(objective, "UNKNOWN_RATE", 1.0)
    copying.train()
    torch.manual_seed(0)
    out = objective._practise_unknowns(copying, batch)
    for b in range(2):
        gone = set(src[b].tolist()) - set(out["source"][b].tolist())
        assert len(gone) == 1 and gone < {4, 5, 6, 7, 8}  # one character, never EOS
        (c,) = gone
        for key, word in (("source", src), ("target", tgt)):
            assert torch.equal(out[key][b], word[b].masked_fill(word[b] == c, UNK))
            assert torch.equal(out[f"{key}_copy"][b], word[b].masked_fill(word[b] == c, V))
    copying.eval()
    assert objective._practise_unknowns(copying, batch) is batch  # only in training
