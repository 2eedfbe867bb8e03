"""Training reliability: exact resume after a signal, non-finite losses, out of
memory, resumable batch streams, and data parallelism over 2 gloo processes."""

import contextlib
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from helpers import SMALL, TOY, write_rows

from reinflect import checkpoint, config
from reinflect import training as train
from reinflect.errors import ReinflectError
from reinflect.morph import data, sizing
from reinflect.morph import model as morph_model
from reinflect.morph import train as morph_train

REPO = Path(__file__).resolve().parents[1]


def _files(d: Path) -> tuple[Path, Path]:
    d.mkdir(parents=True, exist_ok=True)
    return write_rows(d / "toy-train", TOY), write_rows(d / "toy-dev", TOY[:4])


def _trainer(tmp_path, name, *, model_cfg=None, unlabeled_path=None, **overrides):
    train_f, dev_f = _files(tmp_path / "data")
    cfg = dict(batch_size=8, unlabeled_batch=8, max_steps=8, eval_every=3, wordfreq_words=0)
    return morph_train.Trainer(
        train_path=train_f,
        dev_path=dev_f,
        out_dir=tmp_path / name,
        model_cfg=model_cfg or config.MorphModelConfig(**SMALL),
        train_cfg=config.MorphTrainConfig(**(cfg | overrides)),
        unlabeled_path=unlabeled_path,
        progress=False,
    )


def _same_weights(a: torch.nn.Module, b: torch.nn.Module, atol: float = 0.0) -> None:
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        if atol == 0.0:
            assert torch.equal(va, vb), k
        else:
            assert torch.allclose(va, vb, atol=atol), (k, (va - vb).abs().max())


@pytest.mark.parametrize(
    "signum,code,halluc", [(signal.SIGTERM, 143, 0.0), (signal.SIGINT, 130, 1.0)]
)
def test_a_signal_then_resume_gives_the_uninterrupted_weights(tmp_path, signum, code, halluc):
    # the second case mixes in hallucinated pairs, which resume must draw again alike
    full = _trainer(tmp_path, "full", hallucinate=halluc)
    full.fit()
    part = _trainer(tmp_path, "part", hallucinate=halluc)
    step = part.train_step

    def step_with_a_kill(**kw):
        if part.step == 4:
            os.kill(os.getpid(), signum)  # caught: finish the step, save, stop
        return step(**kw)

    part.train_step = step_with_a_kill
    with pytest.raises(train.Interrupted) as e:
        part.fit()
    assert e.value.code == code and "--resume" in str(e.value)
    assert checkpoint.load(tmp_path / "part" / "last.pt")["step"] == 6
    again = _trainer(tmp_path, "part", hallucinate=halluc)
    again.resume()
    summary = again.fit()
    assert summary["steps"] == 8
    _same_weights(full.model, again.model)
    _same_weights(full.kept_model, again.kept_model)  # the weight average resumes too
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_weight_average_warms_up_then_decays_at_its_rate():
    model = torch.nn.Linear(1, 1, bias=False)
    avg = train.WeightAverage(model, decay=0.9)
    want, seen = None, []
    for n in range(30):
        with torch.no_grad():
            model.weight.fill_(float(n * n))
        avg.update(model)
        # The first update copies; after n updates the next has decay
        # min(0.9, (1 + n) / (10 + n)).
        d = min(0.9, (1 + n) / (10 + n))
        want = float(n * n) if want is None else d * want + (1 - d) * float(n * n)
        seen.append(avg.model.weight.item())
        assert seen[-1] == pytest.approx(want, rel=1e-6)
    assert seen[-1] < 29 * 29  # it lags behind the weights
    again = train.WeightAverage(model, decay=0.9)  # resumed: the weights and the count
    again.model.load_state_dict(avg.model.state_dict())
    again.updates = avg.updates
    model.weight.data.fill_(0.0)
    avg.update(model), again.update(model)
    assert again.model.weight.item() == avg.model.weight.item()


