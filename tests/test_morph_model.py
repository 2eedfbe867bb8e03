"""The MSVED model learns a toy task; decoding, checkpoints and the CLI behave."""

import dataclasses
import json
import random

import pytest
import torch
from typer.testing import CliRunner

from reinflect import cli, config
from reinflect import training as train_mod
from reinflect.errors import ReinflectError
from reinflect.morph import data, decoding, objective, torch_engine, vocab
from reinflect.morph import train as morph_train
from reinflect.vae import schedules

runner = CliRunner()

TOY = """walk V;PST walked|walks V;PST walked|play V;PST played|plays V;PST played|
jump V;3;SG;PRS jumps|jumped V;3;SG;PRS jumps|talk V;3;SG;PRS talks|talked V;3;SG;PRS talks|
cat N;PL cats|dog N;PL dogs|cats N;SG cat|dogs N;SG dog|look V;PST looked|looks V;NFIN look|
played V;NFIN play|walked V;NFIN walk|kick V;PST kicked|kicks V;NFIN kick|rat N;PL rats|
rats N;SG rat"""
PAIRS = [tuple(row.split()) for row in TOY.replace("\n", "").split("|")]
SMALL = dict(char_embedding=32, encoder_hidden=64, latent=16, tag_embedding=32, decoder_hidden=64)


