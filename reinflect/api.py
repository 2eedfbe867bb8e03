"""The Python API: load a trained model, inflect and analyze words, train a model.

    import reinflect
    m = reinflect.load("runs/turkish")              # a run dir, a model.pt, or an ensemble dir
    m.inflect("kitap", "pos=N,case=DAT,num=PL")     # -> "kitaplara"
    m.inflect("plays", "PST", nbest=3)              # partial tags; [(form, logp), ...]
    m.inflect_many([("kitap", "N;DAT;PL"), ("ev", "N;ABL;SG")], beam=8)
    m.analyze("kitaplara", top=3)                   # [("N;DAT;PL", 0.97), ...]
    m.evaluate("turkish-task3-dev")                 # {"accuracy": ..., "levenshtein": ...}
    reinflect.train(train="t.tsv", dev="d.tsv", out="runs/t", minutes=5)

Tags are a full bundle (UniMorph ``N;DAT;PL`` or 2016 ``pos=N,case=DAT``) or
partial (``PST``: the source's analysis with those dimensions changed), as on
the command line; the form is the model's default decoding (beam 8,
reranked with the weights training chose). Errors are
:class:`reinflect.errors.ReinflectError` with the message the CLI prints.
Nothing here imports torch until a model needs it (``engine="auto"`` runs a
single model's ``model.npz`` with numpy).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reinflect.errors import ReinflectError

Pair = tuple[str, str]


class Model:
    """A trained reinflection model (or ensemble); see the module's examples."""

    def __init__(self, predictor, *, summary: dict | None = None) -> None:
        self._predictor = predictor
        #: what training reported (``summary.json``), for a model :func:`train` made
        self.summary = summary

    @property
    def tags(self) -> dict[str, list[str]]:
        """Each tag dimension and the values training saw."""
        schema = self._predictor.schema
        return {d: schema.values[d][1:] for d in schema.dimensions}

    def inflect(
        self, word: str, tags: str, *, nbest: int | None = None, beam: int = 8, **decoding: Any
    ) -> str | list[tuple[str, float]]:
        """The form of ``word`` for ``tags``; with ``nbest`` the ``nbest`` best
        (form, log p(form | z, y)) pairs instead. ``decoding``: ``rerank``,
        ``rerank_floor``, ``rerank_roundtrip``, ``rerank_rules``, ``rerank_first``
        (default: the model's) and ``lookup`` (default True: a pair training held
        gives its training form, with log-probability 0)."""
        return self.inflect_many([(word, tags)], nbest=nbest, beam=beam, **decoding)[0]

    def inflect_many(
        self,
        pairs: list[Pair],
        *,
        nbest: int | None = None,
        beam: int = 8,
        batch_size: int = 256,
        **decoding: Any,
    ) -> list[str] | list[list[tuple[str, float]]]:
        """:meth:`inflect` for every (word, tags) of ``pairs``, decoded in batches."""
        p = self._predictor
        words, bundles = [], []
        for i, pair in enumerate(pairs):
            try:
                word, raw = pair
            except (TypeError, ValueError):
                raise ReinflectError(f"pair {i}: expected (word, tags), got {pair!r}") from None
            if not isinstance(word, str) or not word.strip():
                raise ReinflectError(f"pair {i}: the word must be a non-empty string, got {word!r}")
            try:
                bundle, _ = p.target_bundle(word, raw)
            except ReinflectError as e:
                raise ReinflectError(f"pair {i} ({word!r}, {raw!r}): {e}") from None
            words.append(word)
            bundles.append(bundle)
        k = nbest or 1
        if k > beam:
            raise ReinflectError(f"nbest ({k}) cannot exceed beam ({beam})")
        hyps = p.inflect(words, bundles, beam=beam, nbest=k, batch_size=batch_size, **decoding)
        if nbest is None:
            return [h[0][0] if h else "" for h in hyps]
        return [list(h) for h in hyps]

    def analyze(self, word: str, *, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` tag bundles of ``word`` under q(y|x), as tag strings with
        their probabilities (renormalized over the bundles seen in training)."""
        if not isinstance(word, str) or not word.strip():
            raise ReinflectError(f"the word must be a non-empty string, got {word!r}")
        p = self._predictor
        return [(p.render(b), prob) for b, prob in p.analyze(word, top=top)]

    def evaluate(self, gold: str | os.PathLike, *, beam: int = 8, **options: Any) -> dict:
        """Accuracy (%), mean Levenshtein distance, chrF and counts of the model's
        forms on the labeled file ``gold`` (what ``reinflect evaluate`` prints);
        ``options``: ``by_tag``, ``predictions_path``, ``fmt`` and the
        ``decoding`` of :meth:`inflect`."""
        from reinflect.morph import predict

        return predict.evaluate(self._predictor, gold, beam=beam, **options)

    def __repr__(self) -> str:
        kind = type(self._predictor).__name__
        return f"<reinflect.Model {kind}: {len(self.tags)} tag dimensions>"


def load(
    path: str | os.PathLike | list[str | os.PathLike],
    *,
    engine: str = "auto",
    device: str = "cpu",
) -> Model:
    """The model at ``path``: a run directory, a ``model.pt`` or ``model.npz``,
    an ensemble directory (``reinflect ensemble``) or a list of models.
    ``engine``: ``auto`` (numpy for one model with its ``model.npz``, else
    torch), ``torch`` or ``numpy``; ``device`` for torch (``cpu``, ``cuda``)."""
    from reinflect.morph import predict

    return Model(predict.load(path, engine=engine, device=device))


def train(
    *,
    train: str | os.PathLike | list[str | os.PathLike] | None = None,
    dev: str | os.PathLike | None = None,
    out: str | os.PathLike = "runs/default",
    config: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    plots: bool = True,
    **options: Any,
) -> Model:
    """Train as ``reinflect train`` does and return the trained model (its
    summary in ``.summary``). ``options`` are the CLI's options by their
    names with ``_`` (``minutes=5``, ``dataset="conll2017"``, ``lang="german"``,
    ``setting="low"``, ``supervised_only=True``, ...); ``config`` a TOML file
    they override; without ``train`` and ``dev`` (or ``dataset``) it trains on
    the bundled English sample. What the training set's size chose is logged
    and kept in ``out/config.toml``; with ``plots`` (and matplotlib) the
    pictures of :mod:`reinflect.morph.plots` are drawn at the end."""
    from reinflect import config as cfg
    from reinflect.morph import train as morph_train

    if train is not None:
        options["train"] = [train] if isinstance(train, str | os.PathLike) else list(train)
    if dev is not None:
        options["dev"] = dev
    run = cfg.resolve_morph(options, config_file=config)
    cfg.sample_defaults(run, resume=resume)
    summary = morph_train.run(
        run, out=out, resume=resume, overwrite=overwrite, progress=progress, pictures=plots
    )
    return Model(load(Path(out), engine="torch")._predictor, summary=summary)
