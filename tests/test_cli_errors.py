"""The catalogue of user-facing failures, through the real entry point
(``reinflect.cli.main``): one line on stderr, exit 2 for usage and 1 at run
time, no traceback unless --debug, and nothing already written lost."""

import errno
import os
import stat
import subprocess
import sys

import pytest
import torch
from helpers import TOY, write_rows

from reinflect import checkpoint, cli, config
from reinflect.errors import ReinflectError
from reinflect.morph import formats
from reinflect.morph import train as morph_train

PAIRS = [TOY[i] for i in (0, 3, 4, 7, 8, 11, 13, 16)]
TINY = dict(char_embedding=16, encoder_hidden=32, latent=8, tag_embedding=16, decoder_hidden=32)
_write = write_rows


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    train_f, dev_f = _write(d / "toy-train", PAIRS), _write(d / "toy-dev", PAIRS[:3])
    morph_train.Trainer(
        train_path=train_f,
        dev_path=dev_f,
        out_dir=d / "run",
        model_cfg=config.MorphModelConfig(**TINY, copy=False),
        train_cfg=config.MorphTrainConfig(
            batch_size=8, max_steps=2, eval_every=2, supervised_only=True
        ),
        progress=False,
    ).fit()
    return d / "run"


def call(monkeypatch, capsys, *args):
    """Run ``reinflect ARGS`` through main(); (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["reinflect", *map(str, args)])
    with pytest.raises(SystemExit) as e:
        cli.main()
    out, err = capsys.readouterr()
    return e.value.code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_usage_errors_are_one_line_and_exit_2(monkeypatch, capsys):
    code, _, err = call(monkeypatch, capsys, "predict", "--beem", "3")
    assert code == 2 and "No such option: --beem" in one_line(err)
    code, _, err = call(monkeypatch, capsys, "predict", "plays")
    assert (
        code == 2 and one_line(err) == "error: give WORD and --tags, or --input FILE --output FILE"
    )
    for args in (["predict", "", "--tags", "PST"], ["analyze", " "]):
        code, _, err = call(monkeypatch, capsys, *args)
        assert (
            code == 2 and one_line(err) == f"error: WORD is empty ({args[1]!r}): give a word form"
        )
    code, _, err = call(
        monkeypatch, capsys, "predict", "plays", "--input", "rows.tsv", "--output", "out.tsv"
    )
    assert code == 2 and one_line(err).endswith("--input FILE --output FILE, not both")
    code, _, err = call(monkeypatch, capsys, "predict", "plays", "--tags", "PST", "--beam", "x")
    assert code == 2 and "Invalid value for '--beam'" in one_line(err)
    assert "(see 'reinflect predict --help')" in err
    code, _, err = call(
        monkeypatch, capsys, "predict", "go", "--tags", "PST", "--nbest", "3", "--beam", "2"
    )
    assert code == 2 and one_line(err) == "error: --nbest 3 is more than --beam 2: raise --beam"
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", "g", "--rerank", "-1")
    assert code == 2 and "Invalid value for '--rerank'" in one_line(err)
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", "g", "--rerank-floor", "0")
    assert code == 2 and "Invalid value for '--rerank-floor': must be > 0" in one_line(err)
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", "g", "--rerank-rules", "-1")
    assert code == 2 and "Invalid value for '--rerank-rules'" in one_line(err)


def test_unexpected_errors_are_one_line_unless_debug(monkeypatch, capsys, model_dir):
    def boom(*a, **k):
        raise ValueError("something odd")

    monkeypatch.setattr("reinflect.morph.torch_engine.Reinflector.inflect", boom)
    monkeypatch.setattr("reinflect.morph.numpy_engine.NumpyReinflector.inflect", boom)
    args = ["predict", "plays", "--tags", "V;PST", "--model", model_dir]
    code, _, err = call(monkeypatch, capsys, *args)
    assert code == 1
    assert (
        one_line(err) == "error: ValueError: something odd (rerun with --debug for the traceback)"
    )
    with pytest.raises(ValueError, match="something odd"):
        call(monkeypatch, capsys, "--debug", *args)


def test_missing_model_says_how_to_train(monkeypatch, capsys, tmp_path):
    code, _, err = call(monkeypatch, capsys, "predict", "go", "--tags", "PST", "--model", tmp_path)
    assert code == 1 and "no trained model at" in one_line(err)
    assert "reinflect train --train FILE --dev FILE" in err


def test_corrupt_and_incompatible_checkpoints(monkeypatch, capsys, tmp_path, model_dir):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    code, _, err = call(monkeypatch, capsys, "analyze", "plays", "--model", bad)
    assert code == 1 and "not a readable reinflect checkpoint" in one_line(err)
    payload = checkpoint.load(model_dir / "model.pt")
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    code, _, err = call(monkeypatch, capsys, "analyze", "plays", "--model", tmp_path / "future.pt")
    assert code == 1 and "checkpoint format 99 is not supported" in one_line(err)
    checkpoint.save(tmp_path / "mnist.pt", {"kind": "mnist"})
    code, _, err = call(monkeypatch, capsys, "analyze", "plays", "--model", tmp_path / "mnist.pt")
    assert code == 1 and "a 'mnist' checkpoint, expected 'morph'" in one_line(err)


def test_unknown_feature_at_predict_lists_known_ones_and_close_matches(
    monkeypatch, capsys, model_dir
):
    args = ["predict", "plays", "--model", model_dir, "--tags"]
    code, _, err = call(monkeypatch, capsys, *args, "PSTT")
    assert code == 1 and "unknown UniMorph feature(s) PSTT" in one_line(err)
    assert "did you mean PST" in err
    code, _, err = call(monkeypatch, capsys, *args, "Tense=PTS")
    assert "unknown value 'PTS' for Tense; did you mean PST or PRS? (known: PRS, PST)" in one_line(
        err
    )
    code, _, err = call(monkeypatch, capsys, *args, "Tence=PST")
    assert "unknown tag dimension(s) Tence; did you mean Tense?" in one_line(err)
    assert "(known: Finiteness, Number, POS, Person, Tense)" in err


def test_unseen_characters_warn_and_still_predict(monkeypatch, capsys, model_dir, tmp_path):
    code, out, err = call(
        monkeypatch, capsys, "predict", "plæys", "--tags", "V;PST", "--model", model_dir
    )
    assert code == 0 and out.strip() != ""
    assert "characters 'æ' of 'plæys' were not seen in training" in err
    # The edit rules' forms carry the unseen character; a model that cannot copy
    # scores it as UNK (it once raised an index error).
    args = ["predict", "plæys", "--tags", "V;PST", "--model", model_dir, "--nbest", "3"]
    code, out, err = call(monkeypatch, capsys, *args, "--rerank-rules", "100")
    assert code == 0 and len(out.strip().splitlines()) == 3
    # a file of such words: one line per decode, each word once
    rows = tmp_path / "rows"
    rows.write_text("plæys\tV;PST\tplayed\nwålks\tV;PST\twalked\nplæys\tV;NFIN\tplay\n")
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", rows, "--model", model_dir)
    assert code == 0, err
    assert "2 words have characters not seen in training ('åæ'): 'plæys', 'wålks'" in err
    assert err.count("not seen in training") == 1


def test_bad_rows_name_the_line_and_can_be_skipped(monkeypatch, capsys, tmp_path, model_dir):
    gold = tmp_path / "gold"
    gold.write_text("walk\tV;PST\twalked\nbroken row\nplays\tV;;PST\tplayed\ncat\tN;PL\tcats\n")
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", gold, "--model", model_dir)
    assert code == 1 and f"{gold}:2: expected 3 tab-separated columns, found 1" in one_line(err)
    assert "--skip-bad-lines" in err
    code, out, err = call(
        monkeypatch, capsys, "evaluate", "--gold", gold, "--model", model_dir, "--skip-bad-lines"
    )
    assert code == 0 and "/2)" in out  # the two good rows were scored
    assert f"{gold}: skipped 2 bad line(s); the first: {gold}:2:" in err
    train_f = _write(tmp_path / "t-train", [*PAIRS, ("x",), ("go", "V;PSTX", "went")])
    dev_f = _write(tmp_path / "t-dev", PAIRS[:2])
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", tmp_path / "r"]
    args += ["--max-steps", "1", "--eval-every", "1", "--no-progress", "--supervised-only"]
    code, _, err = call(monkeypatch, capsys, *args)
    assert code == 1 and f"{train_f}:9:" in one_line(err)
    code, out, err = call(monkeypatch, capsys, *args, "--skip-bad-lines")
    assert code == 0 and "skipped 2 bad line(s)" in err and "best dev accuracy" in out


def test_empty_and_non_utf8_files(monkeypatch, capsys, tmp_path, model_dir):
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", empty, "--model", model_dir)
    assert code == 1 and one_line(err) == f"error: {empty}: empty file, cannot tell its format"
    latin = tmp_path / "latin"
    latin.write_bytes("walk\tV;PST\twalked\nstra\xdfe\tN;SG\tx\n".encode("latin-1"))
    code, _, err = call(monkeypatch, capsys, "evaluate", "--gold", latin, "--model", model_dir)
    assert code == 1 and f"{latin}:2: not UTF-8" in one_line(err)


def test_a_second_train_into_a_finished_run_is_refused_and_nothing_is_lost(
    model_dir, monkeypatch, capsys
):
    before = {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()}
    toy = model_dir.parent
    args = ["train", "--train", toy / "toy-train", "--dev", toy / "toy-dev", "--out", model_dir]
    code, _, err = call(monkeypatch, capsys, *args, "--max-steps", "1", "--no-progress")
    line = one_line(err)
    assert code == 1 and f"error: {model_dir} already holds a run (model.pt" in line
    assert "give --resume to continue it, --overwrite to replace it, or another --out" in line
    assert {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()} == before


def test_overwrite_replaces_a_finished_run(tmp_path, monkeypatch, capsys):
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", tmp_path / "r", "--no-progress"]
    small = ["--supervised-only", "--max-steps", "2", "--eval-every", "2"]
    assert call(monkeypatch, capsys, *args, *small)[0] in (0, None)
    assert call(monkeypatch, capsys, *args, *small)[0] == 1
    assert call(monkeypatch, capsys, *args, *small, "--overwrite")[0] in (0, None)
    records = morph_train.train.MetricsLog.read(tmp_path / "r" / "metrics.jsonl")
    assert [r["step"] for r in records] == [2]  # the second run's log, not both appended


def test_an_output_that_is_an_input_or_a_folder_is_refused(
    model_dir, tmp_path, monkeypatch, capsys
):
    rows = _write(tmp_path / "rows", PAIRS[:3])
    before = rows.read_bytes()
    predict = ["predict", "--model", model_dir, "--input", rows, "--output"]
    code, _, err = call(monkeypatch, capsys, *predict, rows)
    assert code == 2 and one_line(err) == (
        f"error: --output {rows} is the --input file; it would be overwritten"
    )
    assert rows.read_bytes() == before
    code, _, err = call(monkeypatch, capsys, *predict, tmp_path)
    assert (
        code == 2 and one_line(err) == f"error: --output {tmp_path}: is a folder; give a file name"
    )
    evaluate = ["evaluate", "--model", model_dir, "--gold", rows, "--predictions", rows]
    code, _, err = call(monkeypatch, capsys, *evaluate)
    assert code == 2 and "is the --gold file; it would be overwritten" in one_line(err)
    assert rows.read_bytes() == before


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be a whole number >= 1, got 0"),
        (["--batch-size", "-5"], "--batch-size must be a whole number >= 1, got -5"),
        (["--eval-every", "0"], "--eval-every must be a whole number >= 1, got 0"),
        (["--max-steps", "0"], "--max-steps must be a whole number >= 1, got 0"),
        (["--minutes", "-1"], "--minutes must be > 0, got -1.0"),
        (["--lr", "-1"], "--lr must be > 0, got -1.0"),
        (
            ["--unlabeled-source", "ending"],
            "--unlabeled-source must be one of none, stem, got 'ending'",
        ),
        (
            ["--unlabeled-source", "stem", "--no-copy"],
            "--unlabeled-source stem needs source attention (--source-attention)",
        ),
    ],
)
def test_training_options_out_of_range_are_named(tmp_path, monkeypatch, capsys, option, message):
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    out = tmp_path / "r"
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", out, "--no-progress", *option]
    code, _, err = call(monkeypatch, capsys, *args)
    assert code == 1 and one_line(err) == f"error: {message}"
    assert not out.exists()  # nothing written, no model claimed


def test_skip_bad_lines_reaches_the_unlabeled_words_and_a_bom_is_not_a_character(
    tmp_path, monkeypatch, capsys
):
    rows = ["\t".join(r) for r in PAIRS]
    rows[6] = "a\tb\tc\td\te"  # line 7: five columns
    train_f = tmp_path / "t-train"
    train_f.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    dev_f = _write(tmp_path / "t-dev", PAIRS[:3])
    out = tmp_path / "r"
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", out, "--no-progress"]
    small = ["--max-steps", "2", "--eval-every", "2", "--wordfreq-words", "0"]
    code, _, err = call(monkeypatch, capsys, *args, *small)
    assert code == 1 and f"{train_f}:7:" in one_line(err) and "--skip-bad-lines" in err
    code, _, err = call(monkeypatch, capsys, *args, *small, "--skip-bad-lines")
    assert code in (0, None), err
    assert "\ufeff" not in str(checkpoint.load(out / "model.pt")["vocab"])
    assert formats.read(train_f, skip_bad=True)[0].source == PAIRS[0][0]


def test_a_folder_given_as_a_data_file_is_named_as_a_folder(tmp_path, monkeypatch, capsys):
    dev_f = _write(tmp_path / "t-dev", PAIRS[:3])
    folder = tmp_path / "pairs"
    folder.mkdir()
    args = ["train", "--train", folder, "--dev", dev_f, "--out", tmp_path / "r"]
    code, _, err = call(monkeypatch, capsys, *args, "--no-progress")
    assert code == 1 and one_line(err) == f"error: {folder}: is a folder, not a data file"
    # Named before any model is loaded (this one does not exist).
    model = ["--model", str(tmp_path / "none.pt")]
    for cmd in (["evaluate", "--gold", folder], ["predict", "--input", folder]):
        out = ["--output", tmp_path / "p.tsv"] if cmd[0] == "predict" else []
        code, _, err = call(monkeypatch, capsys, *cmd, *out, *model)
        assert code == 1 and one_line(err) == f"error: {folder}: is a folder, not a data file"
    assert not (tmp_path / "p.tsv").exists()


def test_dev_tags_of_another_style_are_refused_and_odd_dev_files_warned_of(
    tmp_path, monkeypatch, capsys
):
    old_style = [(s, "pos=V,tense=PST", t) for s, _, t in PAIRS]
    train_f = _write(tmp_path / "t-train", old_style)
    unimorph_dev = _write(tmp_path / "u-dev", PAIRS[:3])
    small = ["--no-progress", "--supervised-only", "--max-steps", "2", "--eval-every", "2"]
    args = ["train", "--train", train_f, "--out", tmp_path / "r", *small]
    code, _, err = call(monkeypatch, capsys, *args, "--dev", unimorph_dev)
    line = one_line(err)
    assert code == 1 and f"error: {unimorph_dev}:1: tags 'V;PST' are not in the style" in line
    assert "give files of one format" in line and not (tmp_path / "r").exists()
    typo_dev = _write(tmp_path / "x-dev", [("walk", "pos=V,tense=XXX", "walked")])
    code, _, err = call(monkeypatch, capsys, *args, "--dev", typo_dev)
    assert code in (0, None)
    assert f"{typo_dev}: tag values training never has: tense=XXX (line 1)" in err
    code, _, err = call(monkeypatch, capsys, *args, "--dev", train_f, "--overwrite")
    assert code in (0, None) and f"{train_f} is the training file too" in err


def test_resume_with_other_batch_options_is_refused_naming_them(tmp_path, monkeypatch, capsys):
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    out = tmp_path / "r"
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", out, "--no-progress"]
    small = ["--max-steps", "2", "--eval-every", "2", "--batch-size", "4", "--hallucinate", "0"]
    assert call(monkeypatch, capsys, *args, *small)[0] in (0, None)
    before = (out / "last.pt").read_bytes()
    longer = ["--resume", "--max-steps", "4", "--eval-every", "2"]
    code, _, err = call(
        monkeypatch, capsys, *args, *longer, "--batch-size", "5", "--hallucinate", "1"
    )
    line = err.strip().splitlines()[-1]  # after what the size chose
    assert "Traceback" not in err
    assert code == 1 and f"error: {out / 'last.pt'}: was trained with --batch-size 4, not 5" in line
    assert "--hallucinate 0.0, not 1.0" in line and "resume with the same options" in line
    assert (out / "last.pt").read_bytes() == before
    code, _, err = call(
        monkeypatch, capsys, *args, *longer, "--batch-size", "4", "--hallucinate", "0"
    )
    assert code in (0, None), err


def test_a_huge_word_is_named_with_its_line_not_an_out_of_memory(tmp_path, monkeypatch, capsys):
    rows = list(PAIRS)
    rows[4] = ("x" * 1_000_000, "V;PST", "walked")
    train_f, dev_f = _write(tmp_path / "t-train", rows), _write(tmp_path / "t-dev", PAIRS[:3])
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", tmp_path / "r", "--no-progress"]
    code, _, err = call(monkeypatch, capsys, *args)
    assert code == 1 and one_line(err) == (
        f"error: {train_f}:5: a word of 1000000 characters; words may have at most "
        f"{formats.MAX_WORD} (format unimorph-ltf) (--skip-bad-lines skips bad rows)"
    )


def _disk_full(monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.os, "fsync", full)


def test_a_full_disk_names_the_file_keeps_the_old_one_and_leaves_no_temp(
    model_dir, tmp_path, monkeypatch, capsys
):
    rows = _write(tmp_path / "rows", PAIRS[:3])
    out = tmp_path / "preds"
    out.write_text("earlier predictions\n")
    _disk_full(monkeypatch)
    args = ["predict", "--model", model_dir, "--input", rows, "--output", out]
    code, _, err = call(monkeypatch, capsys, *args)
    assert code == 1 and one_line(err) == (
        f"error: no space left on device writing {out}; the file there before is intact"
    )
    assert out.read_text() == "earlier predictions\n" and sorted(tmp_path.iterdir()) == [
        out,
        rows,
    ]
    last = tmp_path / "last.pt"
    monkeypatch.undo()
    checkpoint.save(last, {"step": 1})
    _disk_full(monkeypatch)
    with pytest.raises(ReinflectError, match=f"no space left on device writing {last}; the file"):
        checkpoint.save(last, {"step": 2})
    monkeypatch.undo()
    assert checkpoint.load(last)["step"] == 1 and not list(tmp_path.glob(".*.tmp"))


@pytest.fixture
def full_disk(tmp_path):
    """A real, small tmpfs filled to the last block (mounting needs root and
    mount(8); skipped where they are missing)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"no tmpfs can be mounted here: {mounted.stderr.decode().strip()}")
    try:
        (disk / "preds").write_text("earlier predictions\n")
        with open(disk / "fill", "wb", buffering=0) as f:  # the rest of the space
            with pytest.raises(OSError) as e:
                while True:
                    f.write(b"\0" * 4096)
            assert e.value.errno == errno.ENOSPC
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_real_full_disk_names_the_file_and_leaves_no_temp(
    model_dir, full_disk, tmp_path, monkeypatch, capsys
):
    rows = _write(tmp_path / "rows", PAIRS[:3])
    out = full_disk / "preds"
    code, _, err = call(
        monkeypatch, capsys, "predict", "--model", model_dir, "--input", rows, "--output", out
    )
    assert code == 1 and one_line(err) == (
        f"error: no space left on device writing {out}; the file there before is intact"
    )
    assert out.read_text() == "earlier predictions\n"
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("[model]\n" + "".join(f"{k} = {v}\n" for k, v in TINY.items()))
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    run = full_disk / "run"
    code, _, err = call(
        monkeypatch, capsys, "train", "--train", train_f, "--dev", dev_f, "--out", run,
        "--config", tiny, "--max-steps", "2", "--eval-every", "2", "--no-progress",
    )  # fmt: skip
    assert code == 1 and err.splitlines()[-1].startswith(
        f"error: no space left on device writing {run}{os.sep}"
    ), err
    assert "Traceback" not in err
    left = sorted(p.name for p in full_disk.rglob("*"))
    assert not [n for n in left if n.endswith(".tmp")], left