def _write(path, pairs):
    path.write_text("".join(f"{a}\t{t}\t{b}\n" for a, t, b in pairs))
    return path


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A small model trained to overfit 20 pairs (semi-supervised, unlabeled from the files)."""
    d = tmp_path_factory.mktemp("toy")
    train, dev = _write(d / "toy-train", PAIRS), _write(d / "toy-dev", PAIRS)
    trainer = morph_train.Trainer(
        train_path=train,
        dev_path=dev,
        out_dir=d / "run",
        model_cfg=config.MorphModelConfig(**SMALL, word_dropout=0.0),
        train_cfg=config.MorphTrainConfig(
            batch_size=20,
            unlabeled_batch=20,
            max_steps=250,
            eval_every=50,
            patience=100,
            wordfreq_words=0,
        ),
        progress=False,
    )
    summary = trainer.fit()
    return d, trainer, summary


def _inputs(r):
    from reinflect.morph import tags

    return [a for a, _, _ in PAIRS], [tags.parse(t) for _, t, _ in PAIRS]


def test_overfits_toy_pairs_greedy_and_beam(toy_run):
    d, trainer, summary = toy_run
    assert summary["best_dev_accuracy"] == 100.0
    assert summary["unlabeled_words"] > 0
    r = torch_engine.Reinflector.load(d / "run")
    words, bundles = _inputs(r)
    gold = [b for _, _, b in PAIRS]
    assert [p[0][0] for p in r.inflect(words, bundles, beam=1)] == gold
    assert [p[0][0] for p in r.inflect(words, bundles, beam=4)] == gold


def test_beam_one_equals_greedy_and_nbest_is_sorted(toy_run):
    d, trainer, _ = toy_run
    model = trainer.kept_model.eval()
    r = torch_engine.Reinflector(model, trainer.vocab, trainer.schema)
    words, bundles = _inputs(r)
    with torch.no_grad():
        start = r.start(words, bundles)
        toks, scores = decoding.greedy(model, start, max_length=20)
        beams = decoding.beam_search(model, start, beam=1, max_length=20)
        five = decoding.beam_search(model, start, beam=5, max_length=20, nbest=5)
    for i in range(len(words)):
        ids = [t for t in toks[i].tolist() if t > 3]
        assert beams[i][0][0] == ids
        assert beams[i][0][1] == pytest.approx(float(scores[i]), abs=1e-4)
        lps = [s for _, s in five[i]]
        assert (
            lps == sorted(lps, reverse=True) and len(set(map(tuple, [h for h, _ in five[i]]))) == 5
        )
        assert lps[0] >= float(scores[i]) - 1e-4  # the beam finds at least the greedy score


def test_checkpoint_round_trip_gives_identical_predictions(toy_run):
    d, trainer, _ = toy_run
    a = torch_engine.Reinflector(trainer.kept_model, trainer.vocab, trainer.schema)
    # On the trainer's device: CUDA and CPU kernels differ in the last float bits.
    b = torch_engine.Reinflector.load(d / "run" / "last.pt", device=str(trainer.device))
    words, bundles = _inputs(a)
    kw = dict(beam=3, nbest=3, lookup=False)  # the model alone: `a` holds no training table
    assert a.inflect(words, bundles, **kw) == b.inflect(words, bundles, **kw)
    # The saved checkpoint carries the training pairs, and `b` looks them up.
    assert b.known and a.known == {}


def test_partial_tags_and_analysis(toy_run):
    d, _, _ = toy_run
    r = torch_engine.Reinflector.load(d / "run")
    bundle, partial = r.target_bundle("plays", "V;PST")
    assert not partial and bundle == {"POS": "V", "Tense": "PST"}
    bundle, partial = r.target_bundle("cats", "SG")
    assert partial and bundle["Number"] == "SG"
    top = r.analyze("walked", top=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    every = r.analyze("walked", top=len(r.schema.bundles))
    assert sum(p for _, p in every) == pytest.approx(1.0)


def test_cli_predict_evaluate_and_errors(toy_run, tmp_path):
    d, _, _ = toy_run
    model = str(d / "run")
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;PST", "--model", model])
    assert res.exit_code == 0 and res.stdout.strip() == "walked"
    res = runner.invoke(
        cli.app, ["predict", "walk", "--tags", "V;PST", "--model", model, "--nbest", "2"]
    )
    assert len(res.stdout.strip().splitlines()) == 2
    res = runner.invoke(
        cli.app, ["evaluate", "--gold", str(d / "toy-dev"), "--model", model, "--json"]
    )
    assert res.exit_code == 0 and '"accuracy": 100.0' in res.stdout
    res = runner.invoke(
        cli.app,
        [
            "predict",
            "--input",
            str(d / "toy-dev"),
            "--output",
            str(tmp_path / "p"),
            "--model",
            model,
        ],
    )
    assert res.exit_code == 0
    assert (tmp_path / "p").read_text() == (d / "toy-dev").read_text()
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;FUT", "--model", model])
    assert res.exit_code == 1 and "unknown value 'FUT' for Tense" in res.stderr
    res = runner.invoke(
        cli.app, ["predict", "walk", "--tags", "PST", "--model", str(tmp_path / "none")]
    )
    assert (
        res.exit_code == 1 and "no trained model" in res.stderr and "reinflect train" in res.stderr
    )


def test_cli_train_tiny(tmp_path):
    train, dev = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:5])
    args = ["train", "--train", str(train), "--dev", str(dev), "--out", str(tmp_path / "r")]
    res = runner.invoke(
        cli.app,
        [*args, "--max-steps", "3", "--eval-every", "3", "--no-progress", "--supervised-only"],
    )
    assert res.exit_code == 0, res.output
    run = tmp_path / "r"
    checks = [r for r in train_mod.MetricsLog.read(run / "metrics.jsonl") if "dev_accuracy" in r]
    assert [r["step"] for r in checks] == [3] and 0.0 <= checks[0]["dev_accuracy"] <= 100.0
    kept = config.resolve_morph(config_file=run / "config.toml")
    assert kept.train.supervised_only and kept.train.max_steps == 3 and kept.data.dev == str(dev)
    res = runner.invoke(cli.app, ["predict", "walk", "--tags", "V;PST", "--model", str(run)])
    # three updates learn nothing yet: the form may be empty, but the run loads and answers one line
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 1, res.output
    res = runner.invoke(cli.app, ["train", "--train", str(tmp_path / "x-test"), "--dev", str(dev)])
    assert res.exit_code == 1 and "test files are never used" in res.stderr


# Options of `reinflect train` that are not part of a run's configuration.
NOT_CONFIG = {"ctx", "out", "config_file", "print_config", "resume", "overwrite", "progress"}
NOT_CONFIG |= {"plots"}


def test_every_train_option_has_a_config_field_with_the_same_default():
    """The one source of defaults: every option of ``reinflect train`` maps to a
    config field (config.MORPH_OPTIONS) and shows that field's default."""
    import typer.main

    params = {p.name: p for p in typer.main.get_command(cli.app).commands["train"].params}
    names = {("format" if n == "fmt" else n) for n in params} - NOT_CONFIG
    assert names <= set(config.MORPH_OPTIONS), names - set(config.MORPH_OPTIONS)
    run = config.MorphRunConfig()
    for name in names:
        p = params["fmt" if name == "format" else name]
        default = p.default.value if hasattr(p.default, "value") else p.default
        field = run
        for key in config.MORPH_OPTIONS[name]:
            field = getattr(field, key)
        assert default == (field or None if name == "train" else field), name
    assert {k.value for k in cli.KLKind} == set(schedules.KL_KINDS)
    assert {k.value for k in cli.AttentionStyle} == set(config.SOURCE_ATTENTION_STYLES)
    with pytest.raises(ReinflectError, match="--source-attention-style must be one of input"):
        config.MorphModelConfig(source_attention_style="sideways")


