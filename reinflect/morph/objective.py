"""MSVED's labeled and unlabeled losses, built from :mod:`reinflect.vae`.

Labeled triple (x_s, y_t, x_t), source tags hidden (Zhou & Neubig 2017,
section 3.3): encode both words (z_s, z_t ~ q(z|x)); y_s ~ q(y|x_s) by
straight-through Gumbel-softmax; reconstruct x_t from (z_s, y_t) -- the
transduction used at test time -- x_s from (z_t, y_s), and the two
self-reconstructions x_s from (z_s, y_s), x_t from (z_t, y_t). All four run
as one decoder pass over 4B rows. Loss = -sum of the four log-likelihoods
+ kl_w (KL_s + KL_t) + KL(q(y|x_s) || p(y)) + alpha * CE(q(y|x_t), y_t).
The y-KL terms carry their own weight (``y_kl_weight``; 1 is the paper's).

Unlabeled word x (the MSVAE term, section 3.4): y ~ q(y|x) by Gumbel,
z ~ q(z|x); loss = -log p(x|y,z) + kl_w KL(z) + KL(q(y|x) || p(y)).

With source attention the unlabeled word is rebuilt from no source (so a
decoder that copies cannot copy the word it rebuilds), or, with the batch's
``stem_len`` (``--unlabeled-source stem``, ours), from its first ``stem_len``
characters: a random ending cut off (:func:`cut_endings`), which the decoder
must write from z and y ~ q(y|x) -- the task inflection sets it, on words
that have no labels.

Training uses ``semi``: both losses from one encoder pass and one decoder pass
over the labeled and unlabeled rows together (the same value as ``labeled``
plus ``unlabeled``; fewer, larger operations, which is what a GPU needs).
"""

from __future__ import annotations

import random

import torch
from torch.nn import functional as F

from reinflect.morph import model as morph_model
from reinflect.morph.vocab import EOS, PAD, UNK
from reinflect.vae import distributions, elbo, kl


def _pad_to(x: torch.Tensor, length: int, value: float) -> torch.Tensor:
    return F.pad(x, (0, 0) * (x.dim() - 2) + (0, length - x.shape[1]), value=value)


def _stack_rows(parts: list[torch.Tensor], value: float) -> torch.Tensor:
    """Concatenate along the batch after padding dimension 1 to a common length."""
    n = max(p.shape[1] for p in parts)
    return torch.cat([_pad_to(p, n, value) for p in parts], dim=0)


# With copying, the share of labeled pairs in training in which one character
# (every occurrence, in both words) is made unknown; see _practise_unknowns.
UNKNOWN_RATE = 0.1


def _practise_unknowns(model: morph_model.MSVED, batch: dict[str, torch.Tensor]):
    """With copying, in training: in a random :data:`UNKNOWN_RATE` of the pairs
    one character of the source, wherever it occurs in either word, is made
    unknown: the encoders read UNK and the transductions' copy ids and targets
    give it the first id past the vocabulary, as a word with a character unseen
    in training is given at test time. Without it nothing makes the decoder rely
    on the copy (every character can as well be generated) and an unknown
    character, which only a copy brings through, is lost. The
    self-reconstructions, which do not copy, rebuild UNK."""
    if not (model.cfg.copy and model.training and UNKNOWN_RATE):
        return batch
    src, tgt = batch["source"], batch["target"]
    B, V = src.shape[0], model.out.out_features
    pos = (torch.rand(B, device=src.device) * (batch["source_len"] - 1)).long()
    char = src.gather(1, pos.unsqueeze(1))  # B x 1, a character (not EOS)
    hit = torch.rand(B, 1, device=src.device) < UNKNOWN_RATE
    on_src, on_tgt = (src == char) & hit, (tgt == char) & hit
    return batch | {
        "source": src.masked_fill(on_src, UNK),
        "target": tgt.masked_fill(on_tgt, UNK),
        "source_copy": src.masked_fill(on_src, V),
        "target_copy": tgt.masked_fill(on_tgt, V),
    }


# The most characters cut off an unlabeled word's end for its "stem" source.
MAX_CUT = 5