def test_run_files_follow_the_umask(tmp_path, monkeypatch, capsys):
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    out = tmp_path / "r"
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", out, "--no-progress"]
    previous = os.umask(0o022)
    try:
        code, _, err = call(monkeypatch, capsys, *args, "--max-steps", "2", "--eval-every", "2")
    finally:
        os.umask(previous)
    assert code in (0, None), err
    for name in ("model.pt", "model.npz", "last.pt", "metrics.jsonl", "summary.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name


def test_analyze_with_last_pt_writes_no_twin_beside_it(model_dir, monkeypatch, capsys):
    code, out, err = call(
        monkeypatch, capsys, "analyze", "walked", "--model", model_dir / "last.pt"
    )
    assert code in (0, None) and out.strip(), err
    assert not (model_dir / "last.npz").exists()


def test_without_a_terminal_training_logs_a_line_per_dev_check_not_a_bar(
    tmp_path, monkeypatch, capsys
):
    train_f, dev_f = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:3])
    args = ["train", "--train", train_f, "--dev", dev_f, "--out", tmp_path / "r"]
    code, _, err = call(monkeypatch, capsys, *args, "--max-steps", "4", "--eval-every", "2")
    assert code in (0, None), err
    checks = [ln for ln in err.splitlines() if ln.startswith("step ")]
    assert [ln.split(":")[0] for ln in checks] == ["step 2", "step 4"] and "it/s" not in err