def test_config_toml_round_trips_and_flags_override_it(tmp_path):
    train, dev = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:5])
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'[data]\ntrain = ["{train}"]\ndev = "{dev}"\n'
        "[model]\nencoder_hidden = 32\nlatent = 8\n"
        "[train]\nbatch_size = 4\nmax_steps = 2\neval_every = 2\nwordfreq_words = 0\n"
        "rerank_floors = ['none', 3.0]\n[train.kl]\ndelay = 7\n"
    )
    res = runner.invoke(cli.app, ["train", "--config", str(toml), "--print-config", "--lr", "0.01"])
    assert res.exit_code == 0, res.output
    printed = tmp_path / "printed.toml"
    printed.write_text(res.stdout)
    run = config.resolve_morph(config_file=printed)
    assert run.model.encoder_hidden == 32 and run.train.lr == 0.01 and run.train.kl.delay == 7
    assert run.train.unlabeled_batch == 4  # follows batch_size
    assert run.train.rerank_floors == (None, 3.0) and run.data.train == [str(train)]
    assert run.train.kl.rate == config.MorphTrainConfig().kl.rate  # the rest: defaults
    out = tmp_path / "r"
    args = ["train", "--config", str(toml), "--out", str(out), "--no-progress", "--batch-size", "5"]
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    kept = config.resolve_morph(config_file=out / "config.toml")
    assert kept.train.batch_size == 5 and kept.model.latent == 8
    saved = torch.load(out / "model.pt", weights_only=True)
    assert saved["model_config"] == config.to_dict(kept.model)
    assert saved["train_config"]["kl"]["delay"] == 7
    # Repeating the run from its config.toml gives the same model.
    again = tmp_path / "again"
    res = runner.invoke(
        cli.app, ["train", "--config", str(out / "config.toml"), "--out", str(again)]
    )
    assert res.exit_code == 0, res.output
    repeat = torch.load(again / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(repeat[k], saved["model"][k]) for k in repeat)


def test_bad_config_files_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    for text, message in (
        ("[train]\nbatch_sise = 3\n", "unknown option train.batch_sise; did you mean batch_size?"),
        ("[train]\nlr = 'fast'\n", "train.lr must be float, got 'fast'"),
        # a field chosen by size (default None) is checked by its type too
        ("[train]\nhallucinate = 'lots'\n", "train.hallucinate must be float, got 'lots'"),
        ("[model]\ncopy = 1\n", "model.copy must be bool, got 1"),
        ("[trian]\n", "unknown option trian; did you mean train?"),
        ("[train\n", "not a TOML file"),
    ):
        bad.write_text(text)
        res = runner.invoke(cli.app, ["train", "--config", str(bad), "--print-config"])
        assert res.exit_code == 1 and f"{bad}: {message}" in res.stderr, res.stderr
    res = runner.invoke(cli.app, ["train", "--config", str(tmp_path / "none.toml")])
    assert res.exit_code == 1 and "none.toml" in res.stderr


