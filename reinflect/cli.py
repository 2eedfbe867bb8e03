"""The ``reinflect`` command line (typer). Commands are thin: they parse
options, call the library, and print. Heavy imports happen inside commands so
``reinflect --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reinflect import __version__
from reinflect.errors import ReinflectError

app = typer.Typer(
    help="Morphological reinflection with a semi-supervised sequence VAE (MSVED).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
mnist_app = typer.Typer(
    help="The MNIST sanity model (M1 VAE, M2 semi-supervised) on the shared VAE core.",
    no_args_is_help=True,
)
app.add_typer(mnist_app, name="mnist")

_state = {"debug": False}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _guard(fn, *args, **kwargs):
    """Run a library call; a ReinflectError becomes one line on stderr and exit 1."""
    try:
        return fn(*args, **kwargs)
    except ReinflectError as e:
        if _state["debug"]:
            raise
        raise _fail(str(e)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reinflect {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


class Model(str, Enum):
    m1 = "m1"
    m2 = "m2"


class Estimator(str, Enum):
    enumerate = "enumerate"
    gumbel = "gumbel"
    reinforce = "reinforce"


@mnist_app.command("train")
def mnist_train(
    out: Annotated[Path, typer.Option(help="Run directory (model.pt, metrics, pictures).")] = Path(
        "runs/mnist"
    ),
    model: Annotated[Model, typer.Option(help="m1: VAE; m2: semi-supervised.")] = Model.m2,
    labels: Annotated[int, typer.Option(help="Labeled images for M2 (equal per class).")] = 100,
    latent: Annotated[int, typer.Option(help="Dimensions of z (2 draws the manifold).")] = 50,
    hidden: Annotated[str, typer.Option(help="Hidden layer sizes, comma-separated.")] = "500",
    epochs: Annotated[int, typer.Option(help="Passes over the training images.")] = 50,
    estimator: Annotated[
        Estimator, typer.Option(help="How M2 handles the unlabeled y.")
    ] = Estimator.enumerate,
    alpha: Annotated[
        float, typer.Option(help="Weight of the classifier term (M2; Kingma: 0.1 N).")
    ] = 5000.0,
    kl_weight: Annotated[
        float, typer.Option(help="Constant weight on KL(z) (1: the ELBO; >1 pushes class into y).")
    ] = 1.0,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    batch_size: Annotated[int, typer.Option(help="Images per update.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (labeled subset and training).")] = 0,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with the data files (else REINFLECT_DATA_MIRROR).")
    ] = None,
    plots: Annotated[bool, typer.Option(help="Save PNG pictures.")] = True,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Train M1 or M2; the best validation checkpoint is tested and pictured."""
    from reinflect import config
    from reinflect.mnist import run
    from reinflect.vae import schedules

    try:
        sizes = tuple(int(h) for h in hidden.split(","))
    except ValueError:
        raise _fail(f"--hidden must be comma-separated integers, got {hidden!r}", 2) from None
    cfg = _guard(
        config.MnistConfig,
        model=model.value,
        labels=labels,
        latent=latent,
        hidden=sizes,
        epochs=epochs,
        estimator=estimator.value,
        alpha=alpha,
        lr=lr,
        kl=schedules.KLSchedule(kind="constant", cap=kl_weight),
        batch_size=batch_size,
        seed=seed,
        max_minutes=minutes,
        max_steps=max_steps,
        train_size=train_size,
    )
    summary = _guard(run.train_model, cfg, out, data_dir=data_dir, progress=progress, plots=plots)
    shown = {k: v for k, v in summary.items() if k.startswith("test_")}
    typer.echo(f"saved {out / 'model.pt'}; " + ", ".join(f"{k}={v:.4f}" for k, v in shown.items()))


@mnist_app.command("evaluate")
def mnist_evaluate(
    run_dir: Annotated[Path, typer.Argument(help="Run directory or model.pt.")] = Path(
        "runs/mnist"
    ),
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    iwae_k: Annotated[int, typer.Option(help="M1: importance samples for log p(x).")] = 500,
    data_dir: Annotated[Path | None, typer.Option(help="Folder with the data files.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Test error (M2) or ELBO and IWAE -log p(x) in nats (M1) of a trained run."""
    from reinflect.mnist import run

    if split not in ("valid", "test"):
        raise _fail(f"--split must be valid or test, got {split!r}", 2)
    result = _guard(run.evaluate, run_dir, data_dir=data_dir, split=split, iwae_k=iwae_k)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            typer.echo(f"{k}\t{v:.4f}" if isinstance(v, float) else f"{k}\t{v}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