def test_the_kept_model_is_the_weight_average(tmp_path):
    t = _trainer(tmp_path, "avg", eval_every=4, max_steps=8)
    t.fit()
    kept = checkpoint.load(tmp_path / "avg" / "model.pt")["model"]
    last = checkpoint.load(tmp_path / "avg" / "last.pt")
    assert last["average_updates"] == 8
    for k, v in t.average.model.state_dict().items():
        assert torch.equal(last["model"][k], v) and torch.equal(
            last["trained_model"][k], t.model.state_dict()[k]
        )
    assert any(not torch.equal(last["model"][k], v) for k, v in t.model.state_dict().items())
    assert kept.keys() == t.model.state_dict().keys()
    rows = [json.loads(r) for r in (tmp_path / "avg" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [4, 8] and all("dev_accuracy_unaveraged" in r for r in rows)
    plain = _trainer(tmp_path, "plain", average=0.0)
    plain.fit()
    assert plain.kept_model is plain.model and "average_updates" not in checkpoint.load(
        tmp_path / "plain" / "last.pt"
    )
    with pytest.raises(ReinflectError, match="--average must be in"):
        config.MorphTrainConfig(average=1.0)


def test_batch_stream_resumes_mid_pass_and_shards_by_rank():
    lengths = [(i * 5) % 11 + 1 for i in range(50)]
    a = data.BatchStream(lengths, 8, seed=3)
    for _ in range(9):  # past the end of the first pass (7 batches)
        next(a)
    state = a.state_dict()
    want = [next(a) for _ in range(10)]
    b = data.BatchStream(lengths, 8, seed=3)
    b.load_state_dict(state)
    assert [next(b) for _ in range(10)] == want
    whole = next(data.BatchStream(lengths, 8, seed=4))
    parts = [next(data.BatchStream(lengths, 8, seed=4, rank=r, world=2)) for r in (0, 1)]
    assert sorted(parts[0] + parts[1]) == sorted(whole) and not set(parts[0]) & set(parts[1])


def test_length_matched_batches_fit_the_limit_and_cover_each_pass_once():
    """take(limit) returns the longest batch of the window that fits (or the
    shortest when none does), takes every batch once a pass, and resumes with
    the reordered pass."""
    lengths = [(i * 7) % 23 + 1 for i in range(400)]
    s = data.BatchStream(lengths, 8, seed=5, window=6)
    n = len(s.batches)
    limits = [(i * 5) % 20 + 4 for i in range(2 * n)]
    taken, fitted, possible = [], 0, 0
    for limit in limits[:n]:
        ahead = {s.longest[s.order[j]] for j in range(s.pos, min(s.pos + 6, n))}
        batch = s.take(limit)
        taken.append(batch)
        got = max(lengths[i] for i in batch)
        assert got == s.last_length
        if any(a <= limit for a in ahead):
            possible += 1
            fitted += got <= limit
            assert got == max(a for a in ahead if a <= limit)
        else:
            assert got == min(ahead)
    assert fitted == possible > n // 2
    assert sorted(i for b in taken for i in b) == list(range(len(lengths)))  # one pass
    for limit in limits[n : n + 5]:  # into the second pass, then resume
        s.take(limit)
    state = s.state_dict()
    want = [s.take(limit) for limit in limits[n + 5 :]]
    r = data.BatchStream(lengths, 8, seed=5, window=6)
    r.load_state_dict(state)
    assert [r.take(limit) for limit in limits[n + 5 :]] == want
    # Without a limit, or with a window of 1 (the default), the order is the
    # shuffled one of bucket_batches.
    plain = data.BatchStream(lengths, 8, seed=5)
    assert [plain.take(3) for _ in range(n)] == plain.batches
    plain = data.BatchStream(lengths, 8, seed=5, window=6)
    assert [next(plain) for _ in range(n)] == plain.batches


def test_a_non_finite_loss_skips_the_batch_and_repeated_ones_stop(tmp_path, monkeypatch, caplog):
    real = morph_train.objective.semi  # the trainer is semi-supervised
    calls = {"n": 0}

    def sometimes_nan(*args, **kwargs):
        loss, stats = real(*args, **kwargs)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] == 2 else loss), stats

    monkeypatch.setattr(morph_train.objective, "semi", sometimes_nan)
    t = _trainer(tmp_path, "once", max_steps=4)
    t.fit()
    assert "non-finite loss at step 2" in caplog.text
    assert all(torch.isfinite(p).all() for p in t.model.parameters())
    # the NaN batch was skipped, not applied: Adam took 3 steps in 4 updates
    assert {int(s["step"]) for s in t.opt.state.values()} == {3}

    monkeypatch.setattr(morph_train.objective, "semi", real)
    t = _trainer(tmp_path, "always", max_steps=3)
    t.fit()
    best = (tmp_path / "always" / "model.pt").read_bytes()

    def infinite(model, *a, **k):
        return next(model.parameters()).sum() * float("inf"), {}

    monkeypatch.setattr(morph_train.objective, "semi", infinite)
    t.tcfg.max_steps = 20
    with pytest.raises(ReinflectError, match="NaN or infinite for 5 batches in a row") as e:
        t.fit()
    assert (tmp_path / "always" / "model.pt").read_bytes() == best
    assert "model.pt holds the best model so far" in str(e.value)
    fresh = _trainer(tmp_path, "never", max_steps=20, eval_every=50)  # no dev check yet
    with pytest.raises(ReinflectError, match="no model was saved") as e:
        fresh.fit()
    assert not (tmp_path / "never" / "model.pt").exists() and "holds" not in str(e.value)


