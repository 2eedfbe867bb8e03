"""reinflect: morphological reinflection with a semi-supervised sequence VAE.

The Python API (:mod:`reinflect.api`)::

    import reinflect
    m = reinflect.load("runs/english")
    m.inflect("plays", "PST")             # -> "played"

Importing the package has no side effects and pulls in nothing heavy: the API
is imported on first use, and torch only when a model needs it.
"""

__version__ = "0.1.0"
__all__ = ["Model", "load", "train"]


def __getattr__(name: str):
    if name in __all__:
        from reinflect import api

        return getattr(api, name)
    raise AttributeError(f"module 'reinflect' has no attribute {name!r}")
