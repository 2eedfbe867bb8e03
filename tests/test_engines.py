"""The torch-free engine (model.npz) predicts what the torch model predicts, is only
used when it belongs to the checkpoint beside it, and keeps torch unimported."""

import json
import logging
import math
import subprocess
import sys

import pytest
from helpers import SMALL, TOY, write_rows

from reinflect import checkpoint, config
from reinflect.errors import ReinflectError
from reinflect.morph import checkpoint as morph_checkpoint
from reinflect.morph import numpy_engine, predict, tags, torch_engine
from reinflect.morph import train as morph_train


@pytest.fixture(scope="module", params=[None, "input", "output", "monotonic"])
def toy_dir(request, tmp_path_factory):
    """A toy model: MSVED, or with source attention in each style."""
    d = tmp_path_factory.mktemp("lite")
    train = write_rows(d / "toy-train", TOY)
    trainer = morph_train.Trainer(
        train_path=train,
        dev_path=train,
        out_dir=d / "run",
        model_cfg=config.MorphModelConfig(
            **SMALL,
            **config.source_attention(request.param),
        ),
        train_cfg=config.MorphTrainConfig(
            batch_size=20, unlabeled_batch=20, max_steps=60, eval_every=30, wordfreq_words=0
        ),
        progress=False,
    )
    trainer.fit()
    return d / "run"


def _inputs():
    return [a for a, _, _ in TOY], [tags.parse(t) for _, t, _ in TOY]


def test_training_writes_the_twin_of_the_best_checkpoint(toy_dir):
    assert morph_checkpoint.companion(toy_dir / "model.pt") == toy_dir / "model.npz"


@pytest.mark.parametrize(
    "beam,nbest,rerank,floor,roundtrip",
    [
        (1, 1, 0.0, None, 0.0),
        (4, 3, 0.0, None, 0.0),
        (4, 3, 2.0, None, 0.0),
        (4, 3, 2.0, 0.5, 0.0),
        (4, 3, 1.0, 2.0, 0.5),
        (4, 3, 0.0, None, 1.0),
    ],
)
def test_both_engines_give_the_same_forms_and_scores(
    toy_dir, beam, nbest, rerank, floor, roundtrip
):
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    words, bundles = _inputs()
    kw = {  # the models on their training words: the model alone, not the lookup
        "lookup": False,
        "beam": beam,
        "nbest": nbest,
        "rerank": rerank,
        "rerank_floor": floor,
        "rerank_roundtrip": roundtrip,
    }
    a = full.inflect(words, bundles, **kw)
    b = light.inflect(words, bundles, **kw)
    assert [[f for f, _ in hyps] for hyps in a] == [[f for f, _ in hyps] for hyps in b]
    for ha, hb in zip(a, b, strict=True):
        assert [s for _, s in ha] == pytest.approx([s for _, s in hb], abs=1e-3)


def test_both_engines_analyze_alike(toy_dir):
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    for word in ("walked", "cats", "jumps"):
        for la, lb in zip(full.tag_log_probs(word), light.tag_log_probs(word), strict=True):
            assert la == pytest.approx(lb, abs=1e-4)
        ta, tb = full.analyze(word, top=3), light.analyze(word, top=3)
        assert [b for b, _ in ta] == [b for b, _ in tb]
        assert [p for _, p in ta] == pytest.approx([p for _, p in tb], abs=1e-4)
    assert full.target_bundle("cats", "SG") == light.target_bundle("cats", "SG")


def test_both_engines_score_bundles_alike(toy_dir):
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    words = ["walked", "cats", "", "jumps"]
    bundles = [tags.parse(t) for t in ("V;PST", "N;SG", "N;PL", "V;PST")]
    a, b = full.bundle_log_probs(words, bundles), light.bundle_log_probs(words, bundles)
    assert a == pytest.approx(b, abs=1e-4) and a[2] == -math.inf
    enc = full.schema.encode(bundles[3])
    by_dim = full.tag_log_probs("jumps")
    assert a[3] == pytest.approx(sum(lq[i] for lq, i in zip(by_dim, enc, strict=True)), abs=1e-5)