def test_cli_kl_and_unlabeled_options_reach_the_run(tmp_path):
    train, dev = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:5])
    args = ["train", "--train", str(train), "--dev", str(dev), "--out", str(tmp_path / "r")]
    opts = ["--kl-schedule", "constant", "--kl-cap", "0.5", "--unlabeled-weight", "0.3"]
    opts += ["--y-kl-weight", "0.7", "--hallucinate", "0.5"]
    opts += ["--source-attention", "--source-attention-style", "output"]
    opts += ["--match-unlabeled-lengths"]
    res = runner.invoke(
        cli.app,
        [*args, *opts, "--wordfreq-words", "0", "--max-steps", "2", "--eval-every", "2"],
    )
    assert res.exit_code == 0, res.output
    saved = torch.load(tmp_path / "r" / "model.pt", weights_only=True)["train_config"]
    assert saved["kl"]["kind"] == "constant" and saved["kl"]["cap"] == 0.5
    assert saved["unlabeled_weight"] == 0.3 and saved["wordfreq_words"] == 0
    assert saved["hallucinate"] == 0.5
    assert saved["y_kl_weight"] == 0.7 and saved["match_unlabeled_lengths"]
    model_cfg = torch.load(tmp_path / "r" / "model.pt", weights_only=True)["model_config"]
    assert model_cfg["source_attention"] and model_cfg["source_attention_style"] == "output"
    logged = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").open()]
    assert logged[0]["kl_weight"] == 0.5
    res = runner.invoke(cli.app, [*args, "--kl-schedule", "steep"])
    assert res.exit_code == 2 and "steep" in res.output


def test_y_kl_weight_adds_the_kl_of_the_source_tags(toy_run):
    """The labeled loss at y-KL weight w is the loss at 0 plus w * KL(q(y|x_s) || p(y))
    (same Gumbel draws and word dropout)."""
    _, trainer, _ = toy_run
    batch = morph_train._collate(trainer.train_ds, list(range(8)), trainer.device)
    out = {}
    for w in (0.0, 0.5, 1.0):
        torch.manual_seed(0)
        out[w] = objective.labeled(
            trainer.model, batch, kl_weight=0.0, temperature=1.0, y_kl_weight=w
        )
    kl_ys = out[1.0][1]["kl_ys"].item()
    assert kl_ys > 0.01
    for w in (0.5, 1.0):
        assert out[w][0].item() == pytest.approx(out[0.0][0].item() + w * kl_ys, rel=1e-5)


