"""matplotlib for the pictures (the ``plot`` extra), imported on first use."""


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