def test_both_engines_score_round_trips_alike(toy_dir):
    """log p(source|z = mu(form), y = argmax q(y|source)): the same in both
    engines, in a batch or alone, a log-probability, -inf for an empty form."""
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    sources = ["walks", "walks", "cats", "cats", "jumped"]
    forms = ["walked", "walking", "cat", "", "jumps"]
    a, b = full.roundtrip_log_probs(sources, forms), light.roundtrip_log_probs(sources, forms)
    assert a == pytest.approx(b, abs=1e-3)
    assert a[3] == -math.inf and all(-math.inf < v < 0 for i, v in enumerate(a) if i != 3)
    assert full.roundtrip_log_probs(sources[2:3], forms[2:3])[0] == pytest.approx(a[2], abs=1e-5)
    assert a[0] != pytest.approx(a[1], abs=1e-3)  # it does depend on the form
    # Reranking's fused pass (one encoding of the forms for both scores) agrees.
    bundles = [tags.parse(t) for t in ("V;PST", "V;PST", "N;SG", "N;SG", "V;PST")]
    q, r = full.hypothesis_scores(sources, forms, bundles, roundtrip=True)
    assert q == pytest.approx(full.bundle_log_probs(forms, bundles), abs=1e-5)
    assert r == pytest.approx(a, abs=1e-5)
    lq, lr = light.hypothesis_scores(sources, forms, bundles, roundtrip=True)
    assert lq == pytest.approx(q, abs=1e-3) and lr == pytest.approx(r, abs=1e-3)
    assert full.hypothesis_scores(sources, forms, bundles, roundtrip=False)[1] == [0.0] * 5


def test_reranking_orders_the_whole_beam_by_the_combined_score(toy_dir):
    full = torch_engine.Reinflector.load(toy_dir)
    words, bundles = _inputs()
    scored = full.scored_beams(words, bundles, beam=4, roundtrip=True)
    plain = {"rerank": 0.0, "rerank_roundtrip": 0.0, "rerank_rules": 0.0, "rerank_first": 0.0}
    plain["lookup"] = False
    assert [[(f, s) for f, s, *_ in h] for h in scored] == full.inflect(
        words, bundles, beam=4, nbest=4, **plain
    )
    reranked = full.inflect(
        words,
        bundles,
        beam=4,
        nbest=4,
        rerank=3.0,
        rerank_floor=math.inf,
        rerank_roundtrip=0.0,
        rerank_rules=0.0,
        rerank_first=0.0,
        lookup=False,
    )
    moved = 0
    for hyps, new in zip(scored, reranked, strict=True):
        logq = {h.form: h.logq for h in hyps}
        assert sorted(f for f, *_ in hyps) == sorted(f for f, _ in new)  # the same beam
        combined = [s + 3.0 * logq[f] for f, s in new]
        assert combined == sorted(combined, reverse=True)
        moved += [f for f, _ in new] != [f for f, *_ in hyps]
    assert moved > 0  # the classifier does change some orders
    alone = {"beam": 4, "nbest": 4, "rerank": 3.0, "rerank_floor": 0.5, "rerank_rules": 0.0}
    alone |= {"rerank_first": 0.0, "lookup": False}
    floored = full.inflect(words, bundles, rerank_roundtrip=0.0, **alone)
    both = full.inflect(words, bundles, rerank_roundtrip=2.0, **alone)
    moved = 0
    for hyps, new, new_rt in zip(scored, floored, both, strict=True):
        logq, logr = {h.form: h.logq for h in hyps}, {h.form: h.logr for h in hyps}
        # Unscored hypotheses (log q = -inf, far below the best) stay last.
        combined = [s + 3.0 * max(q, -0.5) if (q := logq[f]) > -math.inf else q for f, s in new]
        assert combined == sorted(combined, reverse=True)
        combined = [
            s + 3.0 * max(q, -0.5) + 2.0 * logr[f] if (q := logq[f]) > -math.inf else q
            for f, s in new_rt
        ]
        assert combined == sorted(combined, reverse=True)
        moved += [f for f, _ in new_rt] != [f for f, _ in new]
    assert moved > 0  # the round trip does change some orders
    with pytest.raises(ValueError, match="rerank weights must be >= 0"):
        full.inflect(words, bundles, beam=4, rerank=-1.0)
    with pytest.raises(ValueError, match="rerank weights must be >= 0"):
        full.inflect(words, bundles, beam=4, rerank_roundtrip=-1.0)
    with pytest.raises(ValueError, match="rerank floor must be > 0"):
        full.inflect(words, bundles, beam=4, rerank=1.0, rerank_floor=0.0)


