"""How well K~ = Z Z^T approximates an exact kernel K: the (Delta1, Delta2) spectral error of
Zhang et al. (2019) and the Frobenius / spectral norms of K - K~ (DESIGN §5)."""

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial

import numpy as np
from scipy import linalg
from scipy.linalg import blas, lapack
from threadpoolctl import threadpool_info, threadpool_limits

from .._validation import check_option
from ._eigen import BlockLanczos, top_eigenvalues, warn_unconverged
from ._inputs import check_lam, resolve_problem
from ._linalg import cholesky_lower_in_place, gemm, gram_lower, triangular_in_place

#: Up to this many rows the eigenvalues come from one dense symmetric eigensolve
#: (a few n^3 flops, no iteration); above it, from block Lanczos on n x n operators
#: applied through one Cholesky factor (n^3 / 3), see spectral_approximation_error.
DENSE_MAX_ROWS = 256
#: Up to this many rows a Lanczos run that needs more than n / 4 basis vectors (a
#: spectrum whose top is a dense continuum, as Nystroem's Delta2 = 0 edge) gives way
#: to a dense eigensolve from the same Cholesky factor.
DENSE_FALLBACK_ROWS = 5000
#: Residual tolerance of the Lanczos eigenvalues, relative to max(1, eigenvalue).
LANCZOS_TOL = 1e-9
#: Columns per Lanczos block.
LANCZOS_BLOCK = 16

_FEATURE_DOC = """X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The points the kernel is evaluated on (float32 or float64; kept in float64
        inside). With ``kernel="precomputed"``, X is the exact kernel matrix K
        (n_samples x n_samples, symmetric) instead.
    feature_map : fitted transformer, default=None
        A fitted kernel feature map, or a fitted Pipeline containing one. Its
        output on X is Z, exactly as a learner would see it: lpkernel's
        low-precision features are the dequantized values (a
        :class:`~lpkernel.PackedFeatures` output is expanded with ``to_dense``);
        in a Pipeline, the steps before the map feed the kernel too, and the
        transformers right after it (a Quantizer, say) are applied to Z.
        Supported: lpkernel's maps, scikit-learn's RBFSampler and Nystroem, and any
        transformer with a ``kernel`` attribute.
    features : {array-like, sparse matrix, PackedFeatures} of shape (n_samples, m), default=None
        Z itself, instead of ``feature_map``; rows must match X.
    kernel : str or callable, default=None
        The exact kernel. None: the feature map's kernel, or "rbf" without one.
        lpkernel's shift-invariant kernels ("rbf", "laplacian", "matern",
        "sparse_rbf", see :mod:`lpkernel.kernels`), any name that
        :func:`sklearn.metrics.pairwise.pairwise_kernels` knows, a callable, or
        "precomputed".
    gamma : float, default=None
        The kernel's bandwidth. None: the feature map's (``gamma_`` of lpkernel's
        maps, ``gamma`` of RBFSampler and Nystroem), else scikit-learn's default
        1 / n_features.
    kernel_params : dict, default=None
        Further kernel parameters (``nu`` for matern, ``degree``/``coef0`` for
        poly, ...). None: the feature map's.
    n_samples : int, default=None
        Evaluate on this many rows of X drawn without replacement (the cost grows
        as n^3). None: all rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the row sample."""


def _cholesky_in_place(problem, lam, run=None):
    """Lower Cholesky factor L of K + lam I, in a Fortran-ordered n x n array, and ||K||_inf.

    K is written straight into the array that is factorized in place, so one
    n x n float64 matrix is the whole memory cost. Only the lower triangle of
    the result is L; the strict upper triangle still holds K (BLAS reads one triangle).
    """
    n = problem.n
    buffer = np.empty((n, n))  # C order: its transpose is the Fortran array BLAS wants
    norm = problem.fill(buffer, run)
    buffer.flat[:: n + 1] += lam
    factor = buffer.T
    info = cholesky_lower_in_place(factor) if run is None else cholesky_lower_in_place(factor,
                                                                                        run=run)
    if info != 0:
        raise ValueError(
            f"K + lam * I is not positive definite in float64 (pivot {info} fails): "
            f"lam={lam:g} is below the rounding error of K; use a larger lam."
        )
    return factor, norm