@pytest.mark.parametrize(
    "source_attention,copy,stems",
    [
        (None, False, False),
        ("input", False, False),
        ("output", False, False),
        ("input", True, False),
        ("monotonic", True, True),
        ("output", False, True),
    ],
)
def test_the_joint_pass_equals_the_labeled_and_unlabeled_losses_apart(
    toy_run, source_attention, copy, stems, monkeypatch
):
    """objective.semi (one encoder and one decoder pass over labeled and unlabeled
    rows) gives labeled + w * unlabeled, each computed on its own with the same
    random draws, in value and in gradient. With copying the unlabeled words are
    the longest (the labeled rows padded to them) and characters are made unknown;
    with ``stems`` the unlabeled words are rebuilt from their cut stems."""
    from reinflect.morph import model as morph_model

    _, trainer, _ = toy_run
    torch.manual_seed(1)
    model = morph_model.MSVED(
        vocab_size=len(trainer.vocab),
        tag_sizes=trainer.schema.sizes,
        cfg=config.MorphModelConfig(
            **SMALL,
            word_dropout=0.0,
            **config.source_attention(source_attention),
            copy=copy,
        ),
    )
    cpu = torch.device("cpu")
    pairs = list(range(6))
    if copy:  # the shortest pairs, so that the unlabeled words are longer
        ds = trainer.train_ds
        span = [len(a) + len(b) for a, b in zip(ds["source"], ds["target"], strict=True)]
        pairs = sorted(range(len(span)), key=span.__getitem__)[:6]
    batch = morph_train._collate(trainer.train_ds, pairs, cpu)
    # The shortest unlabeled words, padded to the labeled length in the joint pass:
    # the padding must not count.
    lengths = [len(w) for w in trainer.unl_ds["word"]]
    by_length = sorted(range(len(lengths)), key=lengths.__getitem__)
    ub = morph_train._collate(trainer.unl_ds, by_length[-5:] if copy else by_length[:5], cpu)
    assert (ub["word"].shape[1] > batch["target"].shape[1]) == copy
    if stems:
        keep = objective.cut_endings((ub["word_len"] - 1).tolist(), random.Random(0))
        ub["stem_len"] = torch.tensor(keep)
    if copy:
        monkeypatch.setattr(objective, "UNKNOWN_RATE", 0.5)
    shared = dict(kl_weight=0.3, temperature=0.7, y_kl_weight=0.5)

    def loss_and_grads(fn):
        model.zero_grad()
        torch.manual_seed(0)
        loss, stats = fn()
        loss.backward()
        return loss.detach(), stats, [p.grad.clone() for p in model.parameters()]

    def apart():
        lab, lab_stats = objective.labeled(model, batch, alpha=0.9, **shared)
        unl, unl_stats = objective.unlabeled(model, ub, **shared)
        return lab + 0.8 * unl, lab_stats | {f"u_{k}": v for k, v in unl_stats.items()}

    want, want_stats, want_grads = loss_and_grads(apart)
    got, got_stats, got_grads = loss_and_grads(
        lambda: objective.semi(model, batch, ub, alpha=0.9, unlabeled_weight=0.8, **shared)
    )
    assert got.item() == pytest.approx(want.item(), rel=1e-5)
    for k in ("transduction", "kl_ys", "u_log_px", "u_kl_z", "u_kl_y"):
        assert got_stats[k].item() == pytest.approx(want_stats[k].item(), rel=1e-4, abs=1e-5), k
    for g, w in zip(got_grads, want_grads, strict=True):
        assert torch.allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "source_attention,copy",
    [
        (None, False),
        ("input", False),
        ("output", False),
        ("input", True),
        ("output", True),
        ("monotonic", False),
        ("monotonic", True),
    ],
)
def test_teacher_forcing_equals_the_sum_of_decoder_steps(source_attention, copy):
    """Training's teacher-forced log-likelihood (in the "output" style it attends
    for all steps at once after the recurrence) equals the sum of the one-step
    log-probabilities that decoding uses, with PAD positions not counted. That
    each step is the paper's formula is checked against the numpy engine, the
    plain formulation, in tests/test_engines.py."""
    from reinflect.morph import model as morph_model

    cfg = config.MorphModelConfig(**SMALL, **config.source_attention(source_attention), copy=copy)
    m = morph_model.MSVED(vocab_size=12, tag_sizes=[3, 4], cfg=cfg).eval()
    B, L = 5, 7
    z = torch.randn(B, cfg.latent)
    ys = [torch.nn.functional.one_hot(torch.randint(0, c, (B,)), c).float() for c in (3, 4)]
    ys[0][0] = torch.tensor([1.0, 0.0, 0.0])  # row 0: first dimension absent
    ids = torch.randint(4, 12, (B, L))
    lengths = torch.tensor([7, 3, 5, 1, 6])
    states, smask, _ = m.encode(ids, lengths)
    if copy:
        smask[2] = morph_model.NEG  # a row without a source: it neither attends nor copies
        ids[0, 1] = 12  # an unknown character, copied as id V
    state = m.start(z, ys, (states, smask, ids) if source_attention else None)
    targets = torch.randint(4, 12, (B, 4))
    if copy:
        targets[0, 0] = 12
    targets[1, 2:] = morph_model.PAD
    with torch.no_grad():
        stepped, s = torch.zeros(B), state
        prev = torch.full((B,), morph_model.BOS)
        for t in range(targets.shape[1]):
            logp, s = m.decode_step(s, prev)
            real = targets[:, t] != morph_model.PAD
            stepped += logp.gather(1, targets[:, t : t + 1]).squeeze(1) * real
            prev = targets[:, t]
        assert torch.allclose(m.log_likelihood(state, targets), stepped, atol=1e-4)


def _tiny_trainer(tmp_path, name, seed=0):
    train, dev = _write(tmp_path / "r-train", PAIRS), _write(tmp_path / "r-dev", PAIRS[:4])
    return morph_train.Trainer(
        train_path=train,
        dev_path=dev,
        out_dir=tmp_path / name,
        model_cfg=config.MorphModelConfig(**SMALL),
        train_cfg=config.MorphTrainConfig(
            batch_size=8, unlabeled_batch=8, max_steps=6, eval_every=3, wordfreq_words=0, seed=seed
        ),
        progress=False,
    )


def test_fixed_seed_is_reproducible_on_cpu(tmp_path):
    a, b = _tiny_trainer(tmp_path, "a"), _tiny_trainer(tmp_path, "b")
    a.fit()
    b.fit()
    for (k, va), vb in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(va, vb), k
    c = _tiny_trainer(tmp_path, "c", seed=1)
    c.fit()
    assert not torch.equal(a.model.embed.weight, c.model.embed.weight)