def test_out_of_memory_names_a_smaller_batch(tmp_path, monkeypatch):
    def oom(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(morph_train.objective, "semi", oom)
    with pytest.raises(ReinflectError, match="out of memory .* try --batch-size 4"):
        _trainer(tmp_path, "oom").fit()


def test_unknown_precision_is_refused(tmp_path):
    with pytest.raises(ReinflectError, match="--precision must be one of auto, fp32, bf16"):
        _trainer(tmp_path, "p", precision="fp8")
    with pytest.raises(ReinflectError, match=r"--word-dropout must be in \[0, 1\), got 1.5"):
        config.MorphModelConfig(word_dropout=1.5)


def test_device_choice_is_checked():
    assert train.pick_device("cpu").type == "cpu"
    with pytest.raises(ReinflectError, match="--device must be auto, cpu or cuda"):
        train.pick_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ReinflectError, match="no CUDA device here"):
            train.pick_device("cuda")
        assert train.pick_device("auto").type == "cpu"
        assert isinstance(train.autocast(torch.device("cpu")), type(contextlib.nullcontext()))


def test_bf16_autocast_trains_on_cpu(tmp_path):
    t = _trainer(tmp_path, "bf16", precision="bf16", max_steps=2, eval_every=2)
    before = [p.detach().clone() for p in t.model.parameters()]
    summary = t.fit()
    assert summary["steps"] == 2 and all(torch.isfinite(p).all() for p in t.model.parameters())
    # autocast computes in bf16 but updates the fp32 weights themselves
    assert all(p.dtype == torch.float32 for p in t.model.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(before, t.model.parameters(), strict=True))


# -- data parallelism -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _without_noise(monkeypatch_target=None):
    """Make the objective deterministic (no Gumbel noise, z = mu) so that data
    parallelism can be compared with one process exactly."""
    from reinflect.vae import distributions

    def gumbel(logits, *, temperature=1.0, straight_through=True):
        soft = torch.softmax(logits / temperature, -1)
        hard = torch.nn.functional.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
        return hard - soft.detach() + soft

    distributions.gumbel_softmax = gumbel
    distributions.DiagGaussian.rsample = lambda self: self.mu


def _ddp_worker(rank: int, world: int, port: int, tmp: str) -> None:
    os.environ |= {
        "RANK": str(rank),
        "WORLD_SIZE": str(world),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }
    torch.set_num_threads(1)
    _without_noise()
    t = _ddp_trainer(Path(tmp), "ddp")
    t.fit()
    if rank == 0:
        torch.save(t.model.state_dict(), Path(tmp) / "ddp.pt")
    torch.distributed.destroy_process_group()


