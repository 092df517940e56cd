"""Eigenspace overlap (May et al. 2019) and eigenspace instability (Leszczynski et al. 2020)
of two embeddings of the same n items (DESIGN §5)."""

import numpy as np
from scipy import linalg
from sklearn.utils import check_array

from .._validation import check_real


def _check_embedding(X, name, n_rows=None):
    X = check_array(X, dtype=np.float64, input_name=name)
    if n_rows is not None and X.shape[0] != n_rows:
        raise ValueError(f"{name} has {X.shape[0]} rows but X has {n_rows}: the rows must be "
                         "the same items.")
    return X


def _column_space(X):
    """Orthonormal left singular vectors of X for its nonzero singular values, and those values.

    Singular values below max(n, d) * eps * s_max are treated as zero, so a
    rank-deficient X gets a basis of its actual column space.
    """
    U, s, _ = linalg.svd(X, full_matrices=False, check_finite=False)
    if s.size == 0 or s[0] == 0:
        return U[:, :0], s[:0]
    rank = int(np.sum(s > max(X.shape) * np.finfo(np.float64).eps * s[0]))
    return U[:, :rank], s[:rank]


def eigenspace_overlap_score(X, X_tilde):
    """Eigenspace overlap EOS = ||U^T U~||_F^2 / max(d, d~) of two embeddings of the same rows.

    U and U~ are the left singular vectors of X (n x d) and X~ (n x d~): EOS
    measures how much of one column space lies in the other. It is 1 when
    they span the same space (for d = d~), 0 when they are orthogonal, and it
    ignores any invertible change of coordinates X -> X R (rotations,
    rescalings). May et al. found that it predicts the downstream quality of
    compressed word embeddings better than reconstruction errors.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
    X_tilde : array-like of shape (n_samples, d_tilde)

    Returns
    -------
    score : float in [0, 1]

    Notes
    -----
    The definition takes X and X~ of full column rank. A rank-deficient input
    is handled through its numerical column space: d is then its rank (so
    EOS(X, X) = 1 still).

    References
    ----------
    .. [1] A. May, J. Zhang, T. Dao and C. Ré, "On the Downstream Performance of
       Compressed Word Embeddings", NeurIPS 2019, arXiv:1909.01264, Section 3.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.metrics import eigenspace_overlap_score
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> rotation = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))[0]
    >>> round(eigenspace_overlap_score(X, X @ rotation), 6)
    1.0
    >>> round(eigenspace_overlap_score(X, X[:, :2]), 6)  # 2 of 5 dimensions shared
    0.4
    """
    X = _check_embedding(X, "X")
    X_tilde = _check_embedding(X_tilde, "X_tilde", X.shape[0])
    U, _ = _column_space(X)
    U_tilde, _ = _column_space(X_tilde)
    dimension = max(U.shape[1], U_tilde.shape[1])
    if dimension == 0:
        raise ValueError("X and X_tilde are both zero: they have no column space to compare.")
    overlap = U.T @ U_tilde
    return float(np.sum(overlap * overlap) / dimension)


def eigenspace_instability(X, X_tilde, E, E_tilde, alpha=3):
    """Eigenspace instability EIS of two embeddings, weighted by anchor embeddings.

    EIS = tr[(U U^T - U~ U~^T)^2 Sigma] / tr(Sigma), with
    Sigma = (E E^T)^alpha + (E~ E~^T)^alpha. U and U~ are the left singular
    vectors of X and X~; E and E~ (the anchors, typically high-dimensional
    full-precision embeddings of the same items) decide which directions
    count. EIS is 0 when X and X~ span the same space and lies in [0, 1].
    Leszczynski et al. show it predicts how many downstream predictions
    change when X is replaced by X~.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
    X_tilde : array-like of shape (n_samples, d_tilde)
    E : array-like of shape (n_samples, k)
    E_tilde : array-like of shape (n_samples, k_tilde)
    alpha : float >= 0, default=3
        The power that tilts Sigma toward the anchors' top directions.

    Returns
    -------
    instability : float in [0, 1]

    Notes
    -----
    No n x n matrix is formed. With E = Q_E S V^T, (E E^T)^alpha =
    Q_E S^(2 alpha) Q_E^T, and since (P - P~)^2 = P + P~ - P P~ - P~ P for
    the projections P = U U^T and P~ = U~ U~^T, each anchor direction q with
    weight w adds w (||U^T q||^2 + ||U~^T q||^2 - 2 (U^T q)^T (U^T U~)(U~^T q)).
    The cost is O(n (d + d~ + k + k~)^2).

    References
    ----------
    .. [1] M. Leszczynski, A. May, J. Zhang, S. Wu, C. R. Aberger and C. Ré,
       "Understanding the Downstream Instability of Word Embeddings", MLSys 2020,
       arXiv:2003.04983, Section 3.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.metrics import eigenspace_instability
    >>> rng = np.random.default_rng(0)
    >>> X, E = rng.normal(size=(100, 5)), rng.normal(size=(100, 20))
    >>> round(eigenspace_instability(X, 2.0 * X, E, E), 12)
    0.0
    >>> bool(0 < eigenspace_instability(X, rng.normal(size=(100, 5)), E, E) < 1)
    True
    """
    X = _check_embedding(X, "X")
    n = X.shape[0]
    X_tilde = _check_embedding(X_tilde, "X_tilde", n)
    E = _check_embedding(E, "E", n)
    E_tilde = _check_embedding(E_tilde, "E_tilde", n)
    alpha = check_real(alpha, "alpha", low=0.0, low_inclusive=True)
    U, _ = _column_space(X)
    U_tilde, _ = _column_space(X_tilde)
    anchors = [_column_space(E), _column_space(E_tilde)]
    top = max((s[0] for _, s in anchors if s.size), default=0.0)
    if top == 0.0:
        raise ValueError("E and E_tilde are both zero: Sigma would be zero.")
    overlap = U.T @ U_tilde
    numerator = denominator = 0.0
    for Q, s in anchors:
        # scaling both anchors by the same constant leaves the ratio unchanged
        weights = (s / top) ** (2.0 * alpha)
        A, A_tilde = U.T @ Q, U_tilde.T @ Q
        per_direction = (np.sum(A * A, axis=0) + np.sum(A_tilde * A_tilde, axis=0)
                         - 2.0 * np.sum(A * (overlap @ A_tilde), axis=0))
        numerator += float(weights @ per_direction)
        denominator += float(weights.sum())
    return numerator / denominator
