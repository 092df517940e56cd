"""lpkernel: kernel approximations that fit a memory budget.

Random Fourier features stored in real low precision (LP-RFF), Nyström
features, supervised random-feature selection, and metrics that say how good
an approximation is before a model is trained.

Submodules and estimators load on first use (SPEC 1 style lazy loading), so
``import lpkernel`` stays cheap; ``from lpkernel import RandomFourierFeatures``
imports scikit-learn and the estimator.
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY_ATTRIBUTES = {
    "RandomFourierFeatures": "lpkernel.random_features",
    "PackedFeatures": "lpkernel.packed",
    "Nystroem": "lpkernel.nystroem",
    "Quantizer": "lpkernel.quantization",
    "RandomFeatureSelector": "lpkernel.selection",
}
_SUBMODULES = ("datasets", "kernels", "linear", "memory", "metrics", "model_selection",
               "nystroem", "packed", "quantization", "random_features", "selection")

__all__ = sorted([*_LAZY_ATTRIBUTES, *_SUBMODULES, "__version__"])


def __getattr__(name):
    if name in _LAZY_ATTRIBUTES:
        value = getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"lpkernel.{name}")
    else:
        raise AttributeError(f"module 'lpkernel' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__
