"""Extreme eigenvalues of symmetric operators: block Lanczos with a checked residual.

The spectral metrics need one eigenvalue at one end of a spectrum, never a full
decomposition. :class:`BlockLanczos` builds an orthonormal block Krylov basis
with full reorthogonalization, takes Rayleigh–Ritz values from the projected
matrix, and stops when the error bound of the top Ritz value theta is below
``tol * |theta|``. A Ritz value never exceeds the largest eigenvalue lambda_1
(Cauchy interlacing), and with r = ||A y - theta y|| for its unit Ritz vector y:

* some eigenvalue lies within r of theta (the residual bound), and
* lambda_1 - theta <= r^2 / (theta - lambda_2) (Kato–Temple), evaluated with
  lambda_2 estimated by the second Ritz value plus its residual.

The residual bound alone would ask for about a third more steps than the
eigenvalue needs: the error of theta falls like r^2. The residual of the
answer is recomputed explicitly (from the stored products with the basis) before
it is accepted.
(The random start block could in principle miss the top eigenvector; that has
probability zero.)
"""

import warnings

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from ._linalg import product

#: Basis vectors kept before a restart. Spectra whose top is a dense continuum (Nystroem's
#: K~ <= K puts Delta2 at the edge of one) need several hundred.
MAX_BASIS = 2400


def _orthonormalize(block, basis, rng, width, passes=2):
    """``width`` orthonormal columns spanning ``block`` minus its part in ``basis``.

    Gram–Schmidt against ``basis`` is done ``passes`` times (twice is enough: a
    caller that has already made one classical pass asks for one more), then a QR;
    columns that vanish (the Krylov space is exhausted in that direction) are
    replaced by random vectors orthogonal to everything, so the basis keeps
    growing and Rayleigh–Ritz stays exact on it. ``width`` is at most
    n - basis.shape[1].
    """
    tiny = np.finfo(np.float64).tiny
    for _ in range(passes):
        if basis.shape[1]:
            block -= product(basis, product(basis, block, True))
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


def _top_ritz_pairs(projected, count):
    """The ``count`` largest eigenpairs of the projected (symmetric, k x k) matrix.

    A subset eigensolver (LAPACK's MRRR, ``dsyevr``) on the dense projected matrix:
    for the two pairs the stopping rule needs it is about three times faster than a
    banded solver asked for a whole block of pairs (measured at k = 224, b = 16).
    """
    k = projected.shape[0]
    count = min(count, k)
    return linalg.eigh(projected, subset_by_index=[k - count, k - 1], driver="evr",
                       check_finite=False)


