"""Scorers for model selection: the spectral error of a fitted feature map, and the
probabilistic losses of a classifier (scikit-learn convention: greater is better)."""

from sklearn.metrics import make_scorer

from .._validation import check_int, check_option
from ._classification import (
    _prediction_entropy_score,
    cross_entropy,
    entropy_regularized_log_loss,
)
from ._inputs import check_lam
from ._spectral import spectral_approximation_error

SPECTRAL_SCORES = ("delta1", "delta2", "delta", "inv_one_minus_delta1")

#: -CE of ``predict_proba`` (greater is better), for GridSearchCV(scoring=...).
cross_entropy_scorer = make_scorer(cross_entropy, greater_is_better=False,
                                   response_method="predict_proba")
#: -ENT of ``predict_proba``.
prediction_entropy_scorer = make_scorer(_prediction_entropy_score, greater_is_better=False,
                                        response_method="predict_proba")
#: -ERP = -(CE + ENT) of ``predict_proba``.
entropy_regularized_log_loss_scorer = make_scorer(
    entropy_regularized_log_loss, greater_is_better=False, response_method="predict_proba")


class _SpectralScorer:
    """Callable ``(estimator, X, y=None) -> -error``; build it with :func:`make_spectral_scorer`."""

    def __init__(self, lam, *, n_samples=1000, which="delta1", kernel=None, gamma=None,
                 kernel_params=None, random_state=0):
        self.lam = check_lam(lam)
        self.n_samples = check_int(n_samples, "n_samples", low=1, allow_none=True)
        self.which = check_option(which, "which", SPECTRAL_SCORES)
        self.kernel = kernel
        self.gamma = gamma
        self.kernel_params = kernel_params
        self.random_state = random_state

    def __call__(self, estimator, X, y=None):
        delta1, delta2 = spectral_approximation_error(
            X, estimator, kernel=self.kernel, gamma=self.gamma, kernel_params=self.kernel_params,
            lam=self.lam, n_samples=self.n_samples, random_state=self.random_state)
        error = {"delta1": delta1, "delta2": delta2, "delta": max(delta1, delta2),
                 "inv_one_minus_delta1": 1.0 / (1.0 - delta1)}[self.which]
        return -error

    def __repr__(self):
        return (f"make_spectral_scorer(lam={self.lam!r}, n_samples={self.n_samples!r}, "
                f"which={self.which!r})")


def make_spectral_scorer(lam, *, n_samples=1000, which="delta1", kernel=None, gamma=None,
                         kernel_params=None, random_state=0):
    """A scorer that rates a fitted feature map by its spectral error on the scoring data.

    The scorer is called as ``scorer(estimator, X, y=None)``, as
    GridSearchCV, cross_validate and lpkernel's memory-budget search call
    scorers. ``estimator`` is a fitted feature map or a fitted Pipeline that
    contains one (with or without a learner after it; the features are what
    the learner would see). The error is computed on X (the held-out fold)
    with :func:`spectral_approximation_error`; y is ignored.

    Sign convention: scikit-learn maximizes scores, so the scorer returns the
    **negated** error. ``which`` picks it: ``"delta1"`` -> -Delta1,
    ``"delta2"`` -> -Delta2, ``"delta"`` -> -max(Delta1, Delta2),
    ``"inv_one_minus_delta1"`` -> -1 / (1 - Delta1), the quantity that Zhang
    et al. found to track generalization best. In every case a higher score
    means a better approximation.

    Parameters
    ----------
    lam : float > 0
        The ridge parameter of (K + lam I); see :func:`spectral_approximation_error`.
    n_samples : int or None, default=1000
        Rows of X the error is computed on (cost ~ n^3 / 3 + Lanczos work).
        None: all rows.
    which : {"delta1", "delta2", "delta", "inv_one_minus_delta1"}, default="delta1"
    kernel, gamma, kernel_params : default=None
        The exact kernel; None takes it from the feature map.
    random_state : int, RandomState instance or None, default=0
        Seeds the row sample. A fixed seed scores every candidate on the same rows.

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.metrics import make_spectral_scorer
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> search = GridSearchCV(RandomFourierFeatures(gamma=0.2, random_state=0),
    ...                       {"n_components": [16, 256]},
    ...                       scoring=make_spectral_scorer(lam=1.0, n_samples=100), cv=3)
    >>> search.fit(X).best_params_
    {'n_components': 256}
    """
    return _SpectralScorer(lam, n_samples=n_samples, which=which, kernel=kernel, gamma=gamma,
                          kernel_params=kernel_params, random_state=random_state)
