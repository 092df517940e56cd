"""Closed-form ridge regression and classification on packed low-precision features (DESIGN §7)."""

import numbers
import warnings

import numpy as np
from scipy import linalg
from scipy.linalg import blas
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .._validation import check_int
from ._base import (
    check_features,
    check_y_given,
    dense_rows,
    features_dtype,
    iter_slices,
    linear_scores,
)

#: The Gram matrix is m x m; a chunk of rows may use up to 1/16 of its bytes (and at
#: least 8 MiB), so the chunk stays a small part of the O(m^2) peak while BLAS gets
#: blocks tall enough to run at full speed.
_CHUNK_FRACTION_OF_GRAM = 16


def _check_alpha(alpha, n_targets):
    """``alpha`` as an array of shape (n_targets,), each >= 0 (scikit-learn's convention)."""
    values = np.asarray(alpha, dtype=np.float64).reshape(-1)
    if values.size == 0 or (values.size != 1 and values.size != n_targets):
        raise ValueError(
            f"alpha must be a float or an array of shape ({n_targets},), got shape "
            f"{np.shape(alpha)}."
        )
    if isinstance(alpha, bool) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}.")
    return np.broadcast_to(values, (n_targets,))


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Real):
        sample_weight = np.full(n_samples, float(sample_weight))
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                input_name="sample_weight")
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},)."
        )
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative.")
    if sample_weight.sum() <= 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs weight > 0.")
    return sample_weight


