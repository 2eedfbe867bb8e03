"""Files into training data: the labeled pairs, the dev file, the tag schema,
the vocabulary, the unlabeled words and the datasets the trainer batches.

:meth:`Corpus.read` is the one place a training run reads its files; the
trainer (``reinflect.morph.train``) only builds the model and the loop on it.
Test files are never read (``unlabeled.refuse_test``).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from reinflect.errors import ReinflectError
from reinflect.morph import data, formats, tags, unlabeled, vocab

log = logging.getLogger(__name__)


def guess_language(path: str | os.PathLike) -> str | None:
    """``turkish-task3-train`` -> ``turkish``; ``english-train-high`` -> ``english``."""
    m = re.match(r"([a-z-]+?)-(task\d|train|dev)", Path(path).name)
    return m.group(1) if m else None


def read_training(paths, fmt: str | None = None, *, skip_bad: bool = False):
    """The labeled pairs of one or more training files, as task-3 pairs.

    A task-1 row (lemma, tags, form) is the pair lemma -> form; a task-2 row
    (source tags, source, target tags, target) gives its pair and the reverse
    one, since both bundles are known. Repeated pairs are kept once.
    """
    seen, out = set(), []
    for path in paths:
        for ex in formats.read(unlabeled.refuse_test(path), fmt, skip_bad=skip_bad):
            if ex.target is None:
                raise ReinflectError(f"{path}:{ex.line}: no target form in a train file")
            pairs = [ex]
            if ex.source_tags is not None:
                pairs.append(formats.Example(ex.target, ex.source_tags, ex.source, None, ex.line))
            for p in pairs:
                key = (p.source, p.target_tags, p.target)
                if key not in seen:
                    seen.add(key)
                    out.append(p)
    return out


def check_dev(
    trained: tags.Schema, dev_ex, dev_bundles, train_paths, dev_path, *, warn: bool = True
) -> None:
    """Refuse a dev file whose tags are of the other style than training's
    (``pos=V,...`` against ``V;...``: the schema would have both); warn of a dev
    file that is a training file, and of tag values training never has (a
    typo, or classes the model cannot learn). ``trained``: the training
    tags' schema; ``dev_bundles``: the dev rows' parsed tags."""
    for e in dev_ex:
        if ("=" not in e.target_tags) != trained.unimorph:
            style = "UniMorph, V;PST" if trained.unimorph else "key=value, pos=V,tense=PST"
            where = ", ".join(str(p) for p in train_paths)
            raise ReinflectError(
                f"{dev_path}:{e.line}: tags {e.target_tags!r} are not in the style of the "
                f"training file's ({style}: {where}); give files of one format"
            )
    if not warn:
        return
    if any(Path(dev_path).resolve() == Path(p).resolve() for p in train_paths):
        log.warning(
            "%s is the training file too: dev accuracy will not say how it generalises", dev_path
        )
    unseen: dict[tuple[str, str], int] = {}
    for e, bundle in zip(dev_ex, dev_bundles, strict=True):
        for d, v in bundle.items():
            if v not in trained.values.get(d, ()):
                unseen.setdefault((d, v), e.line)
    if unseen:
        shown = ", ".join(f"{d}={v} (line {n})" for (d, v), n in list(unseen.items())[:5])
        log.warning(
            "%s: tag values training never has: %s%s; their words cannot be learned",
            dev_path,
            shown,
            f" and {len(unseen) - 5} more" if len(unseen) > 5 else "",
        )


@dataclass
class Corpus:
    """What a run trains and checks on (see the module's docstring)."""

    train_paths: list[Path]
    dev_path: Path
    train_ex: list[formats.Example]
    dev_ex: list[formats.Example]
    dev_bundles: list[dict[str, str]]
    schema: tags.Schema
    vocab: vocab.Vocab
    lang: str | None
    unlabeled_words: list[str]
    unlabeled_counts: dict[str, int]
    train_ds: dict
    unl_ds: dict | None

    @classmethod
    def read(
        cls,
        train_path,
        dev_path,
        *,
        fmt: str | None = None,
        skip_bad: bool = False,
        lang: str | None = None,
        unlabeled_words: bool = True,
        unlabeled_path=None,
        wordfreq_words: int = 0,
        warn: bool = True,
    ) -> Corpus:
        """Read one training file or several (SIGMORPHON's "standard" setting:
        tasks 1-3) and the dev file; with ``unlabeled_words``, gather the pool
        (``unlabeled.pool``: the words of the files, wordfreq's, the user's
        list). ``warn``: log the warnings (rank 0 of several)."""
        paths = [train_path] if isinstance(train_path, str | os.PathLike) else list(train_path)
        if not paths:
            raise ReinflectError("no training file given")
        train_paths = [Path(p) for p in paths]
        where = ", ".join(str(p) for p in train_paths)
        dev_path = unlabeled.refuse_test(dev_path)
        train_ex = read_training(train_paths, fmt, skip_bad=skip_bad)
        dev_ex = formats.read(dev_path, fmt, skip_bad=skip_bad)
        covered = [e.line for e in dev_ex if e.target is None]
        if covered:
            raise ReinflectError(f"{dev_path}:{covered[0]}: no target form in a dev file")
        trained = tags.Schema.build([e.target_tags for e in train_ex], where=where)
        dev_bundles = [tags.parse(e.target_tags) for e in dev_ex]
        check_dev(trained, dev_ex, dev_bundles, train_paths, dev_path, warn=warn)
        schema = tags.Schema.build([e.target_tags for e in train_ex + dev_ex], where=where)
        schema.bundles = trained.bundles  # only training bundles resolve partial tags
        words = [w for e in train_ex for w in (e.source, e.target)]
        chars = vocab.Vocab.build(words)
        lang = lang or guess_language(train_paths[0])
        pool, counts = [], {}
        if unlabeled_words:
            files = unlabeled.sibling_files(train_paths[0]) or [*train_paths, dev_path]
            # Dev files give their inputs only: their targets are the answers.
            dev = [f for f in files if f.resolve() == dev_path.resolve() or unlabeled.is_dev(f)]
            pool, counts = unlabeled.pool(
                charset={c for w in words for c in w},
                files=[f for f in files if f not in dev],
                source_files=dev,
                lang=lang,
                wordfreq_n=wordfreq_words,
                user_list=unlabeled_path,
                skip_bad=skip_bad,
            )
        return cls(
            train_paths=train_paths,
            dev_path=dev_path,
            train_ex=train_ex,
            dev_ex=dev_ex,
            dev_bundles=dev_bundles,
            schema=schema,
            vocab=chars,
            lang=lang,
            unlabeled_words=pool,
            unlabeled_counts=counts,
            train_ds=data.labeled_dataset(train_ex, chars, schema, where=where),
            unl_ds=data.unlabeled_dataset(pool, chars) if pool else None,
        )
