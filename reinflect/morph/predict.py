"""Prediction, engine-neutral: what every engine does alike, and ``load``.

An engine decodes a trained model: :mod:`reinflect.morph.torch_engine`
(batches, GPUs, ensembles) or :mod:`reinflect.morph.numpy_engine` (one word
from ``model.npz`` without importing torch, for a fast cold start). Both are
:class:`Predictor`: tag bundles, partial tags, reranking, rendering and
evaluation are written here once. :func:`load` picks the engine; this module
imports none until then, and never torch.
"""

from __future__ import annotations

import logging
import math
import os
import random
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from reinflect import config, metrics
from reinflect.errors import ReinflectError, UsageError
from reinflect.morph import checkpoint, formats, rules, tags, vocab

log = logging.getLogger(__name__)

RERANK_GRID = config.MorphTrainConfig.rerank_grid
RERANK_FLOORS = config.MorphTrainConfig.rerank_floors
RERANK_ROUNDTRIPS = config.MorphTrainConfig.rerank_roundtrips
RERANK_RULES = config.MorphTrainConfig.rerank_rules
RERANK_FIRSTS = config.MorphTrainConfig.rerank_firsts
RERANK_MARGIN = 5.0  # nats below the best hypothesis beyond which none is reranked
RULE_CANDIDATES = 4  # forms training's edit rules add to each beam (rules.Rules.candidates)


class Hypothesis(NamedTuple):
    """A form of the beam with what reranking weighs."""

    form: str
    logp: float  # log p(form|z, y)
    logq: float  # log q(y|form); -inf: not scored (beyond RERANK_MARGIN)
    logr: float  # log p(word|form), the round trip; 0 when not asked for
    rule: float = 0.0  # 1 where training made this edit for this bundle (rules.Rules.support)
    added: bool = False  # a form of the edit rules the search did not find
    first: float = 0.0  # 1 for the edit rules' first form (rules.Rules.candidates)


class Setting(NamedTuple):
    """A reranking setting: the weights of log q, its floor, the round trip, the
    edit rules and the rules' first form (all 0: plain beam search)."""

    weight: float = 0.0
    floor: float | None = None
    roundtrip: float = 0.0
    rules: float = 0.0
    first: float = 0.0

    @property
    def with_rules(self) -> bool:
        """Whether the edit rules' forms join the beam (a weight of theirs is on)."""
        return bool(self.rules or self.first)

    @property
    def reranks(self) -> bool:
        """Whether the beam is reordered at all (else: plain beam search)."""
        return bool(self.weight or self.roundtrip or self.with_rules)

    @property
    def key(self) -> str:
        """The setting's key in a stored record's dev accuracy table: ``"0.5"``
        without a floor, ``"0.5 floor 2"`` with one, then ``" roundtrip 0.25"``,
        ``" rules 8"`` and ``" first 4"`` where those are on."""
        key = f"{self.weight:g}" if self.floor is None else f"{self.weight:g} floor {self.floor:g}"
        key += f" roundtrip {self.roundtrip:g}" if self.roundtrip else ""
        key += f" rules {self.rules:g}" if self.rules else ""
        return key + (f" first {self.first:g}" if self.first else "")

    def describe(self) -> str:
        """The setting as the logs say it: ``weight 1, floor 2, rules 8``."""
        said = f"weight {self.weight:g}" + ("" if self.floor is None else f", floor {self.floor:g}")
        said += f", round trip {self.roundtrip:g}" if self.roundtrip else ""
        said += f", rules {self.rules:g}" if self.rules else ""
        return said + (f", first form {self.first:g}" if self.first else "")


ENGINES = ("auto", "torch", "numpy")