class BlockLanczos:
    """Block Lanczos for the largest eigenvalue of one symmetric operator, driven step by step.

    The caller applies the operator: :meth:`pending` gives the block to multiply
    (None once finished) and :meth:`advance` takes the product. That lets
    :func:`top_eigenvalues` run several problems in lockstep and share work
    between their products.

    Parameters
    ----------
    n : int
    block_size : int
        Columns per Krylov block: products with blocks run as matrix-matrix
        (BLAS 3) work, and a block separates clustered top eigenvalues faster.
    tol, atol : float
        Converged when the error bound of the top Ritz value (see the module
        docstring) is at most ``max(tol * |theta|, atol)``.
    noise : float
        Relative rounding noise of the products: a residual at or below
        ``noise * max(1, |theta|)`` is accepted, as it cannot get smaller.
    max_dim : int or None
        Basis size before a restart from the current top Ritz vectors
        (default ``min(n, MAX_BASIS)``). A basis of all n columns gives the exact
        answer.
    max_restarts : int
        Restarts before giving up (``converged`` stays False).
    start : ndarray of shape (n, k) or None
        Start block (its first ``block_size`` columns); random when None.
    random_state : int
        Seeds the random start block and the fill-in vectors.

    Attributes
    ----------
    theta : float
        The top Ritz value so far.
    residual : float
        ``||A y - theta y||`` of its unit Ritz vector, computed explicitly at the end.
    converged : bool
    """

    def __init__(self, n, *, block_size=16, tol=1e-10, atol=0.0, noise=0.0, max_dim=None,
                 max_restarts=20, start=None, random_state=0):
        self.n = n
        self.rng = np.random.default_rng(random_state)
        self.b = max(1, min(block_size, n))
        self.max_dim = max(min(n, 2 * self.b), min(n, max_dim or MAX_BASIS))
        self.tol, self.atol, self.noise = tol, atol, noise
        self.restarts_left = max_restarts
        self.theta, self.residual, self.converged = 0.0, np.inf, False
        if start is None:
            start = self.rng.standard_normal((n, self.b))
        self._begin(np.array(start[:, : self.b], dtype=np.float64))

    def _begin(self, start):
        capacity = min(self.max_dim, 32 * self.b)  # grown on demand, up to max_dim
        self.basis = np.empty((self.n, capacity), order="F")
        self.images = np.empty((self.n, capacity), order="F")  # A times the basis
        self.projected = np.zeros((capacity, capacity))
        self.k, self.gap = 0, 0.0
        self.block = _orthonormalize(start, self.basis[:, :0], self.rng, self.b)

    def _grow(self, capacity):
        k = self.k
        for name in ("basis", "images"):
            grown = np.empty((self.n, capacity), order="F")
            grown[:, :k] = getattr(self, name)[:, :k]
            setattr(self, name, grown)
        projected = np.zeros((capacity, capacity))
        projected[:k, :k] = self.projected[:k, :k]
        self.projected = projected

    def _tolerance(self):
        return max(self.tol * abs(self.theta), self.atol)

    def pending(self):
        """The (n, w) block whose product with the operator :meth:`advance` needs, or None."""
        return self.block

    def advance(self, image):
        """Take ``image`` = operator @ :meth:`pending` and take one step."""
        image = np.asarray(image, dtype=np.float64)
        block, k, width = self.block, self.k, self.block.shape[1]
        if k + width > self.basis.shape[1]:
            self._grow(min(self.max_dim, 2 * self.basis.shape[1]))
        basis = self.basis
        basis[:, k : k + width] = block
        self.images[:, k : k + width] = image
        coupling = product(basis[:, : k + width], image, True)
        self.projected[: k + width, k : k + width] = coupling
        self.projected[k : k + width, : k + width] = coupling.T
        k = self.k = k + width
        # two pairs for the stopping rule; a block of them when a restart may need them
        values, vectors = _top_ritz_pairs(self.projected[:k, :k],
                                          self.b if self.restarts_left else 2)
        self.theta, self.ritz_vectors = values[-1], vectors
        done = k == self.n  # the basis spans the whole space: Rayleigh–Ritz is exact
        if not done:
            # A Q = Q H + R E^T, so the Ritz residuals are R times the last block of s.
            remainder = image - product(basis[:, :k], coupling)
            estimates = np.linalg.norm(remainder @ vectors[k - width :, -2:], axis=0)
            self.gap = values[-1] - values[-2] - estimates[0] if values.size > 1 else 0.0
            done = self._accurate(estimates[-1]) or k >= self.max_dim
        if done:
            self._finish(vectors[:, -1])
        else:
            # the remainder has had one classical Gram–Schmidt pass against the whole basis
            # (image minus its coupling): one more makes two
            self.block = _orthonormalize(remainder, basis[:, :k], self.rng,
                                         min(self.b, self.max_dim - k), passes=1)

    def _accurate(self, residual, slack=1.0):
        """The residual bound or the Kato–Temple bound is within the tolerance."""
        tolerance = slack * self._tolerance()
        floor = max(tolerance, slack * self.noise * max(1.0, abs(self.theta)))
        return residual <= floor or (self.gap > 0 and residual**2 / self.gap <= tolerance)

    def _finish(self, ritz):
        # the residual of the Ritz vector y = Q s, explicitly: A y = (A Q) s from the stored
        # products, so loss of orthogonality in Q cannot hide in it
        k = self.k
        vector = product(self.basis[:, :k], ritz[:, None])[:, 0]
        image = product(self.images[:, :k], ritz[:, None])[:, 0]
        self.residual = float(np.linalg.norm(image - self.theta * vector))
        if self._accurate(self.residual, slack=10.0) or self.k == self.n:
            self.converged, self.block = True, None
        elif self.restarts_left > 0:
            self.restarts_left -= 1
            # restart from the current top Ritz vectors, which carry what was learned
            self._begin(self.basis[:, : self.k] @ self.ritz_vectors[:, -self.b :])
        else:
            self.block = None


def top_eigenvalues(matmat, solvers):
    """Run :class:`BlockLanczos` solvers in lockstep.

    ``matmat(blocks)`` gets one block per solver (None for a finished one) and
    returns the products in the same order.
    """
    while True:
        blocks = [solver.pending() for solver in solvers]
        if all(block is None for block in blocks):
            return solvers
        for solver, image in zip(solvers, matmat(blocks), strict=True):
            if image is not None:
                solver.advance(image)


def top_eigenvalue(matmat, n, *, warn=True, **options):
    """Largest eigenvalue of a symmetric n x n operator given by its product with blocks.

    Parameters
    ----------
    matmat : callable
        ``matmat(V)`` returns ``A @ V`` for an (n, k) float64 array V.
    n : int
    warn : bool, default=True
        Emit a ConvergenceWarning when the tolerance is not reached.
    **options
        Passed to :class:`BlockLanczos`.

    Returns
    -------
    theta : float
        The top Ritz value.
    residual : float
        ``||A y - theta y||`` for its unit Ritz vector y, computed explicitly.
    """
    (solver,) = top_eigenvalues(lambda blocks: [matmat(blocks[0])], [BlockLanczos(n, **options)])
    if warn:
        warn_unconverged(solver)
    return solver.theta, solver.residual


def warn_unconverged(solver):
    if not solver.converged:
        warnings.warn(
            f"Block Lanczos did not reach the residual tolerance: the top eigenvalue "
            f"{solver.theta:.6g} has residual {solver.residual:.2e} "
            f"(asked {solver._tolerance():.2e}).",
            ConvergenceWarning,
            stacklevel=3,
        )