def ridge_normal_equations(X, Y, *, sample_weight=None, fit_intercept=True, dtype=None,
                           chunk_size=None):
    """Accumulate the centered, weighted normal equations of ridge from row chunks.

    With S = diag(sample_weight) and, when ``fit_intercept``, Z and Y centered by
    their S-weighted column means, returns the upper triangle (in Fortran order)
    of G = Zᵀ S Z and B = Zᵀ S Y. Each chunk is dequantized (PackedFeatures) or
    densified, shifted by the first chunk's mean (so the one-pass centering
    loses no digits to cancellation), scaled by sqrt(S), and added to G by a
    BLAS rank-k update (syrk) in place: the float n x m matrix is never built,
    and memory is O(m^2 + chunk).

    Parameters
    ----------
    X : PackedFeatures, ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    dtype : float dtype, default=X's
        The precision of G (float32 halves its m^2 memory).
    chunk_size : int, default=None
        Rows per chunk; by default max(8 MiB, m^2 * itemsize / 16) of floats.

    Returns
    -------
    gram : ndarray of shape (n_features, n_features)
        ``gram.T`` (Fortran-contiguous) holds G in its upper triangle; the other
        triangle of ``gram.T`` is not written.
    cross : ndarray of float64 of shape (n_features, n_targets)
    x_mean : ndarray of float64 of shape (n_features,)
    y_mean : ndarray of float64 of shape (n_targets,)
    """
    dtype = features_dtype(X) if dtype is None else np.dtype(dtype)
    n, m = X.shape
    n_targets = Y.shape[1]
    gram = np.zeros((m, m), dtype=dtype)
    syrk = blas.get_blas_funcs("syrk", dtype=dtype)
    cross = np.zeros((m, n_targets))
    column_sum = np.zeros(m)
    target_sum = np.zeros(n_targets)
    weight_sum = 0.0
    x_shift = np.zeros(m, dtype=dtype)
    y_shift = np.zeros(n_targets)
    if chunk_size is None:
        chunk_bytes = max(8 * 2**20, m * m * dtype.itemsize // _CHUNK_FRACTION_OF_GRAM)
        chunk_size = max(1, chunk_bytes // (m * dtype.itemsize))
    for index, rows in enumerate(iter_slices(n, chunk_size)):
        Z = dense_rows(X, rows, dtype, copy=True)
        T = np.array(Y[rows], dtype=np.float64)
        w = np.ones(Z.shape[0]) if sample_weight is None else sample_weight[rows]
        if fit_intercept:
            if index == 0:
                x_shift = Z.mean(axis=0)
                y_shift = T.mean(axis=0)
            Z -= x_shift
            T -= y_shift
            column_sum += w @ Z
            target_sum += w @ T
        weight_sum += w.sum()
        if sample_weight is not None:
            root = np.sqrt(w)
            Z *= root.astype(dtype)[:, None]
            T *= root[:, None]
        cross += Z.T @ T.astype(dtype)
        syrk(1.0, Z.T, beta=1.0, c=gram.T, trans=0, lower=0, overwrite_c=1)
    x_mean = np.zeros(m)
    y_mean = np.zeros(n_targets)
    if fit_intercept:
        # centering by the weighted mean: G -= s sᵀ / W and B -= s tᵀ / W (s, t the shifted sums)
        syr = blas.get_blas_funcs("syr", dtype=dtype)
        syr(-1.0 / weight_sum, column_sum.astype(dtype), lower=0, a=gram.T, overwrite_a=1)
        cross -= np.outer(column_sum, target_sum) / weight_sum
        x_mean = x_shift + column_sum / weight_sum
        y_mean = y_shift + target_sum / weight_sum
    return gram, cross, x_mean, y_mean


def ridge_solve(gram, cross, alpha):
    """Solve (G + alpha_k I) w_k = b_k for each target k, overwriting ``gram``.

    ``gram`` is as returned by :func:`ridge_normal_equations` (upper triangle
    of ``gram.T``). Returns the coefficients (n_targets, n_features) in
    ``gram``'s dtype, or None when G + alpha I is not numerically positive
    definite (then ``gram`` is spoiled and the caller rebuilds it).
    """
    dtype = gram.dtype
    m = gram.shape[0]
    coef = np.empty((cross.shape[1], m), dtype=dtype)
    distinct = np.unique(alpha)
    for position, value in enumerate(distinct):
        targets = np.flatnonzero(alpha == value)
        # the last distinct alpha may factor in place; earlier ones work on a copy
        system = gram if position == len(distinct) - 1 else gram.copy()
        system.flat[:: m + 1] += dtype.type(value)
        try:
            factor = linalg.cho_factor(system.T, lower=False, overwrite_a=True,
                                       check_finite=False)
        except linalg.LinAlgError:
            return None
        coef[targets] = linalg.cho_solve(factor, cross[:, targets].astype(dtype),
                                         overwrite_b=True, check_finite=False).T
    return coef


def ridge_least_squares(gram, cross, alpha):
    """Fallback for a singular system: minimum-norm solution of (G + alpha I) w = b."""
    upper = np.triu(gram.T)
    full = upper + np.triu(upper, 1).T
    coef = np.empty((cross.shape[1], gram.shape[0]), dtype=gram.dtype)
    for k in range(cross.shape[1]):
        system = full.astype(np.float64)
        system.flat[:: gram.shape[0] + 1] += alpha[k]
        coef[k] = linalg.lstsq(system, cross[:, k], check_finite=False)[0]
    return coef


class _PackedRidgeBase(BaseEstimator):
    """Shared fit: chunked normal equations, Cholesky solve, chunked prediction."""

    def _validate_params(self):
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be a bool, got {self.fit_intercept!r}.")
        check_int(self.chunk_size, "chunk_size", low=1, allow_none=True)

    def _fit_targets(self, X, Y, sample_weight):
        """Fit coef_ (n_targets, m) and intercept_ (n_targets,) from X and 2-D targets Y."""
        dtype = features_dtype(X)
        alpha = _check_alpha(self.alpha, Y.shape[1])
        sample_weight = _check_sample_weight(sample_weight, X.shape[0])

        def accumulate():
            return ridge_normal_equations(X, Y, sample_weight=sample_weight,
                                          fit_intercept=self.fit_intercept, dtype=dtype,
                                          chunk_size=self.chunk_size)

        gram, cross, x_mean, y_mean = accumulate()
        # alpha = 0 is ordinary least squares: Cholesky of a rank-deficient ZᵀZ need not
        # fail but returns noise, so take the minimum-norm solution (as scikit-learn's svd)
        coef = ridge_solve(gram, cross, alpha) if np.all(alpha > 0) else \
            ridge_least_squares(gram, cross, alpha)
        if coef is None:
            warnings.warn("The ridge system is singular (alpha too small for the data); "
                          "using the minimum-norm least-squares solution.",
                          linalg.LinAlgWarning, stacklevel=3)
            del gram
            gram, cross, x_mean, y_mean = accumulate()
            coef = ridge_least_squares(gram, cross, alpha)
        if not self.fit_intercept:  # scikit-learn's convention: a plain 0.0
            return coef, 0.0
        intercept = (y_mean - coef.astype(np.float64) @ x_mean).astype(dtype)
        return coef, intercept

    def _scores(self, X):
        check_is_fitted(self)
        self._validate_params()
        X = check_features(self, X, reset=False)
        dtype = features_dtype(X)
        coef = np.atleast_2d(self.coef_)
        return linear_scores(X, coef.T, np.atleast_1d(self.intercept_).astype(dtype), dtype,
                             self.chunk_size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LowPrecisionRidge(MultiOutputMixin, RegressorMixin, _PackedRidgeBase):
    """Ridge regression solved in closed form from packed low-precision features.

    Minimizes ``||y - Zw - b||^2_S + alpha ||w||^2`` (S = diag(sample_weight)),
    exactly the objective of :class:`sklearn.linear_model.Ridge`, with Z the
    dequantized features. ZᵀSZ and ZᵀSy are accumulated chunk by chunk
    (dequantizing each chunk with the Numba kernel of
    :class:`~lpkernel.PackedFeatures`) and the m x m system is solved by
    Cholesky, so peak memory is O(m^2 + chunk): the float n x m matrix that
    scikit-learn needs is never built (DESIGN §7). Prediction on packed
    features is chunked too.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
        L2 penalty, with scikit-learn's meaning (not scaled by n).
    fit_intercept : bool, default=True
        Center Z and y by their weighted means and fit an unpenalized intercept.
    chunk_size : int, default=None
        Rows dequantized per chunk. By default as many as fit
        max(8 MiB, 1/16 of the m x m Gram matrix) in fit, 8 MiB in predict.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        In the features' dtype (``PackedFeatures.dtype``, or X's float dtype);
        1-D for a single target, as in scikit-learn.
    intercept_ : float or ndarray of shape (n_targets,)
        A float for 1-D y or ``fit_intercept=False``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.Ridge : the same model on a float matrix in memory.
    LowPrecisionRidgeClassifier : the classifier built on it.

    References
    ----------
    .. [1] J. Zhang, A. May, T. Dao and C. Ré, "Low-Precision Random Fourier Features
       for Memory-Constrained Kernel Approximation", AISTATS 2019, arXiv:1811.00155.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.linear import LowPrecisionRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=300)
    >>> P = RandomFourierFeatures(256, gamma=0.2, n_bits=4, output="packed",
    ...                           random_state=0).fit_transform(X)
    >>> model = LowPrecisionRidge(alpha=0.1).fit(P, y)
    >>> reference = Ridge(alpha=0.1).fit(P.to_dense(), y)
    >>> bool(np.allclose(model.predict(P), reference.predict(P.to_dense())))
    True
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, chunk_size=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.chunk_size = chunk_size

    def fit(self, X, y, sample_weight=None):
        """Fit ridge regression from features X (packed, dense or CSR).

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LowPrecisionRidge
        """
        self._validate_params()
        check_y_given(self, y)
        X = check_features(self, X, reset=True)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        check_consistent_length(X, y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        coef, intercept = self._fit_targets(X, Y, sample_weight)
        # scikit-learn's shapes: one target gives a 1-D coef_, 1-D y a float intercept_
        self.coef_ = coef[0] if coef.shape[0] == 1 else coef
        self.intercept_ = float(intercept[0]) if y.ndim == 1 and self.fit_intercept else intercept
        return self

    def predict(self, X):
        """Predict targets, dequantizing PackedFeatures chunk by chunk.

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        scores = self._scores(X)
        return scores.ravel() if np.ndim(self.coef_) == 1 else scores


class LowPrecisionRidgeClassifier(ClassifierMixin, _PackedRidgeBase):
    """Ridge classifier solved in closed form from packed low-precision features.

    As :class:`sklearn.linear_model.RidgeClassifier`: the labels become
    {-1, +1} indicator targets (one column for two classes, one per class
    otherwise), a :class:`LowPrecisionRidge` is fitted to them, and the class
    with the largest score wins. Training and prediction read
    :class:`~lpkernel.PackedFeatures` chunk by chunk, in O(m^2 + chunk) memory.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 penalty, with scikit-learn's meaning.
    fit_intercept : bool, default=True
    class_weight : dict or "balanced", default=None
        Weights multiplied into ``sample_weight``, as in scikit-learn.
    chunk_size : int, default=None
        Rows dequantized per chunk (see :class:`LowPrecisionRidge`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,), or 0.0 without intercept
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.RidgeClassifier : the same model on a float matrix in memory.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.linear import LowPrecisionRidgeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (np.hypot(X[:, 0], X[:, 1]) > 1.2).astype(int)
    >>> model = make_pipeline(
    ...     RandomFourierFeatures(512, gamma=1.0, n_bits=4, output="packed", random_state=0),
    ...     LowPrecisionRidgeClassifier(alpha=0.01))
    >>> bool(model.fit(X, y).score(X, y) > 0.9)
    True
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, class_weight=None, chunk_size=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.chunk_size = chunk_size

    def fit(self, X, y, sample_weight=None):
        """Fit the ridge classifier from features X (packed, dense or CSR).

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LowPrecisionRidgeClassifier
        """
        self._validate_params()
        check_y_given(self, y)
        X = check_features(self, X, reset=True)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        if np.ndim(self.alpha) != 0:
            raise ValueError(f"alpha must be a float for a classifier, got {self.alpha!r}.")
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
        Y = binarizer.fit_transform(y).astype(np.float64)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                "LowPrecisionRidgeClassifier needs samples of at least 2 classes; the data "
                f"contain only one class: {binarizer.classes_[0]!r}."
            )
        self.classes_ = binarizer.classes_
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, y)
            sample_weight = weights if sample_weight is None else (
                _check_sample_weight(sample_weight, X.shape[0]) * weights)
        coef, self.intercept_ = self._fit_targets(X, Y, sample_weight)
        self.coef_ = coef[0] if coef.shape[0] == 1 else coef
        return self

    def decision_function(self, X):
        """Class scores: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        scores = self._scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels (dequantizing PackedFeatures chunk by chunk).

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]