def _ddp_trainer(tmp_path, name):
    return _trainer(
        tmp_path,
        name,
        model_cfg=config.MorphModelConfig(**SMALL, word_dropout=0.0, copy=False),
        hallucinate=0.0,  # data parallelism is checked without the random extras
        batch_size=10,
        supervised_only=True,
        device="cpu",  # gloo, on any machine
        max_steps=4,
        eval_every=2,
    )


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path, monkeypatch):
    """Each rank takes half of every batch and DDP averages the gradients: with
    the sampling noise switched off the weights equal single-process training."""
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    from reinflect.vae import distributions

    monkeypatch.setattr(distributions, "gumbel_softmax", distributions.gumbel_softmax)
    monkeypatch.setattr(distributions.DiagGaussian, "rsample", distributions.DiagGaussian.rsample)
    _without_noise()
    single = _ddp_trainer(tmp_path, "single")
    single.fit()
    ddp = _ddp_trainer(tmp_path, "unused").model  # the same initial weights
    assert not torch.allclose(ddp.gru_hidden.weight, single.model.gru_hidden.weight, atol=1e-4)
    ddp.load_state_dict(torch.load(tmp_path / "ddp.pt"))
    _same_weights(single.model, ddp, atol=1e-5)
    assert json.loads((tmp_path / "ddp" / "summary.json").read_text())["processes"] == 2