class Predictor:
    """What prediction does the same way in both engines. Subclasses give
    ``tag_log_probs`` (one word), ``bundle_log_probs`` (many) and ``_search``
    (beam search: for each (word, target bundle), up to ``nbest``
    (form, log-probability), best first).

    Reranking (ours): the beam's hypotheses x' are ordered by
    log p(x'|z, y_t) + ``rerank`` * log q(y_t|x'), the model's own classifier
    checking that a hypothesis carries the tags asked for. This mends the plain
    model's typical error of returning the source unchanged (``keen`` for
    ADJ;SPRL). With ``rerank_floor`` F, log q counts no lower than -F: a
    syncretic form (Turkish *ekseni* is both ACC and PSS3S) gets a confident
    q for its other reading, and the floor keeps that from vetoing a form the
    decoder is sure of. With ``rerank_roundtrip`` V the score also gets
    V * log p(x_s|z(x'), y_s), the model reconstructing the source word from the
    hypothesis (the labeled objective's target-to-source term; y_s is the
    source's most probable tag per dimension under q): a hypothesis that lost or
    mangled part of the stem reconstructs its source badly. With
    ``rerank_rules`` R the beam also holds the forms training's edit rules make
    of the word for that bundle (:mod:`reinflect.morph.rules`), scored by the
    model like its own, and each form making an edit training made gets + R:
    at small sizes the right form is often in the beam below one with an
    ending no training pair has, or not in it at all. With ``rerank_first`` P
    the rules' first form (the edit of the training words that share most
    with the word at its two ends) gets + P as well (it joins the beam as
    with R). Training picks the weights and the floor on dev
    (:meth:`tune_rerank`, ``RERANK_GRID`` x ``RERANK_FLOORS`` x
    ``RERANK_ROUNDTRIPS`` x ``RERANK_RULES`` x ``RERANK_FIRSTS``; all 0 is
    plain beam search) and stores them with the model.

    Known pairs (ours): a (word, bundle) that training held gives its training
    form first, with log-probability 0 (certain), the model's hypotheses after
    it (``lookup=False``: the model alone). An irregular form seen in
    training (*mice*) is what a user expects back, and the model alone does
    not always memorise it (results/README.md, "The English sample ...").
    """

    #: set on an ensemble's members: the ensemble warns of unseen characters
    quiet_unknown = False
    #: the words already warned of (:meth:`warn_unknown`); predictors given one
    #: set (training's dev checks) warn of each word once between them
    warned: set[str] | None = None

    vocab: vocab.Vocab
    schema: tags.Schema
    rerank: float = 0.0
    rerank_floor: float | None = None
    rerank_roundtrip: float = 0.0
    rerank_rules: float = 0.0
    rerank_first: float = 0.0
    #: (word, :func:`bundle_key`) -> training form (:func:`known_pairs`)
    known: dict[tuple[str, str], str] = {}  # noqa: RUF012 (replaced, never changed)

    @property
    def setting(self) -> Setting:
        """The reranking setting in use."""
        return Setting(
            self.rerank,
            self.rerank_floor,
            self.rerank_roundtrip,
            self.rerank_rules,
            self.rerank_first,
        )

    @setting.setter
    def setting(self, s: Setting) -> None:
        (self.rerank, self.rerank_floor, self.rerank_roundtrip, self.rerank_rules,
         self.rerank_first) = s  # fmt: skip

    @cached_property
    def rules(self) -> rules.Rules:
        """The edit rules of the training pairs the model holds (:attr:`known`)."""
        return rules.Rules(self.known)

    def tag_log_probs(self, word: str) -> list[list[float]]:
        """log q(y_k|x) of ``word``, one list per tag dimension."""
        raise NotImplementedError

    def bundle_log_probs(self, words: list[str], bundles: list[dict[str, str]]) -> list[float]:
        """log q(y|x) = sum_k log q(y_k|x) of each (word, bundle); -inf for an empty word."""
        raise NotImplementedError

    def roundtrip_log_probs(self, sources: list[str], forms: list[str]) -> list[float]:
        """log p(source|z = mu(form), y = the source's most probable tag per
        dimension) of each (source, form); -inf for an empty form."""
        raise NotImplementedError

    def hypothesis_scores(
        self,
        sources: list[str],
        forms: list[str],
        bundles: list[dict[str, str]],
        *,
        roundtrip: bool,
    ) -> tuple[list[float], list[float]]:
        """(log q(bundle|form) per form, log p(source|form) per form, or 0s
        without ``roundtrip``): what reranking adds to each hypothesis."""
        logq = self.bundle_log_probs(forms, bundles)
        return logq, self.roundtrip_log_probs(sources, forms) if roundtrip else [0.0] * len(forms)

    def form_log_probs(
        self, words: list[str], bundles: list[dict[str, str]], forms: list[str]
    ) -> list[float]:
        """log p(form|z = mu(word), y = bundle) of each (word, bundle, form), as
        the search scores its hypotheses."""
        raise NotImplementedError

    def _search(self, words, bundles, *, beam: int, nbest: int, max_length: int, batch_size: int):
        raise NotImplementedError

    def inflect(
        self,
        words: list[str],
        bundles: list[dict[str, str]],
        *,
        beam: int = 8,
        nbest: int = 1,
        max_length: int = 50,
        batch_size: int = 256,
        rerank: float | None = None,
        rerank_floor: float | None = None,
        rerank_roundtrip: float | None = None,
        rerank_rules: float | None = None,
        rerank_first: float | None = None,
        lookup: bool = True,
    ) -> list[list[tuple[str, float]]]:
        """For each (word, target bundle): up to ``nbest`` (form, log p(form|z, y)),
        best first; with reranking on (weights default: the model's) and ``beam``
        > 1 the whole beam, with the edit rules' forms where ``rerank_rules`` or
        ``rerank_first`` > 0, is ordered by log p + rerank * max(log q(y|form),
        -rerank_floor) + rerank_roundtrip * log p(word|form) + rerank_rules * (1
        where the edit is training's) + rerank_first * (1 for the rules' first
        form) (``rerank_floor`` default: the model's; ``math.inf``: no floor).
        With ``lookup`` a pair training held comes first as (its training form,
        0.0)."""
        if nbest > beam:
            raise ValueError(f"nbest ({nbest}) cannot exceed the beam size ({beam})")
        given = Setting(rerank, rerank_floor, rerank_roundtrip, rerank_rules, rerank_first)
        setting = Setting(
            *(mine if g is None else g for g, mine in zip(given, self.setting, strict=True))
        )
        weights = (setting.weight, setting.roundtrip, setting.rules, setting.first)
        if min(weights) < 0:
            raise ValueError(f"rerank weights must be >= 0, got {', '.join(map(str, weights))}")
        if setting.floor is not None and setting.floor <= 0:
            raise ValueError(f"the rerank floor must be > 0, got {setting.floor}")
        if not setting.reranks or beam == 1:
            hyps = self._search(
                words, bundles, beam=beam, nbest=nbest, max_length=max_length, batch_size=batch_size
            )
        else:
            scored = self.scored_beams(
                words,
                bundles,
                beam=beam,
                max_length=max_length,
                batch_size=batch_size,
                roundtrip=bool(setting.roundtrip),
                candidates=RULE_CANDIDATES if setting.with_rules else 0,
            )
            ranked = rank(scored, setting)
            hyps = [[(h.form, h.logp) for h in r[:nbest]] for r in ranked]
        if lookup and self.known:
            for i, (word, bundle) in enumerate(zip(words, bundles, strict=True)):
                form = self.known.get((word, bundle_key(bundle)))
                if form is not None:
                    hyps[i] = [(form, 0.0), *(h for h in hyps[i] if h[0] != form)][:nbest]
        return hyps

    def predict_examples(
        self, examples: list[formats.Example], bundles: list[dict[str, str]], **kw
    ) -> list[formats.Example]:
        """The rows with their target forms predicted (the best of :meth:`inflect`
        with ``kw``; "" where there is none)."""
        preds = self.inflect([e.source for e in examples], bundles, **kw)
        return [
            formats.Example(e.source, e.target_tags, p[0][0] if p else "", e.source_tags, e.line)
            for e, p in zip(examples, preds, strict=True)
        ]

    def scored_beams(
        self,
        words,
        bundles,
        *,
        beam: int = 8,
        max_length: int = 50,
        batch_size: int = 256,
        roundtrip: bool = False,
        candidates: int = 0,
    ) -> list[list[Hypothesis]]:
        """Every hypothesis of the beam with what reranking weighs
        (:class:`Hypothesis`); the round trip is computed only with
        ``roundtrip`` (else 0). With ``candidates`` up to that many forms of
        the edit rules (:meth:`rules.Rules.candidates`) the beam lacks follow
        it, scored by the model (``added``), and every form gets its ``rule``
        and ``first`` (0 without ``candidates``: the bonuses come only with the
        rules' forms).

        The search's hypotheses more than ``RERANK_MARGIN`` nats below the best
        of their beam are not scored (log q = log p(word|form) = -inf: they stay
        last, in beam order): it halves the classifier's work at no cost in
        accuracy on the languages measured (results/README.md).
        """
        hyps = self._search(
            words, bundles, beam=beam, nbest=beam, max_length=max_length, batch_size=batch_size
        )
        keys = [bundle_key(b) for b in bundles]
        flat = [(i, f) for i, h in enumerate(hyps) for f, s in h if s >= h[0][1] - RERANK_MARGIN]
        extra, tops = [], [None] * len(hyps)
        rules = self.rules if candidates else None  # the bonus counts only with its forms
        if rules:
            for i, h in enumerate(hyps):
                found = {f for f, _ in h}
                forms = rules.candidates(words[i], keys[i], candidates)
                tops[i] = forms[0] if forms else None
                extra += [(i, f) for f in forms if f not in found]
        logp = self.form_log_probs(
            [words[i] for i, _ in extra], [bundles[i] for i, _ in extra], [f for _, f in extra]
        )
        flat += extra
        q, r = self.hypothesis_scores(
            [words[i] for i, _ in flat],
            [f for _, f in flat],
            [bundles[i] for i, _ in flat],
            roundtrip=roundtrip,
        )
        logq, logr = dict(zip(flat, q, strict=True)), dict(zip(flat, r, strict=True))
        found = [len(h) for h in hyps]  # the search's own; the rules' forms follow
        for (i, f), p in zip(extra, logp, strict=True):
            hyps[i].append((f, p))
        return [
            [
                Hypothesis(
                    f,
                    s,
                    logq.get((i, f), -math.inf),
                    logr.get((i, f), -math.inf),
                    rules.support(words[i], keys[i], f) if rules else 0.0,
                    j >= found[i],
                    float(f == tops[i]),
                )
                for j, (f, s) in enumerate(h)
            ]
            for i, h in enumerate(hyps)
        ]

    def tune_rerank(
        self,
        words,
        bundles,
        targets: list[str],
        *,
        beam: int = 8,
        grid=RERANK_GRID,
        floors=RERANK_FLOORS,
        roundtrips=RERANK_ROUNDTRIPS,
        rules=RERANK_RULES,
        firsts=RERANK_FIRSTS,
    ):
        """Choose the weight of ``grid``, the floor of ``floors`` (None: none),
        the round-trip weight of ``roundtrips``, the rules' weight of ``rules``
        and the first form's of ``firsts`` with the best exact-match accuracy
        (%) on these (dev) rows; on ties the first in :func:`rerank_settings`'
        order. Use them from now on and return the record stored with the
        model: ``{"weight": w, "floor": f, "roundtrip": v, "rules": u, "first":
        p, "dev_accuracy_beam8": {Setting.key: acc, ...}}``."""
        settings = rerank_settings(grid, floors, roundtrips, rules, firsts)
        scored = self.scored_beams(
            words,
            bundles,
            beam=beam,
            roundtrip=any(s.roundtrip for s in settings),
            candidates=RULE_CANDIDATES if any(s.with_rules for s in settings) else 0,
        )
        hits = rerank_hits(scored, targets, settings)
        table = {k: 100.0 * float(h.mean()) for k, h in zip(settings, hits, strict=True)}
        self.setting = best = max(settings, key=table.__getitem__)
        #: the best form of each row under the chosen weights (training's errors.md)
        self.tuned_forms = [h[0].form if h else "" for h in rank(scored, best)]
        return best._asdict() | {"dev_accuracy_beam8": {k.key: a for k, a in table.items()}}

    def warn_unknown(self, words: list[str]) -> None:
        """One warning per call for the words with characters training never saw,
        each word once per predictor (a dev file decoded three times, or a
        low-resource model, would otherwise repeat hundreds of lines). An
        ensemble's members leave it to the ensemble (``quiet_unknown``)."""
        if self.quiet_unknown:
            return
        if self.warned is None:
            self.warned = set()
        warned = self.warned
        new = [w for w in dict.fromkeys(words) if w not in warned and self.vocab.unknown_chars(w)]
        if not new:
            return
        warned.update(new)
        unk = "".join(sorted(set().union(*map(self.vocab.unknown_chars, new))))
        if len(new) == 1:
            log.warning("characters %r of %r were not seen in training", unk, new[0])
        else:
            shown = ", ".join(map(repr, new[:3])) + (", ..." if len(new) > 3 else "")
            log.warning(
                "%d words have characters not seen in training (%r): %s", len(new), unk, shown
            )

    def analyze(self, word: str, *, top: int = 5) -> list[tuple[dict[str, str], float]]:
        """The ``top`` training tag bundles ranked by q(y|x) = prod_k q(y_k|x), with
        probabilities renormalized over the bundles seen in training."""
        logq = self.tag_log_probs(word)
        scored = []
        for bundle in self.schema.bundles:
            enc = self.schema.encode(dict(bundle))
            scored.append((sum(lq[i] for lq, i in zip(logq, enc, strict=True)), dict(bundle)))
        scored.sort(key=lambda t: -t[0])
        best = scored[0][0]
        norm = best + math.log(sum(math.exp(s - best) for s, _ in scored))
        return [(b, math.exp(s - norm)) for s, b in scored[:top]]

    def target_bundle(self, word: str, raw_tags: str) -> tuple[dict[str, str], bool]:
        """The bundle to generate: ``raw_tags`` itself when it is a full bundle seen in
        training, else (partial tags) the source's analysis with those dimensions
        changed, resolved to a seen bundle. Returns (bundle, was_partial).
        """
        change = tags.parse(raw_tags)
        if tuple(sorted(change.items())) in self.schema.bundles:
            return change, False
        for dim, val in change.items():  # validates dimensions and values with clear errors
            self.schema.encode({dim: val})
        source = self.analyze(word, top=1)[0][0]
        return self.schema.resolve(source, change), True

    def file_bundles(self, examples: list[formats.Example], path) -> list[dict[str, str]]:
        """The target bundle of every row of ``path``, checked against the schema;
        an unknown dimension or value is an error naming ``path:line``."""
        bundles = []
        for e in examples:
            where = f"{path}:{e.line}"
            b = tags.parse(e.target_tags, where=where)
            try:
                self.schema.encode(b)
            except ReinflectError as err:
                raise ReinflectError(f"{where}: {err}") from None
            bundles.append(b)
        return bundles

    def render(self, bundle: dict[str, str]) -> str:
        return tags.render(bundle, unimorph=self.schema.unimorph)


