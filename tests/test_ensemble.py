"""Ensembles decode with the mixture of their members' next-character
distributions, predict as one model when the members agree (also when their
character vocabularies differ), and refuse models with another tag space."""

import math

import pytest
import torch
from helpers import SMALL, TOY, write_rows
from typer.testing import CliRunner

from reinflect import cli, config
from reinflect.errors import ReinflectError
from reinflect.morph import ensemble, predict, tags, torch_engine, vocab
from reinflect.morph import train as morph_train
from reinflect.morph.vocab import EOS

runner = CliRunner()


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two toy models on the same data: seeds 0 and 1, the second with source
    attention (members may differ in architecture)."""
    d = tmp_path_factory.mktemp("ensemble")
    train = write_rows(d / "toy-train", TOY)
    dirs = []
    for seed, attention in ((0, None), (1, "output")):
        trainer = morph_train.Trainer(
            train_path=train,
            dev_path=train,
            out_dir=d / f"run{seed}",
            model_cfg=config.MorphModelConfig(
                **SMALL, word_dropout=0.0, **config.source_attention(attention)
            ),
            train_cfg=config.MorphTrainConfig(
                batch_size=20,
                unlabeled_batch=20,
                max_steps=200,
                eval_every=50,
                wordfreq_words=0,
                seed=seed,
            ),
            progress=False,
        )
        trainer.fit()
        dirs.append(d / f"run{seed}")
    return d, dirs


def _inputs():
    return [a for a, _, _ in TOY], [tags.parse(t) for _, t, _ in TOY]


def test_an_ensemble_of_a_model_with_itself_predicts_as_the_model(members):
    _, dirs = members
    one = torch_engine.Reinflector.load(dirs[1])
    twice = ensemble.Ensemble([one, one])
    words, bundles = _inputs()
    for kw in (
        {"beam": 1},
        {"beam": 4, "nbest": 3, "rerank": 0.0},
        {"beam": 4, "nbest": 3, "rerank": 1.0, "rerank_floor": 2.0, "rerank_roundtrip": 0.5},
        {"beam": 4, "nbest": 3, "rerank": 0.0, "lookup": False},
    ):
        a, b = one.inflect(words, bundles, **kw), twice.inflect(words, bundles, **kw)
        assert [[f for f, _ in h] for h in a] == [[f for f, _ in h] for h in b]
        for ha, hb in zip(a, b, strict=True):
            assert [s for _, s in ha] == pytest.approx([s for _, s in hb], abs=1e-4)
    assert twice.analyze("walked", top=3) == [
        (bundle, pytest.approx(p, abs=1e-5)) for bundle, p in one.analyze("walked", top=3)
    ]


@torch.inference_mode()
def _step_log_probs(r: torch_engine.Reinflector, word, bundle, ids: list[int]) -> torch.Tensor:
    """Member ``r``'s next-character log-probabilities along ``ids`` (teacher forced),
    one row per step."""
    state = r.start([word], [bundle])
    prev = torch.tensor([vocab.BOS])
    rows = []
    for t in ids:
        logp, state = r.model.decode_step(state, prev)
        rows.append(logp[0])
        prev = torch.tensor([t])
    return torch.stack(rows)


def test_the_ensemble_decodes_by_the_mixture_of_its_members(members):
    _, dirs = members
    a, b = (torch_engine.Reinflector.load(p) for p in dirs)
    both = ensemble.Ensemble([a, b])
    words, bundles = _inputs()
    greedy = both.inflect(
        words, bundles, beam=1, lookup=False
    )  # the mixture, on its training words
    for word, bundle, ((form, score),) in zip(words, bundles, greedy, strict=True):
        ids = both.vocab.encode(form) + [EOS]
        mixture = torch.stack([_step_log_probs(r, word, bundle, ids) for r in (a, b)]).logsumexp(
            0
        ) - math.log(2)
        # Greedy on the ensemble takes the mixture's most probable character each step,
        assert mixture.argmax(-1).tolist() == ids
        # and its score is the mixture's log-probability of the form.
        expected = float(mixture.gather(1, torch.tensor(ids).unsqueeze(1)).sum())
        assert score == pytest.approx(expected, abs=1e-4)


def test_an_ensemble_of_models_that_learned_the_toy_task_gets_it_right(members):
    d, dirs = members
    both = predict.load(dirs)
    result = predict.evaluate(both, d / "toy-train", beam=4, lookup=False)
    assert result["accuracy"] == 100.0


def test_an_ensemble_looks_up_the_pairs_its_members_were_trained_on(members):
    _, dirs = members
    a, b = (torch_engine.Reinflector.load(p) for p in dirs)
    b.known = {("cat", predict.bundle_key(tags.parse("N;SG"))): "kitty"}  # another file
    both = ensemble.Ensemble([a, b])
    assert both.inflect(["walk"], [tags.parse("V;PST")], nbest=1) == [[("walked", 0.0)]]
    assert both.inflect(["cat"], [tags.parse("N;SG")], nbest=1) == [[("kitty", 0.0)]]
    assert both.inflect(["cat"], [tags.parse("N;PL")], nbest=1) == [[("cats", 0.0)]]


def _reindexed(r: torch_engine.Reinflector, extra: str) -> torch_engine.Reinflector:
    """``r`` with its characters renumbered in a vocabulary that also has
    ``extra``, which the copy never predicts: the same model, other ids."""
    from reinflect.morph.model import MSVED

    old = [r.vocab.sp.id_to_piece(i) for i in range(len(r.vocab))]
    chars = [p.replace("▁", " ") for p in old[EOS + 1 :]]
    v = vocab.Vocab.build(sorted(chars, reverse=True) + [extra])
    new = [v.sp.id_to_piece(i) for i in range(len(v))]
    assert new[EOS + 1 :] != old[EOS + 1 :]  # renumbered, not just extended
    where = torch.tensor([old.index(p) if p in old else vocab.UNK for p in new])
    weights = r.model.state_dict()
    for key in ("embed.weight", "out.weight", "out.bias"):
        weights[key] = weights[key][where].clone()
    weights["out.bias"][new.index(extra)] = -1e4
    model = MSVED(vocab_size=len(v), tag_sizes=r.schema.sizes, cfg=r.model.cfg)
    model.load_state_dict(weights)
    copy = torch_engine.Reinflector(model, v, r.schema)
    copy.rerank, copy.rerank_floor, copy.rerank_roundtrip = (
        r.rerank,
        r.rerank_floor,
        r.rerank_roundtrip,
    )
    return copy


def test_members_with_other_characters_predict_through_the_union(members, caplog):
    _, dirs = members
    one = torch_engine.Reinflector.load(dirs[1])
    other = _reindexed(one, "ж")
    both = ensemble.Ensemble([one, other])
    assert len(both.vocab) == len(one.vocab) + 1 and both.vocab.knows("жwalk")
    words, bundles = _inputs()
    for kw in ({"beam": 1}, {"beam": 4, "nbest": 3, "rerank": 1.0, "rerank_roundtrip": 0.5}):
        a, b = one.inflect(words, bundles, **kw), both.inflect(words, bundles, **kw)
        assert [[f for f, _ in h] for h in a] == [[f for f, _ in h] for h in b]
        for ha, hb in zip(a, b, strict=True):
            assert [s for _, s in ha] == pytest.approx([s for _, s in hb], abs=1e-4)
    # One warning, from the ensemble, for a character no member saw; none for
    # one that a member knows.
    caplog.clear()
    both.inflect(["жwalk", "wälk"], bundles[:2], beam=2)
    warnings = [r.getMessage() for r in caplog.records if "not seen" in r.getMessage()]
    assert warnings == ["characters 'ä' of 'wälk' were not seen in training"]


def test_members_with_another_tag_space_are_refused(members):
    _, dirs = members
    a, b = (torch_engine.Reinflector.load(p) for p in dirs)
    b.schema = tags.Schema.from_dict(a.schema.to_dict() | {"dimensions": ["POS"]})
    with pytest.raises(ReinflectError, match="other tag dimensions or values"):
        ensemble.Ensemble([a, b], ["first", "second"])


def test_cli_predicts_and_evaluates_with_several_models(members, tmp_path):
    d, dirs = members
    models = [arg for p in dirs for arg in ("--model", str(p))]
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;PST", *models])
    assert res.exit_code == 0 and res.stdout.strip() == "walked"
    res = runner.invoke(cli.app, ["evaluate", "--gold", str(d / "toy-train"), *models, "--json"])
    assert res.exit_code == 0 and '"accuracy": 100.0' in res.stdout
    res = runner.invoke(cli.app, ["analyze", "walked", *models, "--top", "1"])
    assert res.exit_code == 0 and "PST" in res.stdout
    missing = tmp_path / "none"
    res = runner.invoke(
        cli.app, ["predict", "walk", "--tags", "V;PST", *models, "--model", str(missing)]
    )
    assert res.exit_code == 1 and f"no trained model at {missing}" in res.stderr


def test_cli_ensemble_writes_a_manifest_that_predicts_as_its_members(members, tmp_path):
    d, dirs = members
    gold = d / "toy-train"
    models = [arg for p in dirs for arg in ("--model", str(p))]
    out = tmp_path / "ens"
    res = runner.invoke(cli.app, ["ensemble", *models, "--dev", str(gold), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "reranked" in res.stdout and str(out / "ensemble.json") in res.stdout
    members_, record = ensemble.read_manifest(out / "ensemble.json")
    assert [p.resolve() for p in members_] == [p.resolve() for p in dirs]
    # The weights chosen on dev are the ones the ensemble tunes itself.
    both = predict.load(dirs)
    words, bundles = _inputs()
    expected = both.tune_rerank(words, bundles, [t for _, _, t in TOY])
    assert (record["weight"], record["floor"], record["roundtrip"]) == (
        expected["weight"],
        expected["floor"],
        expected["roundtrip"],
    )
    loaded = predict.load([out])
    assert (loaded.rerank, loaded.rerank_floor, loaded.rerank_roundtrip) == (
        both.rerank,
        both.rerank_floor,
        both.rerank_roundtrip,
    )
    assert loaded.inflect(words, bundles) == both.inflect(words, bundles)
    # --model OUT is the ensemble in every command.
    res = runner.invoke(cli.app, ["evaluate", "--gold", str(gold), "--model", str(out), "--json"])
    assert res.exit_code == 0 and '"accuracy": 100.0' in res.stdout
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;PST", "--model", str(out)])
    assert res.exit_code == 0 and res.stdout.strip() == "walked"


def test_a_moved_ensemble_folder_finds_its_members(members, tmp_path):
    """Members are stored relative to the manifest: the tree moves as one."""
    import shutil

    _, dirs = members
    tree = tmp_path / "tree"
    for p in dirs:
        shutil.copytree(p, tree / p.name)
    ensemble.write_manifest(tree / "ens", [tree / p.name for p in dirs], None)
    shutil.move(tree, tmp_path / "moved")
    e = predict.load([tmp_path / "moved" / "ens"])
    first = torch_engine.Reinflector.load(dirs[0])
    # No record: the first member's weights.
    assert (e.rerank, e.rerank_floor, e.rerank_roundtrip) == (
        first.rerank,
        first.rerank_floor,
        first.rerank_roundtrip,
    )
    assert len(e.members) == 2
    # A record: its weights, whatever the members' own.
    record = {"weight": 2.0, "floor": 5.0, "roundtrip": 0.25}
    ensemble.write_manifest(
        tmp_path / "moved" / "ens", [tmp_path / "moved" / p.name for p in dirs], record
    )
    e = predict.load([tmp_path / "moved" / "ens" / "ensemble.json"])
    assert (e.rerank, e.rerank_floor, e.rerank_roundtrip) == (2.0, 5.0, 0.25)


def test_cli_ensemble_errors(members, tmp_path):
    d, dirs = members
    models = [arg for p in dirs for arg in ("--model", str(p))]
    gold = str(d / "toy-train")
    res = runner.invoke(cli.app, ["ensemble", "--model", str(dirs[0]), "--dev", gold, "--out", "x"])
    assert res.exit_code == 2 and "two or more --model" in res.stderr
    res = runner.invoke(cli.app, ["ensemble", *models, "--out", str(tmp_path / "e")])
    assert res.exit_code == 2 and "--dev FILE" in res.stderr
    res = runner.invoke(cli.app, ["ensemble", *models, "--dev", gold, "--out", str(dirs[0])])
    assert res.exit_code == 2 and "holds a model" in res.stderr
    assert not (dirs[0] / "ensemble.json").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ensemble.json").write_text('{"members": []}')
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;PST", "--model", str(bad)])
    assert res.exit_code == 1
    assert f"{bad / 'ensemble.json'}: not a reinflect ensemble manifest" in res.stderr
    (bad / "ensemble.json").write_text("{")
    res = runner.invoke(cli.app, ["evaluate", "--gold", gold, "--model", str(bad)])
    assert res.exit_code == 1 and "cannot read the ensemble manifest" in res.stderr
    ens = tmp_path / "ens"
    ensemble.write_manifest(ens, [tmp_path / "gone", dirs[0]], None)
    res = runner.invoke(cli.app, ["evaluate", "--gold", gold, "--model", str(ens)])
    assert res.exit_code == 1 and "no trained model at" in res.stderr and "gone" in res.stderr
    res = runner.invoke(cli.app, ["evaluate", "--gold", gold, "--model", str(ens), *models])
    assert res.exit_code == 2 and "give it as the only --model" in res.stderr
    res = runner.invoke(
        cli.app, ["ensemble", "--model", str(ens), *models, "--dev", gold, "--out", "y"]
    )
    assert res.exit_code == 2 and "is an ensemble" in res.stderr


def test_cli_ensemble_needs_gold_forms(members, tmp_path):
    _, dirs = members
    covered = tmp_path / "covered"
    covered.write_text("walk\tpos=V,tense=PST\nplay\tpos=V,tense=PST\n", encoding="utf-8")
    models = [arg for p in dirs for arg in ("--model", str(p))]
    out = tmp_path / "ens"
    res = runner.invoke(cli.app, ["ensemble", *models, "--dev", str(covered), "--out", str(out)])
    assert res.exit_code == 1 and f"{covered}:1: no gold form" in res.stderr
    assert not out.exists()
