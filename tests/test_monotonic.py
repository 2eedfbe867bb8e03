"""Hard monotonic attention (``--source-attention-style monotonic``): its
log-likelihood is the sum over every monotonic alignment of transition times
emission, which is checked here by enumerating the alignments; a model with it
learns a copy task."""

import itertools
import math
import random

import pytest
import torch
from helpers import SMALL as SMALL_TRAINED
from helpers import greedy_accuracy, train_supervised
from torch.nn import functional as F

from reinflect import config
from reinflect.morph import model as morph_model
from reinflect.morph.vocab import BOS, EOS

SMALL = dict(char_embedding=16, encoder_hidden=12, latent=6, tag_embedding=10, decoder_hidden=14)
V = 10


def _models(copy: bool):
    """A monotonic model and, with the same weights, a soft "output"-style one:
    its attention restricted to one source position gives that position's
    emission (the output layer on [h; tags; W_v s_i], the copy gate on
    [h; W_v s_i]). The monotonic model's GRU weights for the aligned value
    are zeroed, so that its decoder states are the soft model's (which feeds
    no source to the GRU); ``test_the_gru_reads_the_expected_aligned_value``
    checks that input."""
    torch.manual_seed(5)
    mono = morph_model.MSVED(
        vocab_size=V,
        tag_sizes=[3, 2],
        cfg=config.MorphModelConfig(**SMALL, **config.source_attention("monotonic"), copy=copy),
    ).eval()
    with torch.no_grad():
        for p in mono.parameters():
            p.mul_(2.0)
    soft = morph_model.MSVED(
        vocab_size=V,
        tag_sizes=[3, 2],
        cfg=config.MorphModelConfig(**SMALL, **config.source_attention("output"), copy=copy),
    ).eval()
    T = SMALL["tag_embedding"]
    with torch.no_grad():
        mono.gru_ctx.weight[:, T:] = 0.0
    weights = mono.state_dict()
    weights["gru_ctx.weight"] = weights["gru_ctx.weight"][:, :T]
    soft.load_state_dict(weights)
    return mono, soft


@pytest.mark.parametrize("copy", [False, True])
def test_the_likelihood_sums_every_monotonic_alignment(copy):
    mono, soft = _models(copy)
    src = torch.tensor([[4, 5, 10, 6]])  # 10: a character past the vocabulary (copy id)
    target = torch.tensor([[5, 10, 7, EOS]]) if copy else torch.tensor([[5, 6, 7, EOS]])
    L, T = src.shape[1], target.shape[1]
    z = torch.randn(1, SMALL["latent"])
    ys = [torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.0, 1.0]])]
    with torch.no_grad():
        states, mask, _ = mono.encode(src.clamp_max(V - 1), torch.tensor([L]))
        got = mono.log_likelihood(mono.start(z, ys, (states, mask, src)), target)[0]
        # Each position's emissions, step by step: the soft model attending to it alone.
        emit = torch.zeros(T, L, V + 1)
        hs = []
        for i in range(L):
            only = torch.full_like(mask, morph_model.NEG)
            only[0, i] = 0.0
            state, prev = soft.start(z, ys, (states, only, src)), torch.tensor([BOS])
            for t in range(T):
                logp, state = soft.decode_step(state, prev)
                emit[t, i, : logp.shape[-1]] = logp[0].exp()
                if i == 0:
                    hs.append(state["h"][0])
                prev = target[:, t]
        keys = mono.src_key(states[0])  # L x A
        trans = []  # p(a_t = i | a_{t-1} = k): softmax over i >= k
        for h in hs:
            s = keys @ mono.src_query(h)
            trans.append(
                torch.stack(
                    [
                        torch.cat([torch.zeros(k), torch.softmax(s[k:], 0)]) if k < L else None
                        for k in range(L)
                    ]
                )
            )
    total = 0.0
    for path in itertools.combinations_with_replacement(range(L), T):  # a_1 <= ... <= a_T
        p, prev = 1.0, 0
        for t, i in enumerate(path):
            p *= float(trans[t][prev, i]) * float(emit[t, i, target[0, t]])
            prev = i
        total += p
    assert float(got) == pytest.approx(math.log(total), abs=1e-4)


def _paths_reference(model, state, target):
    """log p(target) by enumerating alignment paths step by step: the GRU input's
    aligned value is the mean of W_v s_{a_{t-1}} over the paths' posterior,
    each path's weight its transition times emission (the model's emission
    function, checked against the soft model above)."""
    L = state["src_keys"].shape[1]
    # L x 3D: each position's value into the GRU
    values = state["src_aligned"][0] @ state["_aligned_proj"]
    paths = {(0,): 1.0}  # a_0 = 0
    inputs = state["_inputs"]
    prev, total = torch.tensor([BOS]), 0.0
    for t in range(target.shape[1]):
        z = sum(paths.values())
        feed = sum(p / z * values[a[-1]] for a, p in paths.items())
        ctx_out, state, _ = model._step(state, F.embedding(prev, inputs) + feed)
        h = state["h"]
        scores = (state["src_keys"][0] @ model.src_query(h)[0]).tolist()
        emit = model._emissions(state, h, model._logits(h, ctx_out))[0]  # L x V'
        new = {}
        for a, p in paths.items():
            k = a[-1]
            norm = math.log(sum(math.exp(s_) for s_ in scores[k:]))
            for i in range(k, L):
                w = math.exp(scores[i] - norm) * float(emit[i, target[0, t]].exp())
                new[a + (i,)] = p * w
        total += math.log(sum(new.values()) / z)
        paths, prev = new, target[:, t]
    return total