def test_length_buckets_cover_every_example_once():
    from reinflect.morph import data

    lengths = [((i * 7) % 13) + 1 for i in range(1000)]
    batches = data.bucket_batches(lengths, 32, generator=torch.Generator().manual_seed(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    # Bucketing keeps padding low: the mean spread of lengths inside a batch is small.
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(
        batches
    )
    assert spread < 2.0


def test_train_without_files_uses_the_english_sample(tmp_path):
    out = tmp_path / "default"
    args = ["train", "--out", str(out), "--max-steps", "1", "--eval-every", "1", "--no-progress"]
    res = runner.invoke(cli.app, [*args, "--supervised-only"])
    assert res.exit_code == 0, res.output
    r = torch_engine.Reinflector.load(out)
    assert r.schema.unimorph and "POS" in r.schema.dimensions
    res = runner.invoke(cli.app, ["predict", "plays", "--tags", "PST", "--model", str(out)])
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 1  # a form (not yet "played")
    assert res.stderr.startswith("tags: V;") and "PST" in res.stderr  # resolved bundle
    res = runner.invoke(cli.app, ["train", "--train", "x"])
    assert res.exit_code == 2 and "give both --train and --dev" in res.stderr


def test_batch_predict_names_the_bad_line(toy_run, tmp_path):
    d, _, _ = toy_run
    bad = tmp_path / "in"
    bad.write_text("walk\tV;PST\twalked\nwalk\tV;FUT\twill\n")
    res = runner.invoke(
        cli.app,
        [
            "predict",
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "o"),
            "--model",
            str(d / "run"),
        ],
    )
    assert res.exit_code == 1 and f"{bad}:2: unknown value 'FUT' for Tense" in res.stderr
    assert not (tmp_path / "o").exists()


def test_encoder_equals_packed_nn_gru():
    """The masked two-direction loop gives torch's packed bidirectional GRU:
    the same final states and per-position outputs, and the same gradients."""
    from reinflect.morph import model as morph_model

    cfg = config.MorphModelConfig(**SMALL, source_attention=True)
    m = morph_model.MSVED(vocab_size=12, tag_sizes=[3], cfg=cfg)
    ids = torch.randint(4, 12, (4, 6))
    lengths = torch.tensor([6, 2, 4, 1])
    states, mask_log, h = m.encode(ids, lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        m.embed(ids), lengths, batch_first=True, enforce_sorted=False
    )
    out, h_n = m.encoder(packed)
    ref_states, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=6)
    ref_h = torch.cat([h_n[0], h_n[1]], -1)
    assert torch.allclose(h, ref_h, atol=1e-5)
    assert torch.allclose(states, ref_states, atol=1e-5)
    assert (mask_log[1, 2:] < -1e8).all() and (mask_log[1, :2] == 0).all()
    (grad,) = torch.autograd.grad(h.sum(), m.encoder.weight_hh_l0_reverse)
    (ref_grad,) = torch.autograd.grad(ref_h.sum(), m.encoder.weight_hh_l0_reverse)
    assert torch.allclose(grad, ref_grad, atol=1e-5)


