"""Probabilistic classification metrics of the kernel acoustic-model work (DESIGN §5).

May et al. (2019) select models by the entropy-regularized log loss
ERP = CE + ENT, the cross-entropy plus the mean entropy of the predicted
distributions: it penalizes a model that is confidently wrong and, through the
entropy, one that hedges on everything; it tracked the final error rate better
than the cross-entropy alone.
"""

import numpy as np
from scipy.special import entr
from sklearn.utils import check_array, column_or_1d


def _check_proba(y_proba):
    """Probabilities as an (n, n_classes) float64 array; a 1-D input is P(positive class)."""
    y_proba = check_array(y_proba, ensure_2d=False, dtype=[np.float64, np.float32],
                          input_name="y_proba")
    tol = np.sqrt(np.finfo(y_proba.dtype).eps)
    y_proba = y_proba.astype(np.float64)
    if y_proba.ndim == 1:
        y_proba = y_proba[:, None]
    if y_proba.ndim != 2:
        raise ValueError(f"y_proba must be 1-D or 2-D, got shape {y_proba.shape}.")
    if y_proba.size and (y_proba.min() < 0 or y_proba.max() > 1):
        raise ValueError("y_proba must hold probabilities in [0, 1], got values in "
                         f"[{y_proba.min():g}, {y_proba.max():g}].")
    if y_proba.shape[1] == 1:
        y_proba = np.hstack([1.0 - y_proba, y_proba])
    sums = y_proba.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=tol):
        worst = sums[np.argmax(np.abs(sums - 1.0))]
        raise ValueError(f"Each row of y_proba must sum to 1 (one has sum {worst:.6g}).")
    return y_proba


def _weights(sample_weight, n):
    if sample_weight is None:
        return None
    weights = column_or_1d(check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                       input_name="sample_weight"))
    if weights.shape[0] != n:
        raise ValueError(f"sample_weight has {weights.shape[0]} entries for {n} samples.")
    if weights.min(initial=0.0) < 0 or weights.sum() <= 0:
        raise ValueError("sample_weight must be non-negative with a positive sum.")
    return weights


def _true_class_proba(y_true, y_proba, labels):
    """P(y_i | x_i) for every row, columns of y_proba ordered as the sorted labels."""
    y_true = column_or_1d(y_true)
    if y_true.shape[0] != y_proba.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} samples, y_proba {y_proba.shape[0]}.")
    classes = np.unique(y_true) if labels is None else np.unique(np.asarray(labels))
    if classes.shape[0] != y_proba.shape[1]:
        raise ValueError(
            f"y_proba has {y_proba.shape[1]} columns but there are {classes.shape[0]} classes "
            f"({classes.tolist()[:10]}); pass labels= with every class, in column order."
        )
    index = np.searchsorted(classes, y_true)
    index = np.minimum(index, classes.shape[0] - 1)
    unknown = classes[index] != y_true
    if unknown.any():
        raise ValueError(f"y_true holds labels not in labels: {np.unique(y_true[unknown])[:10]}.")
    return y_proba[np.arange(y_true.shape[0]), index]


def cross_entropy(y_true, y_proba, *, labels=None, sample_weight=None):
    """Cross-entropy CE = -mean_i log p(y_i | x_i), in nats.

    The same quantity as :func:`sklearn.metrics.log_loss`: probabilities are
    clipped below at the float64 machine epsilon, so a zero probability on the
    true class costs about 36 instead of infinity.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in sorted label order (as
        ``predict_proba`` gives them); a 1-D array is the probability of the
        larger of two labels.
    labels : array-like, default=None
        All classes, when y_true does not show every one of them.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    loss : float

    See Also
    --------
    entropy_regularized_log_loss : CE plus the mean prediction entropy.

    Examples
    --------
    >>> from lpkernel.metrics import cross_entropy
    >>> round(cross_entropy([0, 1], [[0.5, 0.5], [0.2, 0.8]]), 6)  # (ln 2 + ln 1.25) / 2
    0.458145
    """
    y_proba = _check_proba(y_proba)
    p = _true_class_proba(y_true, y_proba, labels)
    losses = -np.log(np.maximum(p, np.finfo(np.float64).eps))
    return float(np.average(losses, weights=_weights(sample_weight, p.shape[0])))


def prediction_entropy(y_proba, *, sample_weight=None):
    """Mean entropy ENT = mean_i (-sum_c p_ic log p_ic) of the predicted distributions, in nats.

    0 log 0 counts as 0. ENT is 0 for one-hot predictions and log(n_classes)
    for uniform ones.

    Parameters
    ----------
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        As in :func:`cross_entropy`.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    entropy : float

    Examples
    --------
    >>> from lpkernel.metrics import prediction_entropy
    >>> round(prediction_entropy([[0.5, 0.5], [1.0, 0.0]]), 6)  # (ln 2 + 0) / 2
    0.346574
    """
    y_proba = _check_proba(y_proba)
    per_row = entr(y_proba).sum(axis=1)
    return float(np.average(per_row, weights=_weights(sample_weight, per_row.shape[0])))


def entropy_regularized_log_loss(y_true, y_proba, *, labels=None, sample_weight=None):
    """Entropy-regularized log loss ERP = CE + ENT (May et al. 2019).

    Parameters
    ----------
    y_true, y_proba, labels, sample_weight
        As in :func:`cross_entropy`.

    Returns
    -------
    loss : float

    References
    ----------
    .. [1] A. May, A. B. Garakani, Z. Lu, D. Guo, K. Liu, A. Bellet, L. Fan, M. Collins,
       D. Hsu, B. Kingsbury, M. Picheny and F. Sha, "Kernel Approximation Methods for
       Speech Recognition", JMLR 20(59), 2019, Section 5.3 (entropy regularized
       perplexity).

    Examples
    --------
    >>> from lpkernel.metrics import entropy_regularized_log_loss
    >>> round(entropy_regularized_log_loss([0, 1], [[0.5, 0.5], [0.2, 0.8]]), 6)
    1.05492
    """
    return (cross_entropy(y_true, y_proba, labels=labels, sample_weight=sample_weight)
            + prediction_entropy(y_proba, sample_weight=sample_weight))


def _prediction_entropy_score(y_true, y_proba, sample_weight=None):
    """prediction_entropy with the (y_true, y_proba) signature that make_scorer calls."""
    return prediction_entropy(y_proba, sample_weight=sample_weight)

