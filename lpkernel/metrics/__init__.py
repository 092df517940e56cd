"""Approximation-quality metrics: judge a kernel approximation before training a model.

Spectral: :func:`spectral_approximation_error` gives (Delta1, Delta2) of
Zhang et al. (2019), :func:`delta` their maximum, and
:func:`kernel_approximation_error` the Frobenius or spectral norm of K - Z Z^T.
Embeddings: :func:`eigenspace_overlap_score` (May et al. 2019) and
:func:`eigenspace_instability` (Leszczynski et al. 2020). Classifiers:
:func:`cross_entropy`, :func:`prediction_entropy` and
:func:`entropy_regularized_log_loss` (May et al. 2019).

Scorers follow scikit-learn's convention that greater is better, so they
return negated errors: :func:`make_spectral_scorer` for feature maps (and
Pipelines holding one), and ``cross_entropy_scorer``,
``prediction_entropy_scorer``, ``entropy_regularized_log_loss_scorer`` for
classifiers with ``predict_proba``. The formulas are in DESIGN §5.
"""

from ._classification import cross_entropy, entropy_regularized_log_loss, prediction_entropy
from ._eigenspace import eigenspace_instability, eigenspace_overlap_score
from ._scorers import (
    cross_entropy_scorer,
    entropy_regularized_log_loss_scorer,
    make_spectral_scorer,
    prediction_entropy_scorer,
)
from ._spectral import delta, kernel_approximation_error, spectral_approximation_error

__all__ = [
    "cross_entropy",
    "cross_entropy_scorer",
    "delta",
    "eigenspace_instability",
    "eigenspace_overlap_score",
    "entropy_regularized_log_loss",
    "entropy_regularized_log_loss_scorer",
    "kernel_approximation_error",
    "make_spectral_scorer",
    "prediction_entropy",
    "prediction_entropy_scorer",
    "spectral_approximation_error",
]
