"""matplotlib for the pictures (the ``plot`` extra), imported on first use."""

from pathlib import Path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend; an ImportError saying how to
    install it when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("pictures need matplotlib: pip install 'reinflect[plot]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path, **savefig) -> None:
    """Write ``fig`` to ``path`` (its format by the suffix) as every run file
    is written (:func:`reinflect.checkpoint.atomic_write`: a full disk names
    the file), then close it."""
    from reinflect import checkpoint

    fmt = Path(path).suffix.lstrip(".")
    try:
        checkpoint.atomic_write(path, lambda f: fig.savefig(f, format=fmt, **savefig))
    finally:
        pyplot().close(fig)