def test_a_forced_score_is_the_search_score_in_both_engines(toy_dir):
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    words, bundles = _inputs()
    plain = {"rerank": 0.0, "rerank_roundtrip": 0.0, "rerank_rules": 0.0, "rerank_first": 0.0}
    plain["lookup"] = False
    beams = full.inflect(words, bundles, beam=4, nbest=4, **plain)
    # (the forms reranking weighs: a poor toy hypothesis may hold an id no form spells)
    rows = [
        (w, b, f, s)
        for w, b, h in zip(words, bundles, beams, strict=True)
        for f, s in h
        if s > h[0][1] - predict.RERANK_MARGIN
    ]
    args = [[r[k] for r in rows] for k in range(3)]
    forced = full.form_log_probs(*args)
    assert forced == pytest.approx([r[3] for r in rows], abs=1e-4)
    assert light.form_log_probs(*args) == pytest.approx(forced, abs=1e-4)


def test_the_edit_rules_forms_join_the_beam_scored_by_the_model(toy_dir):
    """With candidates the beam gains the rules' forms it lacks (``added``),
    each with the model's forced log p; rank drops them unless the rules have
    a weight, and with a large one a form making training's edit comes first."""
    full, S = torch_engine.Reinflector.load(toy_dir), predict.Setting
    words = ["jump", "kick", "talk"]
    bundles = [tags.parse("V;PST")] * 3
    scored = full.scored_beams(words, bundles, beam=2, candidates=4)
    added = [(w, h) for w, beam in zip(words, scored, strict=True) for h in beam if h.added]
    assert added and all(not h.added for beam in scored for h in beam[:2])
    assert {h.form for _, h in added} <= {"jumped", "kicked", "talked"}
    forced = full.form_log_probs(
        [w for w, _ in added], [bundles[0]] * len(added), [h.form for _, h in added]
    )
    assert [h.logp for _, h in added] == pytest.approx(forced, abs=1e-5)
    assert all(h.rule == 1.0 for _, h in added)
    assert all(len(beam) == 2 for beam in predict.rank(scored, S(1.0)))
    kw = {"beam": 2, "rerank": 0.0, "rerank_roundtrip": 0.0, "rerank_first": 0.0, "lookup": False}
    best = full.inflect(words, bundles, rerank_rules=100.0, **kw)
    assert [h[0][0] for h in best] == ["jumped", "kicked", "talked"]
    # The rules' first form: one per beam, the first of Rules.candidates; with a
    # weight of its own it joins the beam (and comes first with a large one).
    for w, beam in zip(words, scored, strict=True):
        top = full.rules.candidates(w, predict.bundle_key(bundles[0]), 1)[0]
        assert [h.form for h in beam if h.first] == [top]
    plain = full.scored_beams(words, bundles, beam=2)
    assert not any(h.first or h.rule for beam in plain for h in beam)
    firsts = [next(h.form for h in beam if h.first) for beam in scored]
    assert [b[0].form for b in predict.rank(scored, S(first=100.0))] == firsts
    best = full.inflect(words, bundles, rerank_rules=0.0, **(kw | {"rerank_first": 100.0}))
    assert [h[0][0] for h in best] == firsts
    with pytest.raises(ValueError, match="rerank weights must be >= 0"):
        full.inflect(words, bundles, **(kw | {"rerank_first": -1.0}))