def bundle_key(bundle: dict[str, str]) -> str:
    """A bundle as one string, the same for the same bundle however its tags
    were ordered or written (``dim=value`` pairs, sorted)."""
    return ",".join(f"{d}={v}" for d, v in sorted(bundle.items()))


def known_pairs(examples: list[formats.Example]) -> dict[str, list[str]]:
    """Training's pairs as stored with a model: ``{"words", "tags", "forms"}``
    (tags as :func:`bundle_key`); where a (word, bundle) has several forms,
    the first."""
    seen: dict[tuple[str, str], str] = {}
    for e in examples:
        seen.setdefault((e.source, bundle_key(tags.parse(e.target_tags))), e.target)
    return {
        "words": [w for w, _ in seen],
        "tags": [t for _, t in seen],
        "forms": list(seen.values()),
    }


def read_known(record: dict | None) -> dict[tuple[str, str], str]:
    """A stored :func:`known_pairs` record as the lookup table (models saved
    before it existed have none: empty)."""
    if not record:
        return {}
    words, keys, forms = record["words"], record["tags"], record["forms"]
    return dict(zip(zip(words, keys, strict=True), forms, strict=True))


def stored_rerank(record: dict | None) -> Setting:
    """The reranking setting of a model's stored record (0: plain beam search;
    None: no floor; models saved before floors, round trips, rules or the
    first form existed have none)."""
    record = record or {}
    floor = record.get("floor")
    return Setting(
        float(record.get("weight", 0.0)),
        None if floor is None else float(floor),
        float(record.get("roundtrip", 0.0)),
        float(record.get("rules", 0.0)),
        float(record.get("first", 0.0)),
    )


