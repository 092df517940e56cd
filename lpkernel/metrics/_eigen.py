"""Extreme eigenvalues of symmetric operators: block Lanczos with a checked residual.

The spectral metrics need one eigenvalue at one end of a spectrum, never a full
decomposition. :func:`top_eigenvalue` builds an orthonormal block Krylov basis
with full reorthogonalization, takes Rayleigh–Ritz values from the projected
matrix, and stops when the residual ``||A y - theta y||`` of the top Ritz pair is
below ``tol * |theta|``. A Ritz value never exceeds the largest eigenvalue, and
some eigenvalue lies within the residual norm of it, so the value returned is
within ``tol * |theta|`` of the top of the spectrum (unless the random start block
had no component along the top eigenvector, which has probability zero).
"""

import warnings

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

#: Basis vectors kept before a restart. Spectra whose top is a dense continuum (Nystroem's
#: K~ <= K puts Delta2 at the edge of one) need several hundred.
MAX_BASIS = 2400


def _orthonormalize(block, basis, rng, width):
    """``width`` orthonormal columns spanning ``block`` minus its part in ``basis``.

    Gram–Schmidt against ``basis`` is done twice ("twice is enough"), then a QR;
    columns that vanish (the Krylov space is exhausted in that direction) are
    replaced by random vectors orthogonal to everything, so the basis keeps
    growing and Rayleigh–Ritz stays exact on it. ``width`` is at most
    n - basis.shape[1].
    """
    tiny = np.finfo(np.float64).tiny
    for _ in range(2):
        if basis.shape[1]:
            block -= basis @ (basis.T @ block)
    q, r = linalg.qr(block, mode="economic", check_finite=False)
    diagonal = np.abs(np.diag(r))
    live = diagonal > 1e-10 * max(diagonal.max(initial=0.0), tiny)
    keep = q[:, live][:, :width]
    missing = width - keep.shape[1]
    if missing:
        fresh = rng.standard_normal((block.shape[0], missing))
        full = np.hstack([basis, keep])
        for _ in range(2):
            fresh -= full @ (full.T @ fresh)
        fresh, _ = linalg.qr(fresh, mode="economic", check_finite=False)
        keep = np.hstack([keep, fresh])
    return keep


def _top_ritz_pairs(projected, b):
    """The b largest eigenpairs of the projected matrix, which is block tridiagonal.

    A block Krylov basis makes Q^T A Q zero beyond the first b subdiagonals (up to
    rounding, with full reorthogonalization), so a banded eigensolver for a few
    selected pairs costs O(k^2 b) instead of O(k^3) for a dense one.
    """
    k = projected.shape[0]
    band = np.zeros((b + 1, k))
    for i in range(b + 1):
        band[i, : k - i] = np.diagonal(projected, -i)
    count = min(b, k)
    return linalg.eig_banded(band, lower=True, select="i", select_range=(k - count, k - 1),
                             check_finite=False)


def top_eigenvalue(matmat, n, *, block_size=16, tol=1e-10, atol=0.0, max_dim=None,
                   max_restarts=20, random_state=0):
    """Largest eigenvalue of a symmetric n x n operator given by its product with blocks.

    Parameters
    ----------
    matmat : callable
        ``matmat(V)`` returns ``A @ V`` for an (n, k) float64 array V.
    n : int
    block_size : int, default=16
        Columns per Krylov block: products with blocks run as matrix-matrix
        (BLAS 3) work, and a block separates clustered top eigenvalues faster.
    tol, atol : float
        Stop when the top Ritz pair's residual norm is at most
        ``max(tol * |theta|, atol)``.
    max_dim : int, default=None
        Basis size before a restart from the current top Ritz vectors
        (default ``min(n, MAX_BASIS)``). A basis of all n columns gives the exact answer.
    max_restarts : int, default=20
    random_state : int
        Seeds the start block.

    Returns
    -------
    theta : float
        The top Ritz value.
    residual : float
        ``||A y - theta y||`` for its unit Ritz vector y, computed explicitly.
    """
    rng = np.random.default_rng(random_state)
    b = max(1, min(block_size, n))
    max_dim = max(min(n, 2 * b), min(n, max_dim or MAX_BASIS))
    start = rng.standard_normal((n, b))
    theta, residual = 0.0, np.inf
    for _ in range(max_restarts + 1):
        basis = np.empty((n, max_dim), order="F")
        projected = np.zeros((max_dim, max_dim))
        block = _orthonormalize(start, basis[:, :0], rng, b)
        k = 0
        while True:
            width = block.shape[1]
            image = np.asarray(matmat(block), dtype=np.float64)
            basis[:, k : k + width] = block
            coupling = basis[:, : k + width].T @ image
            projected[: k + width, k : k + width] = coupling
            projected[k : k + width, : k + width] = coupling.T
            k += width
            values, vectors = _top_ritz_pairs(projected[:k, :k], b)
            theta, ritz = values[-1], vectors[:, -1]
            if k == n:  # the basis spans the whole space: Rayleigh–Ritz is exact
                break
            # A Q = Q H + R E^T, so the Ritz residual is R times the last block of s.
            remainder = image - basis[:, :k] @ coupling
            estimate = np.linalg.norm(remainder @ ritz[k - width :])
            if estimate <= max(tol * abs(theta), atol) or k >= max_dim:
                break
            block = _orthonormalize(remainder, basis[:, :k], rng, min(b, max_dim - k))
        vector = basis[:, :k] @ ritz
        product = np.asarray(matmat(vector[:, None]), dtype=np.float64)[:, 0]
        residual = float(np.linalg.norm(product - theta * vector))
        if residual <= 10 * max(tol * abs(theta), atol) or k == n:
            return float(theta), residual
        # restart from the current top Ritz vectors, which carry what was learned
        start = basis[:, :k] @ vectors[:, -b:]
    warnings.warn(
        f"Block Lanczos did not reach the residual tolerance: the top eigenvalue {theta:.6g} "
        f"has residual {residual:.2e} (asked {max(tol * abs(theta), atol):.2e}).",
        ConvergenceWarning,
        stacklevel=3,
    )
    return float(theta), residual
