"""Where data sets live on disk, the local mirror, and fetching them.

A data set ``NAME`` is looked for, in order, in an explicit ``--data-dir``,
in ``$REINFLECT_DATA_MIRROR/NAME`` (a directory laid out like the project's
``../shared/data``), and in the user cache ``~/.cache/reinflect/data/NAME``.

``fetch`` fills the cache (or ``--dest``) from the public sources, pinned to
fixed commits, with a sha256 check of every file and resumable downloads
(``FILE.part`` and an HTTP range request), or copies from a mirror. Test
files are never fetched: reinflect does not read them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reinflect.checkpoint import sha256_of
from reinflect.errors import DataMissingError, ReinflectError, did_you_mean

MIRROR_ENV = "REINFLECT_DATA_MIRROR"

SOURCES = {
    "sigmorphon2016": "https://raw.githubusercontent.com/ryancotterell/sigmorphon2016/"
    "f397ed13b2aac85c08712f984a28a9d9671b2a97/data/",
    "conll2017": "https://raw.githubusercontent.com/sigmorphon/conll2017/"
    "519bb1677a7c747b3863d37069ffd395062288d8/all/task1/",
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "binarized_mnist": "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",
}
# Where each data set sits inside a mirror laid out like ../shared/data.
MIRROR_FOLDERS = {"conll2017": "conll2017/task1"}
DESCRIPTIONS = {
    "sigmorphon2016": "SIGMORPHON 2016 reinflection, tasks 1-3, 10 languages (train, dev)",
    "conll2017": "CoNLL-SIGMORPHON 2017 task 1, 52 languages (train high/medium/low, dev)",
    "mnist": "MNIST digits, IDX files (M2)",
    "binarized_mnist": "MNIST, Larochelle's fixed binarization (M1)",
}
MNIST_FILES = {  # name: sha256 (see ../shared/data/mnist/DATA.md)
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
BINARIZED_FILES = {  # split: (sha256 of the .amat.gz kept, sha256 of the .amat downloaded)
    "train": (
        "af247bd6075cf9adc4715459dcd5f13eaa99a2c92d8d81379a05da94770b6c0e",
        "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
    ),
    "valid": (
        "533b71bc0198f4d73c54ae5fe6c96fc08dc3cf1b3fae24c5521dbc0452507e38",
        "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
    ),
    "test": (
        "32a3c54d03504632bf9f131b4a148c7567aa6fc87da017049b044bdc14c2a0f2",
        "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
    ),
}
OFFLINE_HINT = (
    f"offline? pass --mirror DIR or set {MIRROR_ENV} to a folder laid out like "
    "../shared/data (NAME/FILE)"
)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reinflect" / "data"


def candidates(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for data set ``name``, in order."""
    if data_dir is not None:
        return [Path(data_dir)]
    found = []
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        found.append(Path(mirror) / MIRROR_FOLDERS.get(name, name))
    found.append(cache_root() / name)
    return found


def locate(name: str, files: list[str], data_dir: str | os.PathLike | None = None) -> Path:
    """The first candidate directory holding all of ``files``; a clear error otherwise."""
    tried = candidates(name, data_dir)
    for d in tried:
        if all((d / f).is_file() for f in files):
            return d
    missing = [f for f in files if not (tried[0] / f).is_file()]
    where = ", ".join(str(d) for d in tried)
    fetch_hint = f"run `reinflect data fetch {name}`, " if name in SOURCES else ""
    raise DataMissingError(
        f"{name} data not found (looked in {where}; {tried[0]} lacks {', '.join(missing)}): "
        f"{fetch_hint}pass --data-dir DIR, or set {MIRROR_ENV} to a folder that holds {name}/"
    )