def test_the_floor_keeps_a_confident_other_reading_from_vetoing_a_form():
    inf, S = math.inf, predict.Setting
    H = predict.Hypothesis
    scored = [[H("eksenleri", -3.6, -5.8, -9.0), H("ekseni", -0.03, -15.3, -4.0)]]
    scored[0].append(H("eksen", -9.0, -inf, -inf))
    assert predict.rank(scored, S(0.5))[0][0][0] == "eksenleri"
    assert predict.rank(scored, S(0.5, 5.0))[0][0][0] == "ekseni"
    assert predict.rank(scored, S(0.5, 5.0))[0][-1][0] == "eksen"  # unscored stays last
    assert predict.rank(scored, S(0.0, 5.0)) == scored
    # The round trip alone, or tipping the balance back (-3.6 - 2.9 - 1.8 > -0.03 - 7.65 - 0.8).
    assert [f for f, *_ in predict.rank(scored, S(0.0, None, 0.1))[0]] == [
        "ekseni",
        "eksenleri",
        "eksen",
    ]
    assert predict.rank(scored, S(0.5, None, 0.2))[0][0][0] == "eksenleri"
    assert predict.rank(scored, S(0.5, 5.0, 0.2))[0][0][0] == "ekseni"


def test_stored_rerank_reads_records_with_and_without_a_floor_or_round_trip():
    S = predict.Setting
    assert predict.stored_rerank(None) == S() == (0.0, None, 0.0, 0.0, 0.0)
    assert predict.stored_rerank({"weight": 0.5, "dev_accuracy_beam8": {}}) == S(0.5)
    assert predict.stored_rerank({"weight": 1, "floor": 2}) == (1.0, 2.0, 0.0, 0.0, 0.0)
    assert predict.stored_rerank({"weight": 1, "floor": None, "roundtrip": 0.25}) == S(
        1, None, 0.25
    )
    assert predict.stored_rerank({"weight": 1, "rules": 8}).rules == 8.0
    assert predict.stored_rerank({"weight": 1, "rules": 8, "first": 4}).first == 4.0
    assert S(0.5).key == "0.5" and S(1.0, 2.0).key == "1 floor 2" == S(1.0, 2.0, 0.0).key
    assert S(0.0, None, 0.25).key == "0 roundtrip 0.25"
    assert S(1.0, None, 0.25, 8.0).key == "1 roundtrip 0.25 rules 8"
    assert S(0.0, None, 0.0, 8.0).key == "0 rules 8"
    assert S(0.0, None, 0.0, 8.0, 2.0).key == "0 rules 8 first 2" == S(rules=8, first=2).key
    assert S(1.0, 2.0, 0.0, 0.0, 4.0).describe() == "weight 1, floor 2, first form 4"
    assert not S().reranks and S(first=1.0).reranks and S(first=1.0).with_rules