def test_dropout_acts_in_training_only(tmp_path):
    """With ``dropout`` p the training encoder's summary is the plain one with each
    entry either zeroed or scaled by 1/(1-p), about a share p zeroed; the decoder
    likelihood varies from draw to draw; in eval mode the model is the one
    without dropout. The CLI option reaches the saved config; p = 1 is refused."""
    from reinflect.morph import model as morph_model

    torch.manual_seed(0)
    cfg = config.MorphModelConfig(**SMALL, word_dropout=0.0, dropout=0.5, source_attention=True)
    plain = morph_model.MSVED(
        vocab_size=12, tag_sizes=[3, 2], cfg=dataclasses.replace(cfg, dropout=0.0)
    )
    m = morph_model.MSVED(vocab_size=12, tag_sizes=[3, 2], cfg=cfg)
    m.load_state_dict(plain.state_dict())
    ids, lengths = torch.randint(4, 12, (32, 6)), torch.full((32,), 6)
    _, _, ref = plain.eval().encode(ids, lengths)
    _, _, h = m.train().encode(ids, lengths)
    zeroed = h == 0
    assert 0.4 < zeroed.float().mean() < 0.6
    assert torch.allclose(h[~zeroed], 2 * ref[~zeroed], atol=1e-5)
    z = torch.randn(32, SMALL["latent"])
    ys = [torch.eye(3)[torch.randint(0, 3, (32,))], torch.eye(2)[torch.randint(0, 2, (32,))]]
    states, mask, _ = m.encode(ids, lengths)
    targets = torch.randint(4, 12, (32, 5))

    def ll(model):
        return model.log_likelihood(model.start(z, ys, (states, mask, ids)), targets)

    with torch.no_grad():
        assert not torch.allclose(ll(m), ll(m))
        m.eval()
        assert torch.allclose(ll(m), ll(plain), atol=1e-5)
    train, dev = _write(tmp_path / "t-train", PAIRS), _write(tmp_path / "t-dev", PAIRS[:5])
    args = ["train", "--train", str(train), "--dev", str(dev), "--out", str(tmp_path / "r")]
    args += ["--wordfreq-words", "0", "--max-steps", "2", "--eval-every", "2"]
    res = runner.invoke(cli.app, [*args, "--dropout", "0.3"])
    assert res.exit_code == 0, res.output
    saved = torch.load(tmp_path / "r" / "model.pt", weights_only=True)["model_config"]
    assert saved["dropout"] == 0.3
    res = runner.invoke(cli.app, [*args, "--dropout", "1"])
    assert res.exit_code == 1 and "--dropout must be in [0, 1), got 1.0" in res.stderr


def test_batched_beam_search_equals_a_plain_one():
    """The vectorized beam (live rows only, finished ones frozen) finds the same
    hypotheses and scores as a per-hypothesis Python beam search."""
    from reinflect.morph import model as morph_model
    from reinflect.morph.vocab import BOS, EOS, PAD

    torch.manual_seed(3)
    cfg = config.MorphModelConfig(**SMALL)
    m = morph_model.MSVED(vocab_size=9, tag_sizes=[3, 2], cfg=cfg).eval()
    with torch.no_grad():
        m.out.bias[EOS] += 2.0  # let some hypotheses end early
    B, K, T = 3, 3, 6
    z = torch.randn(B, cfg.latent)
    ys = [torch.nn.functional.one_hot(torch.randint(0, c, (B,)), c).float() for c in (3, 2)]
    got = decoding.beam_search(m, m.start(z, ys), beam=K, max_length=T, nbest=K)
    for b in range(B):
        one = m.start(z[b : b + 1], [y[b : b + 1] for y in ys])
        beams = [([], 0.0, one, BOS, False)]
        for _ in range(T):
            cand = []
            for ids, score, state, tok, done in beams:
                if done:
                    cand.append((ids, score, state, tok, True))
                    continue
                with torch.no_grad():
                    logp, new = m.decode_step(state, torch.tensor([tok]))
                for v in range(logp.shape[-1]):
                    cand.append((ids + [v], score + float(logp[0, v]), new, v, v == EOS))
            beams = sorted(cand, key=lambda c: -c[1])[:K]
            if all(c[4] for c in beams):
                break
        want = [([t for t in ids if t not in (PAD, EOS)], s) for ids, s, *_ in beams]
        assert [ids for ids, _ in got[b]] == [ids for ids, _ in want]
        assert got[b][0][1] == pytest.approx(want[0][1], abs=1e-4)
        assert [s for _, s in got[b]] == pytest.approx([s for _, s in want], abs=1e-4)


def test_cut_endings_keep_a_stem_and_the_stems_are_its_first_characters():
    rng = random.Random(3)
    lengths = [1, 2, 3, 6, 9, 20] * 50
    keep = objective.cut_endings(lengths, rng)
    for n, k in zip(lengths, keep, strict=True):
        most = min(objective.MAX_CUT, (n + 1) // 2) if n >= 2 else 0
        assert n - most <= k <= n - (1 if n >= 2 else 0)
    assert {n - k for n, k in zip(lengths, keep, strict=True) if n == 20} == set(range(1, 6))
    words, lengths_t = data.pad([[5, 6, 7, 8], [9, 10]])
    ids, stem_len = objective._stems(words, torch.tensor([2, 1]))
    assert ids.tolist() == [[5, 6, vocab.EOS], [9, vocab.EOS, vocab.PAD]]
    assert stem_len.tolist() == [3, 2]