def test_more_ranks_than_gpus_is_a_clear_error(monkeypatch):
    """Two ranks on one GPU would fail inside NCCL ("Duplicate GPU detected")."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ReinflectError, match="--nproc-per-node 1 or less, or --device cpu"):
        train.Distributed(torch.device("cuda"))


@pytest.mark.slow
def test_torchrun_trains_data_parallel_from_the_cli(tmp_path):
    train_f, dev_f = _files(tmp_path / "data")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        str(_free_port()),
        "-m",
        "reinflect",
        "train",
        "--train",
        str(train_f),
        "--dev",
        str(dev_f),
        "--out",
        str(tmp_path / "run"),
        "--max-steps",
        "2",
        "--eval-every",
        "2",
        "--batch-size",
        "8",
        "--lang",
        "none",
        "--no-progress",
        "--device",
        "cpu",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 2
    assert res.stdout.count("best dev accuracy") == 1  # only rank 0 reports


@pytest.mark.slow
def test_sigterm_to_the_cli_saves_and_exits_143_then_resumes(tmp_path):
    train_f, dev_f = _files(tmp_path / "data")
    out = tmp_path / "run"
    base = [sys.executable, "-m", "reinflect", "train", "--train", str(train_f)]
    base += ["--dev", str(dev_f), "--out", str(out), "--batch-size", "4", "--lang", "none"]
    base += ["--eval-every", "2", "--no-progress", "--supervised-only"]
    proc = subprocess.Popen(
        [*base, "--max-steps", "100000"], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    while not (out / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "interrupted at step" in err and "Traceback" not in err
    step = checkpoint.load(out / "last.pt")["step"]
    res = subprocess.run(
        [*base, "--max-steps", str(step + 2), "--resume"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert checkpoint.load(out / "last.pt")["step"] == step + 2


def test_resume_refuses_a_checkpoint_of_another_setup(tmp_path):
    _trainer(tmp_path, "r", max_steps=2, eval_every=2).fit()
    with pytest.raises(
        ReinflectError, match="was trained with unlabeled words; resume with --semi-supervised"
    ):
        _trainer(tmp_path, "r", supervised_only=True).resume()
    bigger = config.MorphModelConfig(**(SMALL | {"latent": 32}))
    with pytest.raises(ReinflectError, match=r"other model options \(latent=16, not 32\)"):
        _trainer(tmp_path, "r", model_cfg=bigger).resume()
    # dropout changes no weight's shape: only the saved options tell
    other = config.MorphModelConfig(**(SMALL | {"dropout": 0.4, "word_dropout": 0.0}))
    with pytest.raises(
        ReinflectError,
        match=r"r/last\.pt: was trained with other model options \(word_dropout=0\.4, not 0\.0; "
        r"dropout=0\.0, not 0\.4\); resume with the same options",
    ):
        _trainer(tmp_path, "r", model_cfg=other).resume()
    _trainer(tmp_path, "r").resume()  # the same options resume


def test_budget_lr_schedule_decays_over_max_steps(tmp_path):
    t = _trainer(tmp_path, "lr", lr_schedule="budget", max_steps=8, eval_every=1)
    t.fit()
    lrs = [r["lr"] for r in train.MetricsLog.read(t.out / "metrics.jsonl")]
    # steps 1-5 start at progress <= 0.5; then 1e-3 * (1 - s/8) / 0.5 for s = 5, 6, 7
    lr = sizing.LR_SMALL  # the toy's few pairs
    assert lrs == pytest.approx([lr] * 5 + [lr * 0.75, lr * 0.5, lr * 0.25])
    with pytest.raises(ReinflectError, match="--lr-schedule must be one of constant, budget"):
        config.MorphTrainConfig(lr_schedule="cosine")


@pytest.mark.parametrize(
    "budget,stop,steps",
    [
        ({"max_steps": 6}, "early_stopping", 4),  # patience runs out before the budget
        ({"max_steps": 4}, "max_steps", 4),  # ... at the last step: the budget ended it
        ({"max_steps": None, "max_minutes": 60}, "time_budget", 4),  # ... as time runs out
    ],
)
def test_the_stop_reason_names_the_budget_when_both_end_at_one_check(
    tmp_path, monkeypatch, budget, stop, steps
):
    t = _trainer(tmp_path, "stop", eval_every=2, patience=1, **budget)
    checks = iter([50.0, 40.0, 30.0])  # the first check improves, the others do not
    monkeypatch.setattr(
        t, "dev_accuracy", lambda model=None: next(checks) if model is None else 0.0
    )
    monkeypatch.setattr(t, "tune_rerank", lambda: None)
    if "max_minutes" in budget:
        calls = itertools.count(1)  # out of time at the fourth update
        monkeypatch.setattr(train.Budget, "exhausted", lambda self: next(calls) >= 4)
    summary = t.fit()
    assert (summary["stop"], summary["steps"]) == (stop, steps)


def test_a_covered_dev_file_is_refused_with_its_line(tmp_path):
    train_f, _ = _files(tmp_path / "data")
    dev_f = write_rows(
        tmp_path / "data" / "toy-dev2", [("walk", "V;PST", "walked"), ("play", "V;PST", "")]
    )
    with pytest.raises(ReinflectError, match=r"toy-dev2:2: no target form in a dev file"):
        morph_train.Trainer(
            train_path=train_f, dev_path=dev_f, out_dir=tmp_path / "o", progress=False
        )


def test_training_mixes_hallucinated_pairs_reproducibly(tmp_path):
    def trainer(hallucinate=1.0):
        return _trainer(tmp_path, "h", hallucinate=hallucinate, rerank_grid=())

    t = trainer()
    n = len(TOY)
    assert t.n_hallucinated == n and len(t.lab_stream.lengths) == 2 * n
    idx = list(range(2 * n))
    batch = t._labeled_batch(idx)
    again = trainer()._labeled_batch(idx)
    assert all((batch[k] == again[k]).all() for k in batch)  # same seed and step
    words = [
        (t.vocab.decode(s.tolist()), t.vocab.decode(g.tolist()))
        for s, g in zip(batch["source"], batch["target"], strict=True)
    ]
    assert words[:n] == [(s, g) for s, _, g in TOY]
    bases = t._hallucination_bases(idx[n:])
    changed = 0
    for (s, g), b in zip(words[n:], bases, strict=True):
        src, tgt = TOY[b][0], TOY[b][2]
        assert len(s) == len(src) and len(g) == len(tgt)
        slots = t.halluc.slots[b]
        assert slots
        keep_s = {a for a, _ in slots}
        assert all(s[k] == src[k] for k in range(len(src)) if k not in keep_s)
        assert all(s[a] == g[b2] for a, b2 in slots)
        changed += s != src
    assert changed > n // 2
    assert (batch["tags"][n:] == batch["tags"][bases]).all()
    t.step = 1  # another step draws other stems
    assert not (t._labeled_batch(idx)["source"] == batch["source"]).all()
    assert t.fit()["hallucinated_pairs"] == n
    assert trainer(0.0).n_hallucinated == 0


def test_sizes_choose_copy_hallucination_and_checks_where_not_given(tmp_path, caplog):
    """reinflect.morph.sizing: on a small set (the toy's pairs) copying, source
    attention and hallucination come on and dev checks come every few passes;
    what was chosen is logged; what was given is kept."""
    with caplog.at_level("INFO", logger="reinflect"):
        t = _trainer(tmp_path, "few", eval_every=None, hallucinate=None)
    n = len(t.train_ex)
    assert t.mcfg.copy and t.mcfg.source_attention and t.model.cfg.copy
    assert t.tcfg.hallucinate == sizing.HALLUCINATE
    assert t.tcfg.eval_every == max(sizing.CHECK_MIN, math.ceil(sizing.CHECK_PASSES * n * 3 / 8))
    assert t.mcfg.source_attention_style == sizing.STYLE_SMALL == "monotonic"
    shown = f"copy from the source: on, monotonic source attention ({n} training pairs, at most"
    assert f"by size: {shown}" in caplog.text
    assert "by size: hallucinate: 2 per pair" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="reinflect"):
        given = config.MorphModelConfig(**SMALL, copy=False)
        t = _trainer(tmp_path, "given", model_cfg=given, hallucinate=0.0)
    assert not t.mcfg.copy and not t.mcfg.source_attention and t.tcfg.hallucinate == 0.0
    assert "by size: copy" not in caplog.text and "by size: hallucinate" not in caplog.text
    assert "--hallucinate 0: on sets this small hallucination is the default" in caplog.text


def test_large_sets_keep_copy_and_hallucination_off():
    m, t, notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 12_800)
    assert (m.copy, m.source_attention, t.hallucinate) == (False, False, 0.0)
    assert t.unlabeled_source == "none" and "rebuilt from: z and y alone" in notes[3]
    assert (
        t.supervised_only is False
        and "unlabeled words: on (12800 training pairs, over 2000)" in notes
    )
    assert t.eval_every == sizing.CHECK_MAX and len(notes) == 8
    assert {n: getattr(m, n) for n in config.MODEL_SIZES} == sizing.PAPER
    assert "model sizes: char_embedding 300, encoder_hidden 256" in notes[1]
    m, t, _ = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 100)
    assert (m.copy, m.source_attention, t.hallucinate) == (True, True, 2.0)
    assert m.source_attention_style == "monotonic" and t.unlabeled_source == "stem"
    assert {n: getattr(m, n) for n in config.MODEL_SIZES} == sizing.SMALL_SIZES
    # Source attention the user asked for keeps its style.
    asked = config.MorphModelConfig(**config.source_attention("input"))
    assert sizing.choose(asked, config.MorphTrainConfig(), 100)[0].source_attention_style == "input"
    assert t.eval_every == sizing.CHECK_MIN  # 100 pairs x 3 / 64 x 4 passes < 50
    m, t, _ = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 1_000)
    assert t.eval_every == math.ceil(4 * 3000 / 64) and m.copy  # copy, at the paper's sizes
    assert {n: getattr(m, n) for n in config.MODEL_SIZES} == sizing.PAPER


def test_the_learning_rate_is_chosen_by_size_and_what_was_given_is_kept():
    """reinflect.morph.sizing: LR_SMALL at or below SMALL pairs, LR above, noted;
    a rate the user gave is kept and not noted."""
    for pairs, lr in ((100, sizing.LR_SMALL), (sizing.SMALL, sizing.LR_SMALL), (12_800, sizing.LR)):
        _, t, notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), pairs)
        assert t.lr == lr and f"learning rate: {lr:g} ({pairs} training pairs" in " ".join(notes)
    assert sizing.LR_SMALL > sizing.LR
    given = config.MorphTrainConfig(lr=5e-4)
    _, t, notes = sizing.choose(config.MorphModelConfig(), given, 100)
    assert t.lr == 5e-4 and not any("learning rate" in n for n in notes)


def test_the_unlabeled_source_is_chosen_by_size_and_what_was_given_is_kept():
    """reinflect.morph.sizing: stems at or below STEM_MAX pairs where the decoder
    attends over a source; none above, without attention, or without unlabeled
    words (and then nothing is said of it); a source given is kept."""
    small, big = sizing.STEM_MAX, sizing.STEM_MAX + 1
    _, t, notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), small)
    assert t.unlabeled_source == "stem"
    assert f"unlabeled words rebuilt from: the word with a random ending cut off ({small}" in (
        "\n".join(notes)
    )
    _, t, _ = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), big)
    assert t.unlabeled_source == "none"
    no_copy = config.MorphModelConfig(copy=False)  # nothing to copy a stem with
    assert sizing.choose(no_copy, config.MorphTrainConfig(), 100)[1].unlabeled_source == "none"
    sup = config.MorphTrainConfig(supervised_only=True)
    _, t, notes = sizing.choose(config.MorphModelConfig(), sup, 100)
    assert t.unlabeled_source == "none" and not any("unlabeled" in n for n in notes)
    given = config.MorphTrainConfig(unlabeled_source="none")
    _, t, notes = sizing.choose(config.MorphModelConfig(), given, 100)
    assert t.unlabeled_source == "none" and not any("rebuilt" in n for n in notes)
    given = config.MorphTrainConfig(unlabeled_source="stem")
    assert sizing.choose(config.MorphModelConfig(), given, big)[1].unlabeled_source == "stem"


def test_the_unlabeled_words_are_off_between_stem_max_and_small_unless_asked_for():
    """reinflect.morph.sizing: semi-supervised at or below STEM_MAX pairs and
    above SMALL, supervised-only between; what the user gave (the flag either
    way, an unlabeled source) is kept, and what was chosen is said."""
    chosen = {}
    for pairs in (100, sizing.STEM_MAX, sizing.STEM_MAX + 1, 1_000, sizing.SMALL, 12_800):
        _, t, notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), pairs)
        chosen[pairs] = t.supervised_only
        said = next(n for n in notes if n.startswith("unlabeled words: "))
        assert said.startswith(f"unlabeled words: {'off' if t.supervised_only else 'on'} ({pairs}")
    assert chosen == {100: False, 500: False, 501: True, 1_000: True, 2_000: True, 12_800: False}
    notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 1_000)[2]
    assert "unlabeled words: off (1000 training pairs, over 500 and at most 2000)" in notes
    for given in (True, False):
        train = config.MorphTrainConfig(supervised_only=given)
        for pairs in (100, 1_000, 12_800):
            _, t, notes = sizing.choose(config.MorphModelConfig(), train, pairs)
            assert t.supervised_only is given
            assert not any(n.startswith("unlabeled words: ") for n in notes)
    stems = config.MorphTrainConfig(unlabeled_source="stem")
    assert sizing.choose(config.MorphModelConfig(), stems, 1_000)[1].supervised_only is False


def test_the_trainer_drops_the_unlabeled_words_where_the_size_turns_them_off(tmp_path, monkeypatch):
    """A run left to the size reads the unlabeled words, then drops them where
    the size says supervised-only; a word list the user gives keeps them."""
    monkeypatch.setattr(sizing, "STEM_MAX", 1)  # the toy's few pairs count as "medium"
    t = _trainer(tmp_path, "sized", supervised_only=None)
    assert t.tcfg.supervised_only is True and t.unl_ds is None and t.unl_stream is None
    assert t.unlabeled_words == [] and t.fit()["unlabeled_words"] == 0
    alone = _trainer(tmp_path, "alone", supervised_only=True)  # the same run as asked for
    alone.fit()
    _same_weights(t.model, alone.model)
    words = tmp_path / "words.txt"
    words.write_text("walked\ntalking\n")
    t = _trainer(tmp_path, "listed", supervised_only=None, unlabeled_path=words)
    assert (
        t.tcfg.supervised_only is False and t.unl_ds is not None and "walked" in t.unlabeled_words
    )
    monkeypatch.setattr(sizing, "STEM_MAX", 10_000)  # now "low": the words stay
    t = _trainer(tmp_path, "low", supervised_only=None)
    assert t.tcfg.supervised_only is False and t.unl_stream is not None


def test_model_sizes_given_are_kept_and_the_rest_chosen_by_size():
    given = config.MorphModelConfig(latent=32)
    m, _, notes = sizing.choose(given, config.MorphTrainConfig(), 100)
    assert m.latent == 32 and m.encoder_hidden == sizing.SMALL_SIZES["encoder_hidden"]
    assert "latent" not in next(n for n in notes if n.startswith("model sizes"))
    m, _, notes = sizing.choose(config.MorphModelConfig(**SMALL), config.MorphTrainConfig(), 100)
    assert m.latent == SMALL["latent"] and not any(n.startswith("model sizes") for n in notes)


def test_a_model_with_unchosen_sizes_is_refused_and_sizes_must_be_positive():
    with pytest.raises(ReinflectError, match=r"model sizes not chosen \(char_embedding, "):
        morph_model.MSVED(vocab_size=9, tag_sizes=[3], cfg=config.MorphModelConfig())
    with pytest.raises(
        ReinflectError, match="--encoder-hidden must be a whole number of at least 1, got 0"
    ):
        config.MorphModelConfig(encoder_hidden=0)


def test_hallucinate_must_not_be_negative():
    with pytest.raises(ReinflectError, match="--hallucinate must be >= 0"):
        config.MorphTrainConfig(hallucinate=-1)


def test_dev_words_with_unseen_characters_are_warned_of_once_per_run(tmp_path, caplog):
    """Every dev check and the reranking's beam decode dev again; a word with a
    character training never saw is named once, not at every check."""
    train_f, _ = _files(tmp_path / "data")
    dev_f = write_rows(tmp_path / "data" / "odd-dev", [("plæys", "V;PST", "plæyed"), *TOY[:3]])
    t = morph_train.Trainer(
        train_path=train_f,
        dev_path=dev_f,
        out_dir=tmp_path / "run",
        model_cfg=config.MorphModelConfig(**SMALL, copy=False),
        train_cfg=config.MorphTrainConfig(
            batch_size=8, max_steps=6, eval_every=2, wordfreq_words=0, hallucinate=0.0
        ),
        progress=False,
    )
    with caplog.at_level("WARNING", logger="reinflect"):
        t.fit()
    assert caplog.text.count("not seen in training") == 1, caplog.text
    assert "characters 'æ' of 'plæys' were not seen in training" in caplog.text


def test_resume_after_a_kill_drops_the_later_log_rows_and_the_cut_off_temp_files(tmp_path):
    t = _trainer(tmp_path, "killed", max_steps=2, eval_every=2)
    t.fit()
    run = tmp_path / "killed"
    # what a SIGKILL after step 2's checkpoint leaves: rows past it, a half row, a temp file
    with (run / "metrics.jsonl").open("a") as f:
        f.write(json.dumps({"step": 3, "dev_accuracy": 0.0}) + '\n{"step": 4, "dev_acc')
    (run / ".last.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    again = _trainer(tmp_path, "killed", max_steps=4, eval_every=2)
    again.resume()
    again.fit()
    assert [r["step"] for r in train.MetricsLog.read(run / "metrics.jsonl")] == [2, 4]
    assert not list(run.glob(".*.tmp"))


_KILLED_MID_WRITE = """
import os, signal, sys
from reinflect import checkpoint, config
from reinflect.morph import train as morph_train

train_f, dev_f, out = sys.argv[1:4]
real_fsync, writes = os.fsync, []

def fsync_then_die(fd):
    real_fsync(fd)
    if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".last.pt."):
        writes.append(fd)
    if len(writes) == 2:  # last.pt's second temp file, written but not yet moved
        os.kill(os.getpid(), signal.SIGKILL)

