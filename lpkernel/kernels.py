"""Exact shift-invariant kernels that lpkernel's random features approximate (DESIGN §2).

These closed forms are the reference the approximations are tested against,
and what :mod:`lpkernel.metrics` and :class:`lpkernel.Nystroem` evaluate.

Bandwidths follow scikit-learn: ``rbf`` is exp(-gamma ||x - y||^2), ``laplacian``
is exp(-gamma ||x - y||_1). ``matern`` uses length scale ``1 / sqrt(2 gamma)``,
so that it tends to ``rbf`` with the same ``gamma`` as nu grows.
"""

from itertools import combinations
from math import comb, sqrt

import numpy as np
from scipy.spatial.distance import cdist

#: Kernels whose random features lpkernel can draw.
SHIFT_INVARIANT_KERNELS = ("rbf", "laplacian", "matern", "sparse_rbf")
#: The Matérn smoothness values with closed forms.
MATERN_NUS = (0.5, 1.5, 2.5)


def matern_kernel(X, Y=None, gamma=1.0, nu=1.5):
    """Matérn kernel with length scale ``1 / sqrt(2 * gamma)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples_X, n_features)
    Y : ndarray of shape (n_samples_Y, n_features), default=None (use X)
    gamma : float > 0
    nu : {0.5, 1.5, 2.5}

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.kernels import matern_kernel
    >>> float(matern_kernel(np.zeros((1, 2)), np.ones((1, 2)), gamma=0.5, nu=0.5)[0, 0])  # exp(-sqrt(2))
    0.2431167344342142
    """
    Y = X if Y is None else Y
    a = cdist(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)) * sqrt(2.0 * gamma)
    if nu == 0.5:
        return np.exp(-a)
    if nu == 1.5:
        s = sqrt(3.0) * a
        return (1.0 + s) * np.exp(-s)
    if nu == 2.5:
        s = sqrt(5.0) * a
        return (1.0 + s + s * s / 3.0) * np.exp(-s)
    raise ValueError(f"matern nu must be one of {MATERN_NUS}, got {nu!r}.")


def sparse_rbf_kernel(X, Y=None, gamma=1.0, n_nonzero=5):
    """Sparse Gaussian kernel of May et al.: the mean over all k-subsets F of the features
    of exp(-gamma * sum_{i in F} (x_i - y_i)^2).

    This is the kernel whose random features have ``n_nonzero`` = k Gaussian
    entries at random coordinates and zeros elsewhere. It enumerates all
    C(d, k) subsets, so it is meant for small d (tests, checks).

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.kernels import sparse_rbf_kernel
    >>> float(sparse_rbf_kernel(np.zeros((1, 2)), np.ones((1, 2)), gamma=1.0, n_nonzero=1)[0, 0])
    0.36787944117144233
    """
    Y = X if Y is None else Y
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    d = X.shape[1]
    k = min(n_nonzero, d)
    if comb(d, k) > 100_000:
        raise ValueError(f"sparse_rbf_kernel enumerates C({d}, {k}) subsets; too many.")
    sq = (X[:, None, :] - Y[None, :, :]) ** 2
    total = np.zeros((X.shape[0], Y.shape[0]))
    for subset in combinations(range(d), k):
        total += np.exp(-gamma * sq[:, :, subset].sum(axis=2))
    return total / comb(d, k)


def shift_invariant_kernel(X, Y=None, *, kernel="rbf", gamma=1.0, kernel_params=None):
    """Evaluate one of :data:`SHIFT_INVARIANT_KERNELS` exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.kernels import shift_invariant_kernel
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> shift_invariant_kernel(X, kernel="laplacian", gamma=0.5).round(4)
    array([[1.    , 0.3679],
           [0.3679, 1.    ]])
    """
    from sklearn.metrics.pairwise import laplacian_kernel, rbf_kernel

    params = dict(kernel_params or {})
    if kernel == "rbf":
        return rbf_kernel(X, Y, gamma=gamma)
    if kernel == "laplacian":
        return laplacian_kernel(X, Y, gamma=gamma)
    if kernel == "matern":
        return matern_kernel(X, Y, gamma=gamma, nu=params.get("nu", 1.5))
    if kernel == "sparse_rbf":
        return sparse_rbf_kernel(X, Y, gamma=gamma, n_nonzero=params.get("n_nonzero", 5))
    raise ValueError(f"kernel must be one of {SHIFT_INVARIANT_KERNELS}, got {kernel!r}.")