def rerank_settings(grid, floors, roundtrips, rules=(0.0,), firsts=(0.0,)) -> list[Setting]:
    """Every setting to try, in the order ties are broken: the smallest rules'
    weight, then first form's, then round trip (0 always included for those
    three), then the smallest weight, then no floor, then the largest floor (a
    floor only with a weight)."""
    order = sorted(floors, key=lambda f: -math.inf if f is None else -f)
    return [
        Setting(w, f, v, u, p)
        for u in sorted(set(rules) | {0.0})
        for p in sorted(set(firsts) | {0.0})
        for v in sorted(set(roundtrips) | {0.0})
        for w in sorted(grid)
        for f in (order if w else [None])
    ]


def _columns(scored: list[list[Hypothesis]]) -> dict[str, np.ndarray]:
    """The beams' fields as rows x the longest beam (-inf / False past a beam's end)."""
    width = max((len(b) for b in scored), default=0) or 1
    numbers = ("logp", "logq", "logr", "rule", "first")
    cols = {k: np.full((len(scored), width), -np.inf) for k in numbers}
    cols |= {k: np.zeros((len(scored), width), dtype=bool) for k in ("added", "present")}
    for i, beam in enumerate(scored):
        for k in (*numbers, "added"):
            cols[k][i, : len(beam)] = [getattr(h, k) for h in beam]
        cols["present"][i, : len(beam)] = True
    return cols