checkpoint.os.fsync = fsync_then_die
morph_train.Trainer(
    train_path=train_f, dev_path=dev_f, out_dir=out,
    model_cfg=config.MorphModelConfig(**SIZES),
    train_cfg=config.MorphTrainConfig(**CFG),
    progress=False,
).fit()
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_sigkill_mid_write_keeps_the_last_checkpoint_and_resume_is_exact(tmp_path):
    cfg = dict(batch_size=8, unlabeled_batch=8, max_steps=8, eval_every=3, wordfreq_words=0)
    cfg |= dict(rerank_grid=())  # no reranking writes after training: only checkpoints
    full = _trainer(tmp_path, "full", rerank_grid=())
    full.fit()
    train_f, dev_f = _files(tmp_path / "data")
    script = _KILLED_MID_WRITE.replace("SIZES", repr(SMALL)).replace("CFG", repr(cfg))
    killed = subprocess.run(
        [sys.executable, "-c", script, str(train_f), str(dev_f), str(tmp_path / "part")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = tmp_path / "part"
    assert list(run.glob(".last.pt.*.tmp")), "the kill came before the temp file was moved"
    assert checkpoint.load(run / "last.pt")["step"] == 3  # the previous one, whole
    again = _trainer(tmp_path, "part", rerank_grid=())
    again.resume()
    assert again.fit()["steps"] == 8
    _same_weights(full.model, again.model)
    assert not list(run.glob(".*.tmp"))