# -- the catalogue ---------------------------------------------------------------


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name on disk, where it comes from, its sha256,
    and (for a file stored gzip-compressed) the sha256 of what is downloaded."""

    name: str
    url: str
    sha256: str
    lang: str | None = None
    download_sha256: str | None = None

    @property
    def compress(self) -> bool:
        return self.download_sha256 is not None


@cache
def _checksums() -> dict[str, dict[str, str]]:
    return json.loads((Path(__file__).parent / "checksums.json").read_text())


def _lang_of(filename: str) -> str:
    for marker in ("-task", "-train", "-dev"):
        if marker in filename:
            return filename.split(marker)[0]
    return filename


def catalogue(name: str) -> list[RemoteFile]:
    """Every file of data set ``name``."""
    if name not in SOURCES:
        raise ReinflectError(f"unknown data set {name!r}; known: {', '.join(SOURCES)}")
    base = SOURCES[name]
    if name == "mnist":
        return [RemoteFile(f, base + f, h) for f, h in MNIST_FILES.items()]
    if name == "binarized_mnist":
        return [
            RemoteFile(
                f"binarized_mnist_{s}.amat.gz", f"{base}binarized_mnist_{s}.amat", gz, None, raw
            )
            for s, (gz, raw) in BINARIZED_FILES.items()
        ]
    return [RemoteFile(f, base + f, h, _lang_of(f)) for f, h in _checksums()[name].items()]


def languages(name: str) -> list[str]:
    return sorted({f.lang for f in catalogue(name) if f.lang})


def _select(name: str, langs: list[str] | None) -> list[RemoteFile]:
    files = catalogue(name)
    if not langs:
        return files
    known = languages(name)
    if not known:
        raise ReinflectError(f"{name} has no languages; leave out --lang")
    for lang in langs:
        if lang not in known:
            raise ReinflectError(
                f"{name} has no language {lang!r}{did_you_mean(lang, known)} "
                f"(known: {', '.join(known)})"
            )
    return [f for f in files if f.lang in langs]


# -- fetching ----------------------------------------------------------------------


def _is_present(f: RemoteFile, target: Path) -> bool:
    """``target`` holds ``f``: its sha256, or for a file we compressed ourselves,
    the sha256 of its content."""
    if not target.is_file():
        return False
    if sha256_of(target) == f.sha256:
        return True
    if f.compress:
        h = hashlib.sha256()
        with gzip.open(target, "rb") as g:
            for block in iter(lambda: g.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == f.download_sha256
    return False


def _download(url: str, part: Path, *, progress: bool) -> None:
    """Download ``url`` into ``part``, continuing a partial file with a range request."""
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "reinflect"} | ({"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the file is complete
            return
        raise ReinflectError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ReinflectError(f"cannot download {url} ({reason}); {OFFLINE_HINT}") from None
    with resp:
        if have and resp.status != 206:  # the server ignored the range: start again
            have = 0
        size = resp.headers.get("Content-Length")
        total = have + int(size) if size else None
        with (
            part.open("ab" if have else "wb") as out,
            tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
            ) as bar,
        ):
            for block in iter(lambda: resp.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def _finish(f: RemoteFile, got: Path, dest: Path) -> None:
    """Check ``got`` (the downloaded or copied bytes) and put it in place."""
    expected = f.download_sha256 or f.sha256
    digest = sha256_of(got)
    if digest != expected:
        got.unlink(missing_ok=True)
        raise ReinflectError(
            f"checksum mismatch for {f.name} from {f.url}: sha256 {digest}, expected {expected}; "
            "the bad copy was removed, fetch again"
        )
    target = dest / f.name
    if f.compress:
        tmp = target.with_name(target.name + ".tmp")
        with got.open("rb") as src, gzip.GzipFile(tmp, "wb", compresslevel=9, mtime=0) as gz:
            shutil.copyfileobj(src, gz)
        got.unlink()
        os.replace(tmp, target)
    else:
        os.replace(got, target)


def fetch(
    name: str,
    *,
    langs: list[str] | None = None,
    dest: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict[str, int | str]:
    """Make the files of ``name`` (only ``langs``, if given) present in ``dest``
    (default: the user cache), copying from ``mirror`` (default: $REINFLECT_DATA_MIRROR)
    or downloading; every file is checked against its sha256. Returns counts.
    """
    files = _select(name, langs)
    dest = Path(dest) if dest is not None else cache_root() / name
    dest.mkdir(parents=True, exist_ok=True)
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    source = Path(mirror) / MIRROR_FOLDERS.get(name, name) if mirror else None
    counts = {"present": 0, "copied": 0, "downloaded": 0}
    for f in files:
        target = dest / f.name
        if _is_present(f, target):
            counts["present"] += 1
            continue
        part = dest / f".{f.name}.part"
        if source is not None:
            stored = source / f.name
            if not stored.is_file():
                raise ReinflectError(f"{f.name} is not in the mirror {source}")
            shutil.copyfile(stored, part)
            # A mirror holds the stored form (for binarized MNIST, the .gz).
            _finish(RemoteFile(f.name, str(stored), f.sha256), part, dest)
            counts["copied"] += 1
        else:
            _download(f.url, part, progress=progress)
            _finish(f, part, dest)
            counts["downloaded"] += 1
    return counts | {"files": len(files), "dest": str(dest)}


def status() -> list[dict]:
    """Per data set: files, languages, and where (if anywhere) they are present."""
    rows = []
    for name in SOURCES:
        files = catalogue(name)
        places = []
        for d in candidates(name):
            n = sum((d / f.name).is_file() for f in files)
            if n:
                places.append(f"{d} ({n}/{len(files)})")
        rows.append(
            {
                "name": name,
                "description": DESCRIPTIONS[name],
                "files": len(files),
                "languages": len(languages(name)),
                "present": places,
                "source": SOURCES[name],
            }
        )
    return rows


SETTINGS = {
    "sigmorphon2016": ("restricted", "standard"),  # task T's train file / tasks 1..T's
    "conll2017": ("high", "medium", "low"),  # training size
}


def _setting(name: str, setting: str | None) -> str:
    allowed = SETTINGS[name]
    setting = setting or allowed[0]
    if setting not in allowed:
        choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise ReinflectError(f"--setting for {name} must be {choices}, got {setting!r}")
    return setting


def dataset_files(
    name: str, lang: str, *, task: int = 3, setting: str | None = None, data_dir=None
) -> tuple[list[Path], Path]:
    """(train files, dev file) of a reinflection data set, found on disk (mirror
    or cache). SIGMORPHON 2016: ``<lang>-task<T>-train/dev``; the ``standard``
    setting trains on the train files of tasks 1..T (as the shared task's
    standard track did), ``restricted`` (the default) on task T's only.
    CoNLL 2017: ``<lang>-train-<setting>`` (high by default) and ``<lang>-dev``."""
    if name == "sigmorphon2016":
        if task not in (1, 2, 3):
            raise ReinflectError(f"--task must be 1, 2 or 3, got {task}")
        tasks = range(1, task + 1) if _setting(name, setting) == "standard" else [task]
        trains, dev = [f"{lang}-task{t}-train" for t in tasks], f"{lang}-task{task}-dev"
    elif name == "conll2017":
        trains, dev = [f"{lang}-train-{_setting(name, setting)}"], f"{lang}-dev"
    else:
        raise ReinflectError(
            f"--dataset must be sigmorphon2016 or conll2017 for reinflection, got {name!r}"
        )
    _select(name, [lang])  # a clear error for an unknown language
    known = {f.name: f for f in catalogue(name)}
    if trains[-1] not in known:
        raise ReinflectError(f"{name} has no file {trains[-1]} (for example maltese-task2-train)")
    trains = [t for t in trains if t in known]  # maltese-task2-train does not exist
    try:
        root = locate(name, [*trains, dev], data_dir)
    except DataMissingError as e:
        raise DataMissingError(
            f"{e}; or fetch them: reinflect data fetch {name} --lang {lang}"
        ) from None
    for path in [root / t for t in trains] + [root / dev]:
        if not _is_present(known[path.name], path):
            raise ReinflectError(
                f"{path}: not the published {name} file (its sha256 differs: edited or cut "
                f"off?); fetch it again: reinflect data fetch {name} --lang {lang}"
            )
    return [root / t for t in trains], root / dev