def _scores(cols: dict[str, np.ndarray], setting: Setting) -> np.ndarray:
    """Reranking's score of each hypothesis of :func:`_columns`: log p + weight
    * max(log q, -floor) + roundtrip * log p(word|form) + rules * rule + first
    * (1 for the rules' first form); -inf for an unscored one (log q = -inf), a
    rules' form where neither rules' weight is on, and past a beam's end. The
    one place the score is computed."""
    keep = cols["present"] & (cols["logq"] > -np.inf)
    if not setting.with_rules:
        keep &= ~cols["added"]
    weight, floor, roundtrip, rules, first = setting
    s = cols["logp"].copy()
    if weight:
        q = cols["logq"] if floor is None else np.maximum(cols["logq"], -floor)
        s += weight * q
    if roundtrip:
        s += roundtrip * cols["logr"]
    if rules:
        s += rules * cols["rule"]
    if first:
        s += first * cols["first"]
    return np.where(keep, s, -np.inf)


def rerank_hits(scored, targets: list[str], settings: list[Setting]) -> np.ndarray:
    """settings x rows: whether the first of each beam ranked with each setting
    is the row's target (the first of equals, as :func:`rank` orders them)."""
    cols = _columns(scored)
    right = np.zeros_like(cols["present"])
    for i, (beam, t) in enumerate(zip(scored, targets, strict=True)):
        right[i, : len(beam)] = [h.form == t for h in beam]
    rows, first = np.arange(len(scored)), np.zeros(len(scored), dtype=int)

    def pick(s: Setting) -> np.ndarray:
        # Plain beam search, or all -inf (nothing scored): the search's first.
        return _scores(cols, s).argmax(1) if s.reranks else first

    return np.array([right[rows, pick(s)] for s in settings]).reshape(len(settings), len(scored))