def cut_endings(lengths: list[int], rng: random.Random) -> list[int]:
    """How many first characters each word of ``lengths`` characters keeps as
    the source it is rebuilt from: a random ending of 1 to min(:data:`MAX_CUT`,
    half the word rounded up) characters is cut; a word of one character keeps it."""
    keep = []
    for n in lengths:
        most = min(MAX_CUT, (n + 1) // 2) if n >= 2 else 0
        keep.append(n - (rng.randint(1, most) if most else 0))
    return keep


def _stems(words: torch.Tensor, keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of the words' first ``keep`` characters, EOS after, and their lengths."""
    n = int(keep.max()) + 1
    pos = torch.arange(n, device=words.device)
    ids = words[:, :n].masked_fill(pos >= keep[:, None], PAD).scatter(1, keep[:, None], EOS)
    return ids, keep + 1


def _unlabeled_rows(ub: dict[str, torch.Tensor]):
    """The unlabeled batch's rows for the encoder: the words, then, with
    ``stem_len``, their stems; and the number of words."""
    words, lengths = ub["word"], ub["word_len"]
    if "stem_len" not in ub:
        return words, lengths, words.shape[0]
    stems, stem_len = _stems(words, ub["stem_len"])
    return _stack_rows([words, stems], PAD), torch.cat([lengths, stem_len]), words.shape[0]


def _labeled_rows(
    model: morph_model.MSVED, batch: dict[str, torch.Tensor], extra=None, *, stems=False
):
    """The encoder pass over a labeled batch's sources and targets: summaries
    ``h_s``, ``h_t`` (and the states, for source attention). ``extra`` (words
    ``U x L``, their lengths) joins the pass; its summaries and states come back
    as ``h_extra`` and ``extra_source`` (with ``stems``, which attends: the
    second half of ``extra`` are the stems the first half is rebuilt from)."""
    src, src_len = batch["source"], batch["source_len"]
    tgt, tgt_len = batch["target"], batch["target_len"]
    words = [src, tgt] + ([extra[0]] if extra is not None else [])
    lengths = [src_len, tgt_len] + ([extra[1]] if extra is not None else [])
    # One encoder pass over all words; it reads the characters without the EOS
    # that the decoder targets end in.
    ids = _stack_rows(words, PAD)
    states, mask, h = model.encode(ids, torch.cat(lengths) - 1)
    B = src.shape[0]
    rows = {"h_s": h[:B], "h_t": h[B : 2 * B], "h_extra": h[2 * B :]}
    if states is not None:
        # The four reconstructions' sources: x_s, x_t (the transductions), then
        # x_s, x_t again (the self-reconstructions, and the unlabeled words after).
        auto = no_source(mask) if model.private_source else mask
        copy_ids = _stack_rows([batch.get("source_copy", src), batch.get("target_copy", tgt)], PAD)
        rows["source"] = (
            torch.cat([states[: 2 * B]] * 2),
            torch.cat([mask[: 2 * B], auto[: 2 * B]]),
            torch.cat([_pad_to(copy_ids, ids.shape[1], PAD), ids[: 2 * B]]),
        )
        rows["extra_source"] = (states[2 * B :], (mask if stems else auto)[2 * B :], ids[2 * B :])
    return rows


def no_source(mask_log: torch.Tensor) -> torch.Tensor:
    """A source mask with every position masked: the decoder neither attends
    nor copies. With copying, the auto-encoding rows (the self-reconstructions
    and the unlabeled words) decode so, or they would learn to copy the word they
    rebuild and z and y would carry nothing."""
    return torch.full_like(mask_log, morph_model.NEG)


def _labeled_start(model, batch, rows, *, temperature: float):
    """Posteriors, samples and the decoder rows of the four reconstructions."""
    src, tgt, y_t = batch["source"], batch["target"], batch["tags"]  # tags: B x K
    q_s, q_t = model.posterior(rows["h_s"]), model.posterior(rows["h_t"])
    z_s, z_t = q_s.rsample(), q_t.rsample()
    ys_logits, yt_logits = model.tag_logits(rows["h_s"]), model.tag_logits(rows["h_t"])
    ys = [
        distributions.gumbel_softmax(lg, temperature=temperature, straight_through=True)
        for lg in ys_logits
    ]
    yt = [F.one_hot(y_t[:, k], c).to(z_s.dtype) for k, c in enumerate(model.tag_sizes)]
    return {
        "q": (q_s, q_t),
        "logits": (ys_logits, yt_logits),
        "z": torch.cat([z_s, z_t, z_s, z_t]),
        "y": [torch.cat([a, b, b, a]) for a, b in zip(yt, ys, strict=True)],
        # With source attention each row attends over the word its z came from.
        "source": rows.get("source"),
        "targets": _stack_rows(
            [batch.get("target_copy", tgt), batch.get("source_copy", src), src, tgt], PAD
        ),
    }


def _labeled_loss(batch, lab, logp, *, kl_weight, alpha, y_kl_weight):
    """The labeled loss from the four reconstructions' log-likelihoods ``4 x B``."""
    (q_s, q_t), (ys_logits, yt_logits) = lab["q"], lab["logits"]
    y_t = batch["tags"]
    kl_z = kl.gaussian_standard(q_s.mu, q_s.logvar) + kl.gaussian_standard(q_t.mu, q_t.logvar)
    kl_ys = sum(kl.categorical(lg) for lg in ys_logits)
    loss, stats = elbo.labeled(
        log_px=logp.sum(0),
        kl_z=kl_z,
        y_logits=yt_logits,
        y=[y_t[:, k] for k in range(y_t.shape[1])],
        kl_weight=kl_weight,
        alpha=alpha,
    )
    loss = loss + y_kl_weight * kl_ys.mean()
    stats |= {
        "loss": loss.detach(),
        "transduction": logp[0].mean().detach(),
        "kl_ys": kl_ys.mean().detach(),
    }
    return loss, stats


def labeled(
    model: morph_model.MSVED,
    batch: dict[str, torch.Tensor],
    *,
    kl_weight: float,
    temperature: float,
    alpha: float = 1.0,
    y_kl_weight: float = 1.0,
):
    """The labeled MSVED loss for a batch of (source, target tags, target)."""
    batch = _practise_unknowns(model, batch)
    lab = _labeled_start(model, batch, _labeled_rows(model, batch), temperature=temperature)
    logp = model.log_likelihood(model.start(lab["z"], lab["y"], lab["source"]), lab["targets"])
    return _labeled_loss(
        batch,
        lab,
        logp.view(4, -1),
        kl_weight=kl_weight,
        alpha=alpha,
        y_kl_weight=y_kl_weight,
    )


def semi(
    model: morph_model.MSVED,
    batch: dict[str, torch.Tensor],
    unlabeled_batch: dict[str, torch.Tensor],
    *,
    kl_weight: float,
    temperature: float,
    alpha: float = 1.0,
    y_kl_weight: float = 1.0,
    unlabeled_weight: float = 1.0,
):
    """``labeled + unlabeled_weight * unlabeled`` in one encoder pass and one
    decoder pass over all rows (the labeled four reconstructions and the
    unlabeled words side by side), so a step launches the recurrent loops once:
    on a GPU, where these small steps are bound by kernel launches, that is most
    of the time. The same random draws in the same order as the two losses
    computed one after the other (word dropout aside), so the same value."""
    batch = _practise_unknowns(model, batch)
    words = unlabeled_batch["word"]
    *extra, U = _unlabeled_rows(unlabeled_batch)
    stems = "stem_len" in unlabeled_batch
    rows = _labeled_rows(model, batch, extra=extra, stems=stems)
    lab = _labeled_start(model, batch, rows, temperature=temperature)
    h_words = rows["h_extra"][:U]
    if stems and rows.get("extra_source") is not None:
        rows["extra_source"] = tuple(p[U:] for p in rows["extra_source"])
    q = model.posterior(h_words)
    n_lab = lab["z"].shape[0]
    decoded = {}

    def conditional(ys: list[torch.Tensor]):
        # The unlabeled rows' y come from the estimator; decode them with the labeled
        # ones (all rows share the encoder's length, so their states stack as they are).
        source = lab["source"]
        if source is not None:
            source = tuple(torch.cat(p) for p in zip(source, rows["extra_source"], strict=True))
        state = model.start(
            torch.cat([lab["z"], q.rsample()]),
            [torch.cat([a, b]) for a, b in zip(lab["y"], ys, strict=True)],
            source,
        )
        logp = model.log_likelihood(state, _stack_rows([lab["targets"], words], PAD))
        decoded["labeled"] = logp[:n_lab].view(4, -1)
        return logp[n_lab:], kl.gaussian_standard(q.mu, q.logvar)

    u_loss, u_stats = elbo.unlabeled(
        conditional=conditional,
        y_logits=model.tag_logits(h_words),
        estimator="gumbel",
        kl_weight=kl_weight,
        y_kl_weight=y_kl_weight,
        temperature=temperature,
    )
    loss, stats = _labeled_loss(
        batch,
        lab,
        decoded["labeled"],
        kl_weight=kl_weight,
        alpha=alpha,
        y_kl_weight=y_kl_weight,
    )
    loss = loss + unlabeled_weight * u_loss
    return loss, stats | {f"u_{k}": v for k, v in u_stats.items()} | {"loss": loss.detach()}


def unlabeled(
    model: morph_model.MSVED,
    batch: dict[str, torch.Tensor],
    *,
    kl_weight: float,
    temperature: float,
    y_kl_weight: float = 1.0,
):
    """The unlabeled MSVAE loss for a batch of words."""
    words = batch["word"]
    ids, lengths, U = _unlabeled_rows(batch)
    states, mask, h = model.encode(ids, lengths - 1)
    h = h[:U]
    q = model.posterior(h)
    source = None
    if model.cfg.source_attention:
        if "stem_len" in batch:  # rebuilt from its stem: the rows after the words
            states, mask, ids = states[U:], mask[U:], ids[U:]
        elif model.private_source:
            mask = no_source(mask)
        source = (states, mask, ids)

    def conditional(ys: list[torch.Tensor]):
        log_px = model.log_likelihood(model.start(q.rsample(), ys, source), words)
        return log_px, kl.gaussian_standard(q.mu, q.logvar)

    return elbo.unlabeled(
        conditional=conditional,
        y_logits=model.tag_logits(h),
        estimator="gumbel",
        kl_weight=kl_weight,
        y_kl_weight=y_kl_weight,
        temperature=temperature,
    )