@pytest.mark.parametrize("copy", [False, True])
def test_the_gru_reads_the_expected_aligned_value(copy):
    """With the aligned value's GRU weights in place, the likelihood (teacher
    forced) and the sum of the decoding steps' log-probabilities both equal
    the enumeration over alignment paths, whose posterior sets the input."""
    torch.manual_seed(7)
    cfg = config.MorphModelConfig(**SMALL, **config.source_attention("monotonic"), copy=copy)
    mono = morph_model.MSVED(vocab_size=V, tag_sizes=[3, 2], cfg=cfg).eval()
    with torch.no_grad():
        mono.gru_ctx.weight.mul_(4.0)  # make the aligned value matter
    src = torch.tensor([[4, 5, 10, 6]])
    target = torch.tensor([[5, 10, 7, EOS]]) if copy else torch.tensor([[5, 6, 7, EOS]])
    z = torch.randn(1, SMALL["latent"])
    ys = [torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.0, 1.0]])]
    with torch.no_grad():
        states, mask, _ = mono.encode(src.clamp_max(V - 1), torch.tensor([src.shape[1]]))
        source = (states, mask, src)
        got = float(mono.log_likelihood(mono.start(z, ys, source), target)[0])
        want = _paths_reference(mono, mono.start(z, ys, source), target)
        state, prev, stepped = mono.start(z, ys, source), torch.tensor([BOS]), 0.0
        for t in range(target.shape[1]):
            logp, state = mono.decode_step(state, prev)
            stepped += float(logp[0, target[0, t]])
            prev = target[:, t]
        # Without the input the likelihood differs: the test can tell them apart.
        with torch.no_grad():
            mono.gru_ctx.weight[:, SMALL["tag_embedding"] :] = 0.0
        blind = float(mono.log_likelihood(mono.start(z, ys, source), target)[0])
    assert got == pytest.approx(want, abs=1e-4)
    assert stepped == pytest.approx(want, abs=1e-4)
    assert abs(blind - want) > 1e-2


def test_a_row_without_a_source_decodes_from_the_generator_alone():
    """The auto-encoding rows get no source: they score as MSVED's plain decoder
    with the same weights (the output layer without the source's columns)."""
    mono, _ = _models(copy=True)
    with torch.no_grad():  # an aligned value would reach the GRU if the row had one
        mono.gru_ctx.weight[:, SMALL["tag_embedding"] :] = torch.randn_like(
            mono.gru_ctx.weight[:, SMALL["tag_embedding"] :]
        )
    plain = morph_model.MSVED(vocab_size=V, tag_sizes=[3, 2], cfg=config.MorphModelConfig(**SMALL))
    D, T_ = SMALL["decoder_hidden"], SMALL["tag_embedding"]
    weights = {k: v for k, v in mono.state_dict().items() if k in plain.state_dict()}
    weights["out.weight"] = weights["out.weight"][:, : D + T_]
    weights["gru_ctx.weight"] = weights["gru_ctx.weight"][:, :T_]  # no aligned value
    plain.load_state_dict(weights)
    plain.eval()
    ids = torch.tensor([[4, 5, 6], [7, 8, 9]])
    z = torch.randn(2, SMALL["latent"])
    ys = [torch.tensor([[0.0, 1.0, 0.0]] * 2), torch.tensor([[0.0, 1.0]] * 2)]
    targets = torch.tensor([[4, 6, EOS], [9, EOS, 0]])
    with torch.no_grad():
        states, mask, _ = mono.encode(ids, torch.tensor([3, 3]))
        none = torch.full_like(mask, morph_model.NEG)
        got = mono.log_likelihood(mono.start(z, ys, (states, none, ids)), targets)
        want = plain.log_likelihood(plain.start(z, ys), targets)
        step, _ = mono.decode_step(mono.start(z, ys, (states, none, ids)), torch.tensor([BOS] * 2))
        first, _ = plain.decode_step(plain.start(z, ys), torch.tensor([BOS] * 2))
    assert torch.allclose(got, want, atol=1e-4)
    assert torch.allclose(step[:, :V], first, atol=1e-4)


def _suffix_pairs(rng, n, letters):
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 6))) for _ in range(n)}
    return [(w, "V;PST", w + "ed") for w in sorted(words)]


@pytest.mark.slow
def test_a_monotonic_model_learns_to_copy_unseen_stems(tmp_path):
    rng = random.Random(0)
    train = _suffix_pairs(rng, 300, "abcdefghijklmn")
    (tmp_path / "train").write_text("".join(f"{a}\t{t}\t{b}\n" for a, t, b in train))
    (tmp_path / "dev").write_text("".join(f"{a}\t{t}\t{b}\n" for a, t, b in train[:20]))
    cfg = config.MorphModelConfig(
        **SMALL_TRAINED, **config.source_attention("monotonic"), copy=True
    )
    r = train_supervised(tmp_path / "train", tmp_path / "dev", tmp_path / "run", cfg)
    for pairs, least in (
        (_suffix_pairs(random.Random(1), 60, "abcdefghijklmn"), 0.9),
        (_suffix_pairs(random.Random(2), 30, "abcdefgQXZ"), 0.8),  # Q, X, Z: never in training
    ):
        assert greedy_accuracy(r, pairs) >= least
