"""The Python API (``reinflect.load``, ``Model.inflect``/``inflect_many``/
``analyze``, ``reinflect.train``) on a tiny model trained through it."""

import subprocess
import sys

import pytest
from helpers import SMALL, TOY, write_rows

import reinflect
from reinflect.errors import ReinflectError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    train = write_rows(d / "toy-train", TOY)
    model = reinflect.train(
        train=train,
        dev=train,
        out=d / "run",
        max_steps=300,
        eval_every=100,
        batch_size=20,
        wordfreq_words=0,
        word_dropout=0.0,
        hallucinate=0,
        **SMALL,
    )
    return d / "run", model


def test_train_returns_the_trained_model_and_keeps_its_config(trained):
    run, model = trained
    assert isinstance(model, reinflect.Model)
    assert model.summary["best_dev_accuracy"] >= 80.0
    assert (run / "model.pt").is_file()
    assert "max_steps = 300" in (run / "config.toml").read_text()
    assert model.tags["POS"] == ["N", "V"]


def test_a_run_folder_is_not_trained_into_twice(trained):
    run, _ = trained
    with pytest.raises(ReinflectError, match="already holds a run .*--overwrite"):
        reinflect.train(train=run / "x", dev=run / "x", out=run, max_steps=1)


def test_a_loaded_model_inflects_what_it_learned(trained):
    run, _ = trained
    m = reinflect.load(run)
    pairs = [(a, t) for a, t, _ in TOY]
    forms = m.inflect_many(pairs, lookup=False)  # the model, not its training pairs
    right = sum(f == b for f, (_, _, b) in zip(forms, TOY, strict=True))
    assert right >= 0.8 * len(TOY)
    assert [m.inflect(a, t, lookup=False) for a, t in pairs[:5]] == forms[:5]
    # Partial tags are resolved from the source's analysis, as on the command line.
    assert m.inflect("plays", "PST") == m.inflect("plays", "V;PST")


def test_evaluate_scores_a_gold_file(trained):
    run, _ = trained
    m = reinflect.load(run)
    got = m.evaluate(run.parent / "toy-train", lookup=False)
    forms = m.inflect_many([(a, t) for a, t, _ in TOY], lookup=False)
    right = sum(f == b for f, (_, _, b) in zip(forms, TOY, strict=True))
    assert got["accuracy"] == pytest.approx(100.0 * right / len(TOY))


def test_nbest_gives_ranked_forms_with_log_probabilities(trained):
    run, _ = trained
    m = reinflect.load(run)
    best = m.inflect("walk", "V;PST", nbest=3)
    assert len(best) == 3 and all(isinstance(f, str) and lp <= 0 for f, lp in best)
    assert len({f for f, _ in best}) == 3
    assert best[0][0] == m.inflect("walk", "V;PST")
    many = m.inflect_many([("walk", "V;PST"), ("cat", "N;PL")], nbest=2)
    assert [len(h) for h in many] == [2, 2] and many[0] == best[:2]


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_pair_seen_in_training_gives_its_training_form(trained, engine):
    run, _ = trained
    m = reinflect.load(run, engine=engine)
    # Every training pair comes back as training's form, certain (log p = 0);
    # the model's own hypotheses follow it, each once.
    for a, t, b in TOY:
        hyps = m.inflect(a, t, nbest=3)
        assert hyps[0] == (b, 0.0)
        assert len({f for f, _ in hyps}) == 3 and all(lp < 0 for _, lp in hyps[1:])
    # The model alone scores every form below certainty; unseen pairs are the model's.
    assert all(lp < 0 for _, lp in m.inflect("walk", "V;PST", nbest=3, lookup=False))
    assert m.inflect("kick", "V;3;SG;PRS", nbest=1)[0][1] < 0
    # However the tags are written: the same bundle is the same pair.
    assert m.inflect("jump", "PRS;3;SG;V", nbest=1) == [("jumps", 0.0)]


def test_predict_looks_up_training_pairs_unless_told_not_to(trained):
    from typer.testing import CliRunner

    from reinflect import cli

    run, _ = trained
    args = ["predict", "walk", "--tags", "V;PST", "--model", str(run), "--nbest", "2"]
    out = CliRunner().invoke(cli.app, args)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == "walked\t0.0000"
    alone = CliRunner().invoke(cli.app, [*args, "--no-lookup"])
    assert alone.exit_code == 0, alone.output
    assert all(float(line.split("\t")[1]) < 0 for line in alone.stdout.splitlines())


def test_analyze_ranks_tag_bundles(trained):
    run, _ = trained
    out = reinflect.load(run).analyze("walked", top=3)
    assert len(out) == 3
    probs = [p for _, p in out]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert out[0][0] == "V;PST" and all(isinstance(t, str) for t, _ in out)


def test_both_engines_give_the_same_forms(trained):
    run, _ = trained
    pairs = [(a, t) for a, t, _ in TOY]
    both = [reinflect.load(run, engine=e) for e in ("torch", "numpy")]
    torch_forms, numpy_forms = (m.inflect_many(pairs, nbest=2, lookup=False) for m in both)
    for a, b in zip(torch_forms, numpy_forms, strict=True):
        assert [f for f, _ in a] == [f for f, _ in b]
        assert [lp for _, lp in a] == pytest.approx([lp for _, lp in b], abs=1e-3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.inflect("walk", "V;XYZ"), "pair 0 .*XYZ"),
        (lambda m: m.inflect("", "V;PST"), "non-empty"),
        (lambda m: m.inflect_many([("walk", "V;PST"), ("cat",)]), "pair 1: expected"),
        (lambda m: m.inflect("walk", "V;PST", nbest=9, beam=8), "nbest"),
        (lambda m: m.inflect("walk", "case=DAT"), "pair 0 .*case"),
        (lambda m: m.analyze(" "), "non-empty"),
    ],
)
def test_bad_calls_say_what_is_wrong(trained, call, message):
    run, _ = trained
    with pytest.raises(ReinflectError, match=message):
        call(reinflect.load(run))


def test_a_missing_model_is_named():
    with pytest.raises(ReinflectError, match="no trained model at nowhere"):
        reinflect.load("nowhere")


def test_importing_reinflect_and_predicting_with_numpy_does_not_import_torch(trained):
    run, _ = trained
    code = (
        "import sys, reinflect\n"
        "assert 'torch' not in sys.modules\n"
        f"m = reinflect.load({str(run)!r}, engine='numpy')\n"
        "print(m.inflect('walk', 'V;PST'))\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == reinflect.load(run).inflect("walk", "V;PST")


def test_training_draws_its_pictures_and_error_table(trained):
    run, model = trained
    for name in ("curves.png", "latent.png", "tags.png"):
        data = (run / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name
    table = (run / "errors.md").read_text()
    counts = model.summary["dev_errors"]
    assert sum(counts.values()) == len(TOY)
    assert f"| correct | {counts['correct']} |" in table


def test_reinflect_plot_redraws_a_run(trained, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from reinflect import cli

    run, model = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for name in ("curves.png", "latent.png", "tags.png", "errors.md"):
        (copy / name).unlink()
    out = CliRunner().invoke(cli.app, ["plot", str(copy)])
    assert out.exit_code == 0, out.output
    for name in ("curves.png", "latent.png", "tags.png", "errors.md"):
        assert (copy / name).stat().st_size > 0, name
    # The error table of the plot command decodes dev as training's did.
    assert (copy / "errors.md").read_text() == (run / "errors.md").read_text()
    missing = CliRunner().invoke(cli.app, ["plot", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and "no model.pt" in missing.output