def test_training_stores_the_reranking_weight_chosen_on_dev(toy_dir):
    """The weights and floor are the grid's best on dev (beam 8); on ties the
    smallest rules' weight, then first form's, then round trip, then the
    smallest weight, then no floor, then the largest floor. Both engines load
    them, and evaluating dev with them reproduces the tuning table."""
    chosen = checkpoint.load(toy_dir / "model.pt")["rerank"]
    table = chosen["dev_accuracy_beam8"]
    floors = sorted(predict.RERANK_FLOORS, key=lambda f: -math.inf if f is None else -f)
    order = [
        predict.Setting(w, f, v, u, p)
        for u in sorted(predict.RERANK_RULES)
        for p in sorted(predict.RERANK_FIRSTS)
        for v in sorted(predict.RERANK_ROUNDTRIPS)
        for w in predict.RERANK_GRID
        for f in (floors if w else [None])
    ]
    assert list(table) == [k.key for k in order]
    best = max(table.values())
    first = next(k for k in order if table[k.key] == best)
    assert predict.stored_rerank(chosen) == first
    full = torch_engine.Reinflector.load(toy_dir)
    light = numpy_engine.NumpyReinflector.load(toy_dir / "model.npz")
    for r in (full, light):
        assert r.setting == first
    summary = json.loads((toy_dir / "summary.json").read_text())
    assert summary["rerank"] == chosen
    gold = toy_dir.parent / "toy-train"
    S = predict.Setting
    for k in (S(), S(1.0), S(1.0, 2.0, 0.5), S(0.5, None, 0.0, 0.0, 2.0), order[-1]):
        w, f, v, u, p = k
        no_floor = math.inf if f is None else f  # None would mean "the model's floor"
        kw = {"rerank": w, "rerank_floor": no_floor, "rerank_roundtrip": v, "rerank_rules": u}
        acc = predict.evaluate(full, gold, beam=8, lookup=False, rerank_first=p, **kw)
        assert acc["accuracy"] == pytest.approx(table[k.key])


def test_a_stale_or_damaged_twin_is_not_used(tmp_path, toy_dir):
    d = tmp_path / "run"
    d.mkdir()
    (d / "model.npz").write_bytes((toy_dir / "model.npz").read_bytes())
    payload = checkpoint.load(toy_dir / "model.pt")
    payload["step"] += 1  # another checkpoint: its twin no longer matches
    checkpoint.save(d / "model.pt", {k: v for k, v in payload.items() if k != "format_version"})
    assert morph_checkpoint.companion(d / "model.pt") is None
    (d / "model.npz").write_bytes(b"junk")
    assert morph_checkpoint.companion(d / "model.pt") is None
    with pytest.raises(ReinflectError, match=r"model\.npz: not a readable reinflect model"):
        numpy_engine.NumpyReinflector.load(d / "model.npz")
    (d / "model.pt").unlink()
    (d / "model.npz").write_bytes((toy_dir / "model.npz").read_bytes())
    assert morph_checkpoint.companion(d / "model.pt") == d / "model.npz"  # alone, it is the model


