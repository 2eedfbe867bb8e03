"""Data sets: the catalogue, fetching from a mirror, checksums, resumable
downloads, the offline message, and the --dataset shortcut."""

import io
import urllib.error

import pytest
from typer.testing import CliRunner

from reinflect import cli, download
from reinflect.errors import DataMissingError, ReinflectError

runner = CliRunner()


def test_catalogue_has_no_test_files_and_pins_sources():
    for name in ("sigmorphon2016", "conll2017"):
        files = download.catalogue(name)
        assert files and not any("test" in f.name for f in files)
        assert all(len(f.sha256) == 64 and "/" not in f.name for f in files)
    assert len(download.languages("sigmorphon2016")) == 10
    assert len(download.languages("conll2017")) == 52
    assert "f397ed13b2aac85c08712f984a28a9d9671b2a97" in download.SOURCES["sigmorphon2016"]


def test_fetch_from_a_mirror_into_a_folder(data_mirror, tmp_path):
    counts = download.fetch("sigmorphon2016", langs=["navajo"], dest=tmp_path, progress=False)
    assert counts["copied"] == 6 and counts["files"] == 6
    assert (tmp_path / "navajo-task3-train").read_bytes() == (
        data_mirror / "sigmorphon2016" / "navajo-task3-train"
    ).read_bytes()
    again = download.fetch("sigmorphon2016", langs=["navajo"], dest=tmp_path, progress=False)
    assert again["present"] == 6 and again["copied"] == 0
    res = runner.invoke(
        cli.app, ["data", "fetch", "mnist", "--dest", str(tmp_path / "m"), "--no-progress"]
    )
    assert res.exit_code == 0 and "4 copied from the mirror" in res.stdout


def test_a_checksum_mismatch_is_detected(tmp_path):
    mirror = tmp_path / "mirror" / "sigmorphon2016"
    mirror.mkdir(parents=True)
    for f in download.catalogue("sigmorphon2016"):
        if f.lang == "navajo":
            (mirror / f.name).write_text("tampered\trow\there\n")
    with pytest.raises(ReinflectError, match="checksum mismatch for navajo-task1-dev"):
        download.fetch(
            "sigmorphon2016",
            langs=["navajo"],
            dest=tmp_path / "d",
            mirror=tmp_path / "mirror",
            progress=False,
        )
    assert not list((tmp_path / "d").iterdir())  # nothing bad was kept


def test_offline_without_a_mirror_names_the_mirror_option(tmp_path, monkeypatch):
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)

    def offline(*a, **k):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(download.urllib.request, "urlopen", offline)
    res = runner.invoke(
        cli.app, ["data", "fetch", "mnist", "--dest", str(tmp_path), "--no-progress"]
    )
    assert res.exit_code == 1
    assert "cannot download https://" in res.stderr and "pass --mirror DIR" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


class _Response(io.BytesIO):
    def __init__(self, body: bytes, status: int):
        super().__init__(body)
        self.status = status
        self.headers = {"Content-Length": str(len(body))}


def test_a_partial_download_resumes_with_a_range_request(tmp_path, monkeypatch):
    body = b"walk\tV;PST\twalked\n" * 1000
    f = download.RemoteFile(
        "x-train", "https://example.org/x-train", download.hashlib.sha256(body).hexdigest()
    )
    monkeypatch.setattr(download, "catalogue", lambda name: [f])
    monkeypatch.setattr(download, "_select", lambda name, langs: [f])
    part = tmp_path / ".x-train.part"
    part.write_bytes(body[:5000])  # an earlier download stopped here
    ranges = []

    def serve(req, timeout):
        ranges.append(req.headers.get("Range"))
        start = int(req.headers["Range"].split("=")[1].rstrip("-")) if ranges[-1] else 0
        return _Response(body[start:], 206 if start else 200)

    monkeypatch.setattr(download.urllib.request, "urlopen", serve)
    counts = download.fetch("sigmorphon2016", dest=tmp_path, mirror="", progress=False)
    assert ranges == ["bytes=5000-"] and counts["downloaded"] == 1
    assert (tmp_path / "x-train").read_bytes() == body and not part.exists()


def test_dataset_shortcut_resolves_files(data_mirror, tmp_path):
    train, dev = download.dataset_files("sigmorphon2016", "turkish", task=3)
    assert [t.name for t in train] == ["turkish-task3-train"] and dev.name == "turkish-task3-dev"
    train, dev = download.dataset_files("sigmorphon2016", "maltese", setting="standard")
    assert [t.name for t in train] == ["maltese-task1-train", "maltese-task3-train"]
    train, dev = download.dataset_files("conll2017", "english", setting="low")
    assert [t.name for t in train] == ["english-train-low"] and dev.name == "english-dev"
    with pytest.raises(ReinflectError, match="restricted or standard, got 'high'"):
        download.dataset_files("sigmorphon2016", "turkish", setting="high")
    with pytest.raises(ReinflectError, match="did you mean turkish"):
        download.dataset_files("sigmorphon2016", "turkis")
    with pytest.raises(DataMissingError, match="reinflect data fetch sigmorphon2016 --lang navajo"):
        download.dataset_files("sigmorphon2016", "navajo", data_dir=tmp_path)
    out = tmp_path / "run"
    args = ["train", "--dataset", "sigmorphon2016", "--lang", "navajo", "--out", str(out)]
    args += ["--setting", "standard"]  # the train files of tasks 1-3
    args += ["--max-steps", "1", "--eval-every", "1", "--no-progress", "--supervised-only"]
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli.app,
        ["evaluate", "--dataset", "sigmorphon2016", "--lang", "navajo", "--model", str(out)]
        + ["--beam", "1", "--json"],
    )
    assert res.exit_code == 0 and '"total": ' in res.stdout


def test_a_downloaded_amat_is_checked_then_stored_gzipped(tmp_path, monkeypatch):
    body = b"0 1 0 1\n" * 100
    f = download.RemoteFile(
        "b_train.amat.gz",
        "https://example.org/b_train.amat",
        "0" * 64,  # the mirror's .gz differs from ours byte-wise; the content decides
        None,
        download.hashlib.sha256(body).hexdigest(),
    )
    monkeypatch.setattr(download, "_select", lambda name, langs: [f])
    served = []
    monkeypatch.setattr(
        download.urllib.request,
        "urlopen",
        lambda req, timeout: served.append(1) or _Response(body, 200),
    )
    download.fetch("binarized_mnist", dest=tmp_path, mirror="", progress=False)
    assert download.gzip.decompress((tmp_path / "b_train.amat.gz").read_bytes()) == body
    again = download.fetch("binarized_mnist", dest=tmp_path, mirror="", progress=False)
    assert again["present"] == 1 and len(served) == 1


def test_dataset_files_that_were_edited_are_refused(data_mirror, tmp_path, monkeypatch):
    import shutil

    _, dev = download.dataset_files("conll2017", "english", setting="low")
    copy = tmp_path / "conll2017" / "task1"
    copy.mkdir(parents=True)
    for name in ("english-train-low", "english-dev"):
        shutil.copy(dev.parent / name, copy / name)
    monkeypatch.setenv(download.MIRROR_ENV, str(tmp_path))
    assert download.dataset_files("conll2017", "english", setting="low")[1] == copy / "english-dev"
    with (copy / "english-dev").open("a") as f:
        f.write("walk\twalked\tV;PST\n")
    with pytest.raises(ReinflectError, match=r"english-dev: not the published conll2017 file"):
        download.dataset_files("conll2017", "english", setting="low")