def rerank_accuracy(scored, targets: list[str], setting: Setting) -> float:
    """Exact match (%) of the first of each beam of ``scored`` ranked with
    ``setting``."""
    return 100.0 * float(rerank_hits(scored, targets, [setting]).mean())


def cross_validated_rerank(
    scored, targets: list[str], grid: list[Setting], *, splits: int = 3
) -> dict:
    """How well choosing a reranking setting of ``grid`` on dev carries to words
    it was not chosen on: the grid's best on all rows (what training stores, a
    dev-selected number) and, over ``splits`` random halvings, the accuracy of
    the setting chosen on one half scored on the other, both ways (the setting
    first in grid order among equals, as :meth:`Predictor.tune_rerank`)."""
    hits = rerank_hits(scored, targets, grid)
    rows = list(range(len(targets)))

    def accuracy(subset, g: int) -> float:
        return 100.0 * float(hits[g, subset].mean()) if subset else 0.0

    def best(subset) -> int:
        return int(hits[:, subset].sum(1).argmax())  # the first of equals

    chosen = best(rows)
    cv = []
    for seed in range(splits):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        halves = shuffled[: len(rows) // 2], shuffled[len(rows) // 2 :]
        right = sum(
            accuracy(halves[b], best(halves[a])) * len(halves[b]) for a, b in ((0, 1), (1, 0))
        )
        cv.append(round(right / max(len(rows), 1), 3))
    return {
        "dev_selected": round(accuracy(rows, chosen), 3),
        "chosen": grid[chosen]._asdict(),
        "cross_validated": cv,
        "cross_validated_mean": round(sum(cv) / len(cv), 3),
    }


def rank(scored: list[list[Hypothesis]], setting: Setting) -> list[list[Hypothesis]]:
    """Each beam of :class:`Hypothesis` sorted by reranking's score with
    ``setting`` (:func:`_scores`; stable; unscored hypotheses, log q = -inf,
    stay last); the rules' added forms only where a rules' weight is on."""
    if not setting.with_rules:
        scored = [[h for h in beam if not h.added] for beam in scored]
    if not setting.reranks:
        return scored
    s = _scores(_columns(scored), setting)
    return [
        [beam[j] for j in sorted(range(len(beam)), key=lambda j: -s[i, j])]
        for i, beam in enumerate(scored)
    ]


# -- files ------------------------------------------------------------------------


def read_gold(
    path: str | os.PathLike, fmt: str | None = None, *, skip_bad: bool = False
) -> list[formats.Example]:
    """The rows of a labeled file; an error naming the first row without a gold form."""
    examples = formats.read(path, fmt, skip_bad=skip_bad)
    missing = [e.line for e in examples if e.target is None]
    if missing:
        raise ReinflectError(f"{path}:{missing[0]}: no gold form (a covered file?)")
    return examples


def evaluate(
    predictor: Predictor,
    gold_path: str | os.PathLike,
    *,
    fmt: str | None = None,
    by_tag: bool = False,
    predictions_path: str | os.PathLike | None = None,
    skip_bad: bool = False,
    **decode,
) -> dict:
    """Score predictions on a gold file: accuracy, mean Levenshtein, chrF, counts.
    ``decode`` goes to :meth:`Predictor.inflect` (``beam``, default 8; ``rerank``,
    ``rerank_floor``, ``rerank_roundtrip``, default the model's)."""
    examples = read_gold(gold_path, fmt, skip_bad=skip_bad)
    bundles = predictor.file_bundles(examples, gold_path)
    predicted = predictor.predict_examples(examples, bundles, **decode)
    if predictions_path is not None:
        formats.write(predictions_path, predicted, fmt or formats.detect(gold_path))
    groups = [e.target_tags for e in examples] if by_tag else None
    return metrics.score([p.target for p in predicted], [e.target for e in examples], groups)


ENSEMBLE_MANIFEST = "ensemble.json"


def ensemble_manifest(path: str | os.PathLike) -> Path | None:
    """The ensemble manifest (``reinflect ensemble``) that ``path`` names: a run
    directory holding ``ensemble.json``, or a ``.json`` file; None for anything
    else (a model)."""
    path = Path(path)
    if path.is_dir():
        path = path / ENSEMBLE_MANIFEST
    return path if path.suffix == ".json" and path.is_file() else None


# -- loading ----------------------------------------------------------------------


def load(
    paths: str | os.PathLike | list[str | os.PathLike],
    *,
    engine: str = "torch",
    device: str = "cpu",
) -> Predictor:
    """The trained model at ``paths``: a run directory, a ``model.pt`` or
    ``model.npz``, several of them (an ensemble), or the folder or manifest
    ``reinflect ensemble`` wrote (the ensemble with its reranking weights).

    ``engine``: ``torch`` (batches, ``device``, ensembles); ``numpy`` (one
    model's ``model.npz``, no torch import); ``auto``: numpy where one model
    has an up-to-date ``model.npz`` the numpy engine can run, else torch
    (writing the twin for next time).
    """
    if engine not in ENGINES:
        raise ReinflectError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not paths:
        raise ReinflectError("no model given")
    manifest = next((m for m in map(ensemble_manifest, paths) if m), None)
    if manifest is None and len(paths) == 1:
        return _load_one(Path(paths[0]), engine, device)
    if manifest is not None and len(paths) > 1:
        raise UsageError(f"{manifest} is an ensemble: give it as the only --model")
    if engine == "numpy":
        raise ReinflectError("the numpy engine predicts with one model; ensembles need torch")
    from reinflect.morph import ensemble

    record = None
    if manifest is not None:
        paths, record = ensemble.read_manifest(manifest)
    members = [_load_one(Path(p), "torch", device) for p in paths]
    e = ensemble.Ensemble(members, list(map(str, paths)))
    e.use_rerank(record)
    return e


def _load_one(path: Path, engine: str, device: str) -> Predictor:
    pt = checkpoint.model_path(path)
    refused = False
    if engine != "torch":
        npz = pt if pt.suffix == ".npz" else checkpoint.companion(pt)
        if npz is not None:
            from reinflect.morph import numpy_engine

            try:
                return numpy_engine.NumpyReinflector.load(npz)
            except numpy_engine.Unsupported as e:
                if engine == "numpy" or not pt.is_file():
                    raise
                log.info("%s; predicting with torch", e)
                refused = True
        elif engine == "numpy":
            raise ReinflectError(f"{pt}: no up-to-date model.npz beside it for the numpy engine")
    if not pt.is_file() or pt.suffix == ".npz":
        raise ReinflectError(
            f"no trained model at {path}; train one with: "
            f"reinflect train --train FILE --dev FILE --out {path}"
        )
    from reinflect.morph import torch_engine

    payload = checkpoint.load(pt, map_location=device)
    r = torch_engine.Reinflector.from_payload(payload, device)
    if engine == "auto" and not refused and pt.name == checkpoint.MODEL:
        # A model trained before the twin existed (or a stale twin): write it, so
        # the next call is fast. Not for last.pt, which each save replaces.
        try:
            checkpoint.export(payload, pt.with_suffix(".npz"), source=pt)
        except (OSError, ReinflectError) as e:
            log.info("could not write %s: %s", pt.with_suffix(".npz"), e)
    return r