def test_cli_predict_and_analyze_run_without_torch(toy_dir):
    code = f"""
import json, sys
from typer.testing import CliRunner
from reinflect import cli
r = CliRunner()
a = r.invoke(cli.app, ["predict", "plays", "--tags", "V;PST", "--model", {str(toy_dir)!r}])
b = r.invoke(cli.app, ["analyze", "walked", "--model", {str(toy_dir)!r}, "--top", "2"])
assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
assert "torch" not in sys.modules, "torch was imported"
print(json.dumps([a.stdout, b.stdout]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    form, analysis = json.loads(out.stdout)
    full = torch_engine.Reinflector.load(toy_dir)
    assert form == full.inflect(["plays"], [{"POS": "V", "Tense": "PST"}])[0][0][0] + "\n"
    assert len(analysis.splitlines()) == 2


def test_predict_with_an_older_run_writes_the_twin(tmp_path, toy_dir):
    from typer.testing import CliRunner

    from reinflect import cli

    (tmp_path / "model.pt").write_bytes((toy_dir / "model.pt").read_bytes())
    args = ["predict", "plays", "--tags", "V;PST", "--model", str(tmp_path)]
    first = CliRunner().invoke(cli.app, args)
    assert first.exit_code == 0, first.output
    assert morph_checkpoint.companion(tmp_path / "model.pt") == tmp_path / "model.npz"
    second = CliRunner().invoke(cli.app, args)
    assert second.stdout == first.stdout


# -- the maths once, checked twice: both engines on random weights -------------------

# Every model option that changes what prediction computes, each way it can be set;
# the options that only shape training ride along (they must not change a thing).
GRID = [
    {},
    {"source_attention": True, "source_attention_style": "input"},
    {"source_attention": True, "source_attention_style": "output"},
    {"source_attention": True, "source_attention_dim": 8, "decoder_hidden": 24},
    {"latent": 5, "tag_embedding": 12, "char_embedding": 7, "encoder_hidden": 10},
    {"word_dropout": 0.0, "dropout": 0.3},
    {"source_attention": True, "source_attention_style": "input", "copy": True},
    {"source_attention": True, "source_attention_style": "output", "copy": True},
    {"source_attention": True, "source_attention_style": "monotonic"},
    {"source_attention": True, "source_attention_style": "monotonic", "copy": True},
    {
        "source_attention": True,
        "source_attention_style": "monotonic",
        "copy": True,
        "source_attention_dim": 8,
        "decoder_hidden": 24,
    },
]
RANDOM_WORDS = ["kitap", "kitaplar", "ev", "evlere", "gözlük", "a"]
RANDOM_TAGS = ["N;PL", "N;SG;DAT", "V;PST;3;SG", "V;PRS", "ADJ"]


def _random_model(tmp_path, options: dict, seed: int):
    """A model with random weights (sharpened, so beams are not near-uniform ties),
    saved as training saves one: model.pt and its twin."""
    import torch

    from reinflect.morph import model as morph_model
    from reinflect.morph import vocab

    torch.manual_seed(seed)
    cfg = config.MorphModelConfig(**{**SMALL, **options})
    v = vocab.Vocab.build(RANDOM_WORDS)
    schema = tags.Schema.build(RANDOM_TAGS)
    m = morph_model.MSVED(vocab_size=len(v), tag_sizes=schema.sizes, cfg=cfg)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3.0)
    payload = morph_checkpoint.payload(
        weights=m.state_dict(),
        model_cfg=cfg,
        train_cfg=config.MorphTrainConfig(),
        vocab_proto=v.proto,
        schema=schema,
        step=0,
        best_dev_accuracy=0.0,
        lang=None,
    )
    morph_checkpoint.write_model(tmp_path, payload)
    return tmp_path


@pytest.mark.parametrize("options", GRID, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_both_engines_agree_on_random_weights(tmp_path, options):
    """Forms and log-probabilities within 1e-4: beam search with n-best, greedy,
    the tag classifier and the round trip, for every kind of model."""
    run = _random_model(tmp_path, options, seed=len(str(options)))
    full = predict.load(run, engine="torch")
    light = predict.load(run, engine="numpy")
    assert isinstance(full, torch_engine.Reinflector)
    assert isinstance(light, numpy_engine.NumpyReinflector)
    # The last word has characters the vocabulary lacks (a copying model may copy them).
    words = [*RANDOM_WORDS[:4], "QkitapZQ"]
    bundles = [tags.parse(t) for t in RANDOM_TAGS]
    for beam, nbest in ((1, 1), (5, 5)):
        a = full.inflect(words, bundles, beam=beam, nbest=nbest, max_length=12)
        b = light.inflect(words, bundles, beam=beam, nbest=nbest, max_length=12)
        assert [[f for f, _ in h] for h in a] == [[f for f, _ in h] for h in b]
        for ha, hb in zip(a, b, strict=True):
            assert [s for _, s in ha] == pytest.approx([s for _, s in hb], abs=1e-4)
    for w in words:
        for la, lb in zip(full.tag_log_probs(w), light.tag_log_probs(w), strict=True):
            assert la == pytest.approx(lb, abs=1e-4)
    forms = ["kitaplara", "ev", "gözlükler", "evler", "a"]
    assert full.roundtrip_log_probs(words, forms) == pytest.approx(
        light.roundtrip_log_probs(words, forms), abs=1e-4
    )
    # Forced scores of the beam's forms (the copied unknown characters of the last
    # word included) agree; that they equal the search's is checked on a trained
    # model (random weights emit ids a form does not spell, such as UNK).
    rows = [(w, b, f) for w, b, h in zip(words, bundles, a, strict=True) for f, _ in h]
    args = [[r[k] for r in rows] for k in range(3)]
    forced = full.form_log_probs(*args)  # sums of up to 13 steps: float32 against float64
    assert light.form_log_probs(*args) == pytest.approx(forced, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_only_the_words_asked_about_warn_of_unseen_characters(tmp_path, engine, caplog):
    """A copying model's hypotheses carry the source's unseen characters; scoring
    them for reranking must not warn again (it named hundreds of garbled forms)."""
    run = _random_model(tmp_path, GRID[-1], seed=3)
    r = predict.load(run, engine=engine)
    bundle = tags.parse(RANDOM_TAGS[0])
    with caplog.at_level(logging.WARNING):
        r.scored_beams(["kitapQ"], [bundle], beam=4, roundtrip=True)
        r.hypothesis_scores(["kitapQ"] * 2, ["Zkitap", "evQQ"], [bundle] * 2, roundtrip=True)
    said = [rec.getMessage() for rec in caplog.records if "not seen in training" in rec.message]
    assert said == ["characters 'Q' of 'kitapQ' were not seen in training"]


def test_the_engines_floor_copy_probabilities_alike():
    from reinflect.morph import model as morph_model

    assert numpy_engine.TINY == morph_model.TINY


def test_the_numpy_engine_knows_every_model_option():
    """A new option of MorphModelConfig must be computed by the numpy engine or
    declared training-only there; then the random-weight grid above covers it."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(config.MorphModelConfig)}
    assert fields == numpy_engine.INFERENCE_OPTIONS | numpy_engine.TRAINING_OPTIONS