def _square_features(Z):
    """A factor with at most n columns and the same Z Z^T (Z^T = Q R gives Z Z^T = R^T R)."""
    n, m = Z.shape
    if m <= n:
        return Z
    r = linalg.qr(Z.T, mode="r", check_finite=False)[0]
    return np.ascontiguousarray(r[:n].T)


def _deltas_dense(problem, lam):
    """Reference-grade path for small n: all eigenvalues of M, as in the definition."""
    K = problem.kernel_matrix()
    Z = problem.Z
    factor = linalg.cholesky(K + lam * np.eye(problem.n), lower=True, check_finite=False)
    difference = Z @ Z.T - K
    half = linalg.solve_triangular(factor, difference, lower=True, check_finite=False)
    M = linalg.solve_triangular(factor, half.T, lower=True, check_finite=False)
    M += M.T
    M *= 0.5
    values = linalg.eigvalsh(M, check_finite=False)
    return float(-values[0]) + 0.0, float(values[-1])  # + 0.0: no -0.0


class _GiveUp(Exception):
    """A Lanczos run used its whole budget: the dense eigensolve is cheaper from here."""


def _lanczos_options(n, tol, random_state):
    """Solver settings: a budget of n / 4 basis vectors when a dense fallback is affordable."""
    moderate = n <= DENSE_FALLBACK_ROWS
    return moderate, dict(block_size=LANCZOS_BLOCK, tol=tol, atol=tol, random_state=random_state,
                          max_dim=max(n // 4, 8 * LANCZOS_BLOCK) if moderate else None,
                          max_restarts=0 if moderate else 20)


def _run_lockstep(products, solvers, moderate):
    """Run the solvers; True if all converged, False if a moderate-size run should go dense."""

    def guarded(blocks):
        if moderate and any(s.pending() is None and not s.converged for s in solvers):
            raise _GiveUp
        return products(blocks)

    try:
        top_eigenvalues(guarded, solvers)
    except _GiveUp:
        return False
    if moderate and not all(solver.converged for solver in solvers):
        return False
    for solver in solvers:
        warn_unconverged(solver)
    return True


def _deltas_from_factor(factor, Z, lam):
    """All eigenvalues of C = W W^T + lam L^-1 L^-T (W = L^-1 Z), densely: the fallback."""
    W = blas.dtrsm(1.0, factor, Z, lower=1, trans_a=0)
    inverse, info = lapack.dtrtri(factor, lower=1)
    if info != 0:
        raise ValueError(f"The Cholesky factor of K + lam I is singular (dtrtri info={info}).")
    inverse = np.tril(inverse)
    C = W @ W.T
    C += lam * (inverse @ inverse.T)
    values = linalg.eigvalsh(C, check_finite=False)
    return float(1.0 - values[0]), float(values[-1] - 1.0)


class _InverseLanczos(BlockLanczos):
    """Block Lanczos on C^-1 whose tolerance is on Delta1 = 1 - 1/theta, the value returned.

    An error e in theta moves Delta1 by e / theta^2, so asking Delta1 to
    tol * max(1, |Delta1|) allows theta an error of tol * theta * max(theta, |theta - 1|):
    the same accuracy in the result, reached in fewer steps when theta > 1.
    """

    def _tolerance(self):
        theta = abs(self.theta)
        return max(self.tol * theta * max(theta, abs(theta - 1.0)), self.atol)


def _blas_plan():
    """(workers, BLAS threads each): the two Lanczos runs go to two threads when BLAS may use two.

    Each worker's BLAS calls are single-threaded where the cores are few: OpenBLAS's
    own threads spin while they wait for each other, which on shared cores makes
    its small (n x 16) products several times slower than one thread; two Python
    threads that block while they wait do not have that problem.
    """
    threads = max((pool["num_threads"] for pool in threadpool_info()
                   if pool["user_api"] == "blas"), default=1)
    workers = 2 if threads >= 2 else 1
    return workers, max(1, threads // workers)


def _gram_factor(Zt, lam, run=None):
    """Lower Cholesky factor of Z^T Z + lam I (m x m, Fortran-ordered), from Zt = Z^T (Fortran-ordered).

    ``run(tasks)``, when given, shares the work of the Gram matrix and of its
    factorization out over two threads (see :func:`gram_lower`).
    """
    gram = gram_lower(Zt) if run is None else gram_lower(Zt, run=run)
    gram.flat[:: gram.shape[0] + 1] += lam
    info = cholesky_lower_in_place(gram) if run is None else cholesky_lower_in_place(gram, run=run)
    if info != 0:
        raise ValueError(f"Z^T Z + lam I is not positive definite in float64 (pivot {info} fails).")
    return gram


def _split_columns(tasks, pool):
    """``(function, block)`` tasks as callables; a lone task's block is cut in two column halves
    when a second thread would otherwise sit idle (the work is independent per column)."""
    if pool is not None and len(tasks) == 1 and tasks[0][1].shape[1] >= 2:
        function, block = tasks[0]
        half = block.shape[1] // 2
        tasks = [(function, block[:, :half]), (function, block[:, half:])]
    return [partial(function, block) for function, block in tasks]


def _together(pool, tasks):
    """Run the callables, the first in this thread and the others on ``pool`` (None: here too).

    Returns their results in order, after all have finished; the first error is raised.
    """
    if pool is None or len(tasks) == 1:
        return [task() for task in tasks]
    futures = [pool.submit(task) for task in tasks[1:]]
    try:
        first = tasks[0]()
    finally:
        wait(futures)
    return [first] + [future.result() for future in futures]


#: Share of Z's rows that the thread solving with the Gram factor lifts afterwards, so
#: that both threads finish together (measured at n = 4000, m = 2048: the solve of 16
#: columns costs about a third of lifting 32 columns over all rows).
LIFT_SPLIT = 0.47


def _lift_overlapped(pool, Zt, projected, out, solve_gram, start):
    """``out = Z @ projected`` after the Gram solve of columns ``start:``, on two threads.

    One thread solves with the Gram factor (the C^-1 run's columns only), then lifts
    all columns over the first rows; meanwhile the other lifts the C run's columns
    over the remaining rows, then (once the solve is done) the C^-1 run's columns over
    them: the C run's share of the pass over Z does not wait for the solve.
    """
    n = Zt.shape[1]
    split = int(round(LIFT_SPLIT * n))
    solved = threading.Event()
    first, second = slice(0, start), slice(start, projected.shape[1])

    def solve_then_lift():
        try:
            solve_gram(projected[:, second])
        finally:
            solved.set()  # never leave the other thread waiting, even on an error
        gemm(Zt[:, :split], projected, True, out=out[:split])

    def lift_rest():
        if start:
            gemm(Zt[:, split:], projected[:, first], True, out=out[split:, first])
        solved.wait()
        gemm(Zt[:, split:], projected[:, second], True, out=out[split:, second])

    _together(pool, [solve_then_lift, lift_rest])


def _deltas_lanczos(problem, lam, random_state=0):
    """Delta1 and Delta2 from one Cholesky factor and two block Lanczos runs in lockstep.

    The independent halves of each step (the two halves of the rows of Z in the
    passes the runs share, and each run's own chain of work) go to two threads.
    """
    workers, blas_threads = _blas_plan()
    with threadpool_limits(blas_threads, user_api="blas"), \
            ThreadPoolExecutor(max_workers=workers - 1 or 1) as executor:
        return _deltas_lanczos_on(problem, lam, random_state, executor if workers > 1 else None)


def _deltas_lanczos_on(problem, lam, random_state, pool):
    n = problem.n
    Z = _square_features(problem.Z)  # C order: Z^T is the Fortran array BLAS wants
    Zt = np.asfortranarray(Z.T)  # no copy
    # K's fill, its Cholesky factorization and the Gram matrix each share their work
    # out over the two threads, one after the other, in halves of equal work (measured at
    # n = 4000, m = 2048: 0.53 s in all, against 0.9 s with the Gram on the one worker
    # thread beside the others, which starved the factorization of its second thread)
    run = None if pool is None else partial(_together, pool)
    factor, kernel_norm = _cholesky_in_place(problem, lam, run)
    gram_factor = _gram_factor(Zt, lam, run)
    # Products with C and C^-1 carry rounding errors of about eps * cond(K + lam I)
    # relative; asking the residual to go below that would never stop.
    noise = 4 * np.finfo(np.float64).eps * (kernel_norm + lam) / lam
    middle = n // 2  # rows of Z per thread

    def solve_gram(block):  # (Z^T Z + lam I)^-1 block, in place: dpotrs as two dtrsm
        triangular_in_place(gram_factor, block, solve=True, transpose=False)
        triangular_in_place(gram_factor, block, solve=True, transpose=True)

    solve_lower = partial(triangular_in_place, factor, solve=True, transpose=False)
    solve_upper = partial(triangular_in_place, factor, solve=True, transpose=True)
    times_lower = partial(triangular_in_place, factor, solve=False, transpose=False)
    times_upper = partial(triangular_in_place, factor, solve=False, transpose=True)

    # [C V1, C^-1 V2] with C = L^-1 A L^-T and C^-1 = L^T A^-1 L, A = Z Z^T + lam I, the
    # inverse by Woodbury through the m x m factor of Z^T Z + lam I:
    # A^-1 = (I - Z (Z^T Z + lam I)^-1 Z^T) / lam. One pass over Z serves both runs. Each
    # run's own work, its second triangular product, its Lanczos step and the first
    # triangular product of its next block, runs as one chain on its own thread, so the
    # two chains even out without waiting for each other in between; a run left alone has
    # its triangular products cut in two column halves, one per thread.
    moderate, options = _lanczos_options(n, LANCZOS_TOL, random_state)
    solvers = [BlockLanczos(n, noise=noise, **options), _InverseLanczos(n, noise=noise, **options)]
    offset = [0, solvers[0].b]  # run r's columns in H and lifted start at offset[r]
    H = np.empty((n, solvers[0].b + solvers[1].b), order="F")
    lifted = np.empty((n, H.shape[1]), order="F")

    def begin(r, split=False):
        """Run r's pending block into H, times its first triangular factor; its width (0: none)."""
        block = solvers[r].pending()
        if block is None:
            return 0
        target = H[:, offset[r] : offset[r] + block.shape[1]]
        target[...] = block
        inner = pool if split else None  # a chain on a worker thread stays on it
        # L^-T V1 (run 1); L V2 (run 2)
        _together(inner, _split_columns([(solve_upper if r == 0 else times_lower, target)],
                                        inner))
        return block.shape[1]

    def end(r, width, split=False):
        """Run r's second triangular product and Lanczos step, then :func:`begin`."""
        columns = slice(offset[r], offset[r] + width)
        out = lifted[:, columns]
        if r == 0:  # L^-1 (Z Z^T + lam I) L^-T V1
            out += lam * H[:, columns]
            op = solve_lower
        else:  # L^T (L V2 - Z (Z^T Z + lam I)^-1 Z^T L V2) / lam
            np.subtract(H[:, columns], out, out=out)
            out *= 1.0 / lam
            op = times_upper
        inner = pool if split else None
        _together(inner, _split_columns([(op, out)], inner))
        solvers[r].advance(out)
        return begin(r, split)

    widths = _together(pool, [partial(begin, 0), partial(begin, 1)])
    while any(widths):
        if moderate and any(s.pending() is None and not s.converged for s in solvers):
            return _deltas_from_factor(factor, np.asfortranarray(Z), lam)  # out of budget
        lo = 0 if widths[0] else offset[1]
        hi = offset[1] + widths[1] if widths[1] else widths[0]
        if widths[0] and widths[1]:
            H[:, widths[0] : offset[1]] = 0.0  # run 1's block is short: no stale columns
        parts = _together(pool, [partial(gemm, Zt[:, :middle], H[:middle, lo:hi]),
                                 partial(gemm, Zt[:, middle:], H[middle:, lo:hi])])
        projected = parts[0]
        projected += parts[1]
        if pool is not None and all(widths):
            _lift_overlapped(pool, Zt, projected, lifted[:, lo:hi], solve_gram, offset[1])
        else:
            if widths[1]:
                start = offset[1] - lo
                _together(pool, _split_columns(
                    [(solve_gram, projected[:, start : start + widths[1]])], pool))
            _together(pool, [
                partial(gemm, Zt[:, :middle], projected, True, out=lifted[:middle, lo:hi]),
                partial(gemm, Zt[:, middle:], projected, True, out=lifted[middle:, lo:hi])])
        if pool is not None and all(widths):
            widths = _together(pool, [partial(end, 0, widths[0]), partial(end, 1, widths[1])])
        else:
            widths = [end(r, width, split=True) if width else 0 for r, width in enumerate(widths)]
    if moderate and not all(solver.converged for solver in solvers):
        return _deltas_from_factor(factor, np.asfortranarray(Z), lam)
    for solver in solvers:
        warn_unconverged(solver)
    top, top_inverse = solvers[0].theta, solvers[1].theta
    return float(1.0 - 1.0 / top_inverse), float(top - 1.0)


def _deltas(problem, lam, method="auto"):
    if method == "dense" or (method == "auto" and problem.n <= DENSE_MAX_ROWS):
        return _deltas_dense(problem, lam)
    return _deltas_lanczos(problem, lam)


def spectral_approximation_error(X, feature_map=None, *, features=None, kernel=None, gamma=None,
                                 kernel_params=None, lam, n_samples=None, random_state=None):
    """(Delta1, Delta2): how far K~ = Z Z^T is from the exact kernel K, relative to K + lam I.

    They are the smallest numbers with
    (1 - Delta1)(K + lam I) <= K~ + lam I <= (1 + Delta2)(K + lam I) in the
    positive semidefinite order (Zhang et al. 2019, Definition 1). With
    M = (K + lam I)^-1/2 (K~ - K)(K + lam I)^-1/2, Delta2 = lambda_max(M) and
    Delta1 = -lambda_min(M). Always Delta1 < 1 and Delta2 > -1; either may be
    negative (Delta2 < 0 when K~ is strictly below K). The values are returned
    as computed, never clipped. Low Delta1 (the paper uses 1 / (1 - Delta1))
    predicts good generalization of the model trained on Z better than the
    Frobenius error does.

    Parameters
    ----------
    {features_doc}
    lam : float > 0
        The ridge parameter lambda, as in the learner's (K~ + lam I). For
        scikit-learn's Ridge(alpha) on Z, lam = alpha (on the rows it is fit on;
        on a subsample of s of N rows, alpha * s / N keeps lam / n the same).

    Returns
    -------
    delta1, delta2 : float

    Notes
    -----
    The result is the definition's, to 1e-9 relative (no statistical
    estimate). K~ is never formed when m < n. With K + lam I = L L^T (one
    Cholesky, n^3 / 3 flops, in place in one n x n array) and
    A = Z Z^T + lam I, the pencil C = L^-1 A L^-T = M + I has
    Delta2 = lambda_max(C) - 1 and Delta1 = 1 - 1 / lambda_max(C^-1), where
    C^-1 = L^T A^-1 L with A^-1 by the Woodbury identity through the m x m
    matrix Z^T Z + lam I. Both are top eigenvalues of positive definite
    operators, found by two block Lanczos runs (blocks of 16, full
    reorthogonalization) that advance in lockstep so one pass over Z serves
    both. A run stops when the residual bound r or the Kato–Temple bound
    r^2 / gap of its top Ritz value is below 1e-9 relative (for C^-1, relative
    to the Delta1 it gives, a tolerance theta^2 times looser on theta); r is recomputed
    explicitly at the end (see :mod:`lpkernel.metrics._eigen`). Using C^-1
    for Delta1 matters: the low end of C is a tight cluster, the top of C^-1
    is well separated, so it converges in a dozen or two blocks. Each step
    costs four triangular products (4 n^2 * 16 flops) and two passes over Z
    (4 n m * 32); the whole is about n^3 / 3 + n m^2 + 20 * 64 n (n + m)
    flops, against about 12 n^3 for the two full eigendecompositions of the
    definition. The work goes to two threads with one BLAS thread each (when
    BLAS may use two or more): the kernel's fill (written in place for rbf),
    its Cholesky factorization (panel solves, and trailing updates split into
    two parts of equal work) and the Gram matrix of Z (its lower-left block
    against its two diagonal triangles), one after the other; then in every
    Lanczos step the two halves of the rows of Z in the shared passes, and
    each run's own chain (its second triangular product, its step, the first
    triangular product of its next block) on its own thread. OpenBLAS's own
    threads spin while they wait for each other, which on shared cores made
    the thin products several times slower than on one thread. When m > n, Z is first
    replaced by the n x n factor R^T of
    Z^T = QR, which has the same Z Z^T. Up to ``DENSE_MAX_ROWS`` rows the
    eigenvalues of M itself come from one dense symmetric eigensolve; up to
    ``DENSE_FALLBACK_ROWS`` rows, a Lanczos run that needs more than n / 4
    basis vectors (Nystroem features put Delta2 = 0 at the edge of a dense
    continuum) gives way to a dense eigensolve of C from the same factor.

    The accuracy of any method is limited by the conditioning of the problem:
    rounding errors of size eps * ||K|| in K (and Z) move M by up to
    eps * ||K|| / lam.

    References
    ----------
    .. [1] J. Zhang, A. May, T. Dao and C. Ré, "Low-Precision Random Fourier Features
       for Memory-Constrained Kernel Approximation", AISTATS 2019, arXiv:1811.00155,
       Definition 1 and Section 4.
    .. [2] H. Avron, M. Kapralov, C. Musco, C. Musco, A. Velingker and A. Zandieh,
       "Random Fourier Features for Kernel Ridge Regression: Approximation Bounds and
       Statistical Guarantees", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.metrics import spectral_approximation_error
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> small = RandomFourierFeatures(n_components=64, gamma=0.2, random_state=0).fit(X)
    >>> large = RandomFourierFeatures(n_components=2048, gamma=0.2, random_state=0).fit(X)
    >>> d1_small, d2_small = spectral_approximation_error(X, small, lam=1.0)
    >>> d1_large, d2_large = spectral_approximation_error(X, large, lam=1.0)
    >>> bool(d1_large < d1_small < 1), bool(-1 < d2_large < d2_small)
    (True, True)
    """
    lam = check_lam(lam)
    problem = resolve_problem(X, feature_map, features, kernel, gamma, kernel_params,
                              n_samples, random_state)
    return _deltas(problem, lam)


def delta(X, feature_map=None, *, features=None, kernel=None, gamma=None, kernel_params=None,
          lam, n_samples=None, random_state=None):
    """Delta = max(Delta1, Delta2), the single spectral error.

    Parameters
    ----------
    {features_doc}
    lam : float > 0
        The ridge parameter, as in :func:`spectral_approximation_error`.

    Returns
    -------
    delta : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.kernel_approximation import Nystroem
    >>> from lpkernel.metrics import delta
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> nystroem = Nystroem(gamma=0.5, n_components=100, random_state=0).fit(X)
    >>> bool(0 < delta(X, nystroem, lam=0.1) < 1)
    True
    """
    delta1, delta2 = spectral_approximation_error(
        X, feature_map, features=features, kernel=kernel, gamma=gamma,
        kernel_params=kernel_params, lam=lam, n_samples=n_samples, random_state=random_state)
    return max(delta1, delta2)


def kernel_approximation_error(X, feature_map=None, *, features=None, kernel=None, gamma=None,
                               kernel_params=None, norm="fro", n_samples=None,
                               random_state=None):
    """||K - Z Z^T||, in the Frobenius or the spectral norm.

    Parameters
    ----------
    {features_doc}
    norm : {{"fro", "spectral"}}, default="fro"
        "fro": computed over row chunks of K - Z Z^T (never all of it at once,
        and without the cancellation of ||K||^2 - 2 tr(Z^T K Z) + ||Z^T Z||^2).
        "spectral": the largest |eigenvalue| of K - Z Z^T, by block Lanczos on
        K V - Z (Z^T V) (dense eigensolve up to ``DENSE_MAX_ROWS`` rows).

    Returns
    -------
    error : float

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.metrics import kernel_approximation_error
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> rff = RandomFourierFeatures(n_components=512, gamma=0.5, random_state=0).fit(X)
    >>> fro = kernel_approximation_error(X, rff)
    >>> spectral = kernel_approximation_error(X, rff, norm="spectral")
    >>> bool(0 < spectral <= fro)
    True
    """
    check_option(norm, "norm", ("fro", "spectral"))
    problem = resolve_problem(X, feature_map, features, kernel, gamma, kernel_params,
                              n_samples, random_state)
    Z = problem.Z
    if norm == "fro":
        total = 0.0
        for sl in problem.chunks():
            block = problem.rows(sl)
            block -= Z[sl] @ Z.T
            total += float(np.einsum("ij,ij->", block, block))
        return float(np.sqrt(total))
    K = problem.kernel_matrix()
    if problem.n > DENSE_MAX_ROWS:
        # both ends of K - Z Z^T in lockstep, one product with K for the two
        def products(blocks):
            live = [block for block in blocks if block is not None]
            stacked = live[0] if len(live) == 1 else np.hstack(live)
            image = K @ stacked - Z @ (Z.T @ stacked)
            out, column = [], 0
            for sign, block in zip((1.0, -1.0), blocks, strict=True):
                if block is None:
                    out.append(None)
                    continue
                out.append(sign * image[:, column : column + block.shape[1]])
                column += block.shape[1]
            return out

        # rounding leaves ||K - Z Z^T|| no more precise than about eps * ||K||_F
        floor = 1e3 * np.finfo(np.float64).eps * float(np.linalg.norm(K))
        moderate, options = _lanczos_options(problem.n, LANCZOS_TOL, 0)
        options["atol"] = floor
        solvers = [BlockLanczos(problem.n, **options), BlockLanczos(problem.n, **options)]
        if _run_lockstep(products, solvers, moderate):
            return float(max(abs(solvers[0].theta), abs(solvers[1].theta)))
    values = linalg.eigvalsh(K - Z @ Z.T, check_finite=False)
    return float(max(-values[0], values[-1]))


for _function in (spectral_approximation_error, delta, kernel_approximation_error):
    _function.__doc__ = _function.__doc__.replace("{features_doc}", _FEATURE_DOC).replace(
        "{{", "{").replace("}}", "}")
del _function