def test_the_numpy_engine_refuses_weights_or_options_it_does_not_know(tmp_path):
    import numpy as np

    run = _random_model(tmp_path, {}, seed=0)
    arrays, meta, proto = morph_checkpoint.read_npz(run / "model.npz")

    def rewrite(arrays, meta):
        arrays = {**arrays, morph_checkpoint.META: np.frombuffer(json.dumps(meta).encode(), "u1")}
        arrays[morph_checkpoint.VOCAB] = np.frombuffer(proto, "u1")
        np.savez(run / "model.npz", **arrays)

    rewrite({**arrays, "hard_attention.weight": np.zeros(3, "f4")}, meta)
    with pytest.raises(numpy_engine.Unsupported, match=r"model\.npz: .*weights hard_attention\.w"):
        predict.load(run / "model.npz", engine="numpy")
    rewrite(arrays, {**meta, "model_config": {**meta["model_config"], "hard_attention": True}})
    with pytest.raises(numpy_engine.Unsupported, match=r"know the model options hard_attention$"):
        predict.load(run / "model.npz", engine="numpy")
    del arrays["out.bias"]
    rewrite(arrays, meta)
    with pytest.raises(numpy_engine.Unsupported, match=r"weights missing: out\.bias$"):
        predict.load(run / "model.npz", engine="numpy")


def test_load_picks_the_engine(tmp_path, toy_dir):
    assert isinstance(predict.load(toy_dir, engine="auto"), numpy_engine.NumpyReinflector)
    assert isinstance(predict.load(toy_dir), torch_engine.Reinflector)
    with pytest.raises(ReinflectError, match="engine must be one of auto, torch, numpy"):
        predict.load(toy_dir, engine="onnx")
    with pytest.raises(ReinflectError, match="ensembles need torch"):
        predict.load([toy_dir, toy_dir], engine="numpy")
    # A twin the numpy engine refuses: auto predicts with torch instead.
    d = tmp_path / "run"
    d.mkdir()
    (d / "model.pt").write_bytes((toy_dir / "model.pt").read_bytes())
    assert isinstance(predict.load(d, engine="auto"), torch_engine.Reinflector)  # writes the twin
    assert isinstance(predict.load(d, engine="auto"), numpy_engine.NumpyReinflector)
    with pytest.raises(ReinflectError, match=r"no trained model at .*nowhere"):
        predict.load(tmp_path / "nowhere")
