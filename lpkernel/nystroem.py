"""Nyström features with uniform, k-means, ridge-leverage-score or user landmarks (DESIGN §4).

Landmarks c_1..c_m, K_mm = k(C, C), features z(x) = k(x, C) K_mm^{-1/2}, with the
pseudo-inverse square root taken from an eigendecomposition: eigenvalues at the
rounding level of K_mm are dropped instead of inverted, so near-singular
landmark sets (duplicates, float32 data, fast-decaying spectra) stay finite and
accurate.

References
----------
Williams & Seeger, "Using the Nyström Method to Speed Up Kernel Machines", NeurIPS 2001.
Zhang, Tsang & Kwok, "Improved Nyström Low-Rank Approximation and Error Analysis",
ICML 2008 (k-means landmarks).
Musco & Musco, "Recursive Sampling for the Nyström Method", NeurIPS 2017,
arXiv:1605.07583 (ridge-leverage-score landmarks).
"""

import math
import warnings

import numpy as np
from scipy import linalg, sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics.pairwise import KERNEL_PARAMS, kernel_metrics, pairwise_kernels
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from . import _sampling
from ._chunks import DEFAULT_CHUNK_BYTES, ROW_BLOCK, chunk_rows, padded_block, run_chunks
from ._validation import check_int, check_n_jobs, check_option, check_real
from .kernels import shift_invariant_kernel

SAMPLING_MODES = ("uniform", "kmeans", "rls")
#: Kernels lpkernel adds to scikit-learn's ``pairwise_kernels`` names.
LPKERNEL_KERNELS = ("matern", "sparse_rbf")
#: Kernels with k(x, x) = 1 for every x (the leverage-score sampler needs the diagonal).
_UNIT_DIAGONAL_KERNELS = ("rbf", "laplacian", "chi2", "matern", "sparse_rbf")
#: Lloyd iterations after k-means++ seeding (Zhang et al. 2008 use k-means centres):
#: each is one n x m distance pass, and a few already move the seeds to the centres.
KMEANS_LLOYD_ITERATIONS = 5
#: Fewest rows per chunk: BLAS packs the whole m x m right-hand side once per GEMM call,
#: and with fewer rows that packing costs as much as the multiply (m = 2,048, float64:
#: 128-row chunks took 3x as long as 1,024-row ones on this project's machines).
MIN_CHUNK_ROWS = 1024
_PARAMS_MESSAGE = ("Don't pass gamma, coef0 or degree to Nystroem if using a callable "
                   "or precomputed kernel")


# -- kernel evaluation ------------------------------------------------------
class _RBFAgainst:
    """exp(-gamma ||a - c||^2) of dense rows a against fixed landmarks C, by one GEMM.

    Both sides are shifted by the landmarks' mean first: the kernel is
    translation invariant, and ||a||^2 + ||c||^2 - 2 a.c then cancels far less,
    so the GEMM can run in float32 (scikit-learn upcasts float32 distances to
    float64 instead).
    """

    def __init__(self, C, gamma, dtype):
        C = np.asarray(C, dtype=np.float64)
        self.center = C.mean(axis=0).astype(dtype)
        shifted = (C - C.mean(axis=0)).astype(dtype)
        self.landmarks_t = np.ascontiguousarray(shifted.T)
        self.landmark_sq_norms = np.einsum("ij,ij->i", shifted, shifted)
        self.gamma = dtype.type(gamma)
        self.radius_sq = float(self.landmark_sq_norms.max()) if len(C) else 0.0

    def entry_error(self, dtype):
        """A bound on the rounding of each kernel value: the squared distance loses
        about 3 eps (||a||^2 + ||c||^2) <= 6 eps R^2 to cancellation, and the kernel
        changes by gamma times that."""
        return 6.0 * float(self.gamma) * np.finfo(dtype).eps * self.radius_sq

    def __call__(self, A):
        A = A - self.center
        K = A @ self.landmarks_t
        K *= -2.0
        K += np.einsum("ij,ij->i", A, A)[:, None]
        K += self.landmark_sq_norms[None, :]
        np.maximum(K, 0.0, out=K)
        K *= -self.gamma
        return np.exp(K, out=K)


def _dense(M):
    return M.toarray() if sparse.issparse(M) else M


def _int32_indices(M):
    """A CSR matrix with 32-bit indices where they fit: scikit-learn's sparse manhattan
    distances (laplacian kernel) only take those."""
    if not sparse.issparse(M) or M.indices.dtype == np.int32 or max(M.nnz, *M.shape) >= 2**31:
        return M
    M = sparse.csr_matrix(M)
    return sparse.csr_matrix((M.data, M.indices.astype(np.int32), M.indptr.astype(np.int32)),
                             shape=M.shape)


def _gemm_chunk_rows(n_rows, bytes_per_row):
    """Rows per chunk: what fits the default work space, but at least MIN_CHUNK_ROWS."""
    return chunk_rows(n_rows, bytes_per_row,
                      max(MIN_CHUNK_ROWS, DEFAULT_CHUNK_BYTES // max(bytes_per_row, 1)))


def _pad_rows(K):
    """K with rows zero-padded to a multiple of ROW_BLOCK (the next GEMM then sees the
    same shapes whatever the chunking, so a row's features do not depend on its batch)."""
    n = K.shape[0]
    padded_n = -(-n // ROW_BLOCK) * ROW_BLOCK
    if padded_n == n:
        return K
    out = np.zeros((padded_n, K.shape[1]), dtype=K.dtype)
    out[:n] = K
    return out


def _symmetric_inverse_sqrt(K_mm, dtype, entry_error=0.0):
    """Pseudo-inverse square root of a symmetric K_mm from a float64 ``scipy.linalg.eigh``.

    Eigenvalue lambda_j is dropped, and not inverted, when it is at the rounding level
    of the data it meets; negative ones (indefinite kernels) are dropped too, which
    keeps the approximation positive semi-definite. The cutoff is the largest of

    - eps(float64) * lambda_max: eigh's own accuracy;
    - sqrt(m) * ``entry_error``: a K_mm whose entries are off by ``entry_error``
      has eigenvalues off by about sqrt(m) times that;
    - sqrt(m) * eps(dtype) * max|K_mm|: the transform's kernel rows, computed in
      ``dtype``, are off by about that in norm, so their component along u_j is
      noise below it, and dividing by sqrt(lambda_j) would amplify that noise.

    For float32 output the last term rules (about 0.02 to 0.3 * eps(float32) *
    lambda_max on ijcnn1); fixed cutoffs of 1, 0.1, 0.03 and 0.01 times
    eps(float32) * lambda_max were each worse on some bandwidth there or on
    uniform data, 0.01 by two orders of magnitude once.

    Returns
    -------
    eigenvectors : ndarray of shape (m, m'), the kept eigenvectors (float64).
    inv_sqrt : ndarray of shape (m',), their eigenvalues to the power -1/2.
    """
    K_mm = np.asarray(K_mm, dtype=np.float64)
    K_mm = 0.5 * (K_mm + K_mm.T)  # rounding can leave it a little asymmetric
    # divide and conquer: the default MRRR driver slows down many-fold on the clustered
    # near-zero eigenvalues that kernel matrices have. One BLAS thread: the tridiagonal
    # reduction is memory bound, and threaded BLAS stalls when the cores are shared
    # (m = 4,096 on a busy 2-core machine: 12 s with one thread, 45 s with two).
    with threadpool_limits(1, user_api="blas"):
        eigenvalues, eigenvectors = linalg.eigh(K_mm, driver="evd", check_finite=False)
    if not eigenvalues.size:
        return eigenvectors, eigenvalues
    root_m = np.sqrt(len(eigenvalues))
    tolerance = max(np.finfo(np.float64).eps * np.abs(eigenvalues).max(),
                    root_m * entry_error,
                    root_m * np.finfo(dtype).eps * np.abs(K_mm).max())
    keep = eigenvalues > tolerance
    return eigenvectors[:, keep], 1.0 / np.sqrt(eigenvalues[keep])


# -- recursive ridge-leverage-score sampling -----------------------------------------
def ridge_leverage_estimates(K_rows_sample, K_rows_diag, K_sample, weights, lam):
    """Ridge leverage score estimates of some rows from a weighted landmark sample.

    tau_i ~ (k_ii - k_iS (K_SS + lam W^-2)^-1 k_Si) / lam, the estimator of Musco &
    Musco 2017 as their reference code computes it. With S = all points and W = I it is
    tau_i = (K (K + lam I)^-1)_ii, the lam-ridge leverage score.

    Parameters
    ----------
    K_rows_sample : ndarray of shape (n_rows, s), k(x_i, x_S)
    K_rows_diag : ndarray of shape (n_rows,), k(x_i, x_i)
    K_sample : ndarray of shape (s, s), K_SS
    weights : ndarray of shape (s,), the sampling weights W (1/sqrt(probability))
    lam : float > 0

    Returns
    -------
    scores : ndarray of shape (n_rows,), clipped below at 0.
    """
    factor = _regularized_cholesky(K_sample, weights, lam)
    return _leverage_from_cholesky(K_rows_sample, K_rows_diag, factor, lam)


def _regularized_cholesky(K_sample, weights, lam):
    A = np.array(K_sample, dtype=np.float64)
    A[np.diag_indices_from(A)] += lam / weights**2
    return linalg.cholesky(A, lower=True, check_finite=False)


def _leverage_from_cholesky(K_rows_sample, K_rows_diag, factor, lam):
    # k_i^T (L L^T)^-1 k_i = ||L^-1 k_i||^2: a triangular solve, never an explicit inverse
    solved = linalg.solve_triangular(factor, np.asarray(K_rows_sample, dtype=np.float64).T,
                                     lower=True, check_finite=False)
    return np.maximum(0.0, K_rows_diag - np.einsum("ij,ij->j", solved, solved)) / lam


def recursive_rls_indices(n_samples, n_landmarks, kernel_rows, kernel_diagonal, rng, n_jobs=1):
    """Landmark indices drawn by recursive ridge-leverage-score sampling.

    RecursiveRLS-Nyström of Musco & Musco, "Recursive Sampling for the Nyström
    Method", NeurIPS 2017, in the form of the authors' reference code
    ``recursiveNystrom.m`` (fixed sample size, not the accelerated variant):
    halve the data uniformly down to about s points; then, going back up,
    estimate every point's ridge leverage score from the weighted sample of the
    level below (:func:`ridge_leverage_estimates`, with lam set from the tail of
    that sample's spectrum so that about s points pass)
    and keep each point with probability min(1, log(s) * score). The top level
    draws exactly s points without replacement, proportionally to the scores.
    Only n x s' blocks of K are formed (s' about s, in row chunks), never n x n:
    the cost is O(n s^2) kernel evaluations and flops.

    Parameters
    ----------
    n_samples : int, n
    n_landmarks : int, s (1 <= s <= n)
    kernel_rows : callable (rows, cols) -> ndarray K[rows][:, cols] in float64
    kernel_diagonal : ndarray of shape (n,), k(x_i, x_i)
    rng : numpy RandomState
    n_jobs : int, threads over row chunks

    Returns
    -------
    indices : ndarray of shape (s,), distinct, in draw order.
    """
    n, s = n_samples, n_landmarks
    perm = rng.permutation(n)
    if s >= n:
        return perm
    oversample = max(1.0, math.log(s))
    # lam is chosen so the effective dimension is about s / (4 log s), hence about s points kept
    rank = max(1, math.ceil(s / (4.0 * oversample)))
    n_levels = math.ceil(math.log2(n / s))
    sizes = [n]
    for _ in range(n_levels):
        sizes.append(math.ceil(sizes[-1] / 2))
    sample = np.arange(sizes[-1])  # positions in perm: a uniform base sample of <= s points
    weights = np.ones(sample.size)
    for level in range(n_levels - 1, -1, -1):
        size = sizes[level]
        selected = perm[sample]
        K_sample = kernel_rows(selected, selected)
        # s' x s' work: one BLAS thread is as fast, and threaded BLAS on small matrices
        # slows down by orders of magnitude when the cores are busy (measured: 0.5 s
        # instead of 2 ms for a 700 x 47 QR)
        with threadpool_limits(1, user_api="blas"):
            lam = _ridge_from_tail(K_sample, weights, rank, rng)
            factor = _regularized_cholesky(K_sample, weights, lam)
        scores = np.empty(size)

        def work(rows, selected=selected, factor=factor, lam=lam, scores=scores):
            idx = perm[rows]
            scores[rows] = _leverage_from_cholesky(kernel_rows(idx, selected),
                                                   kernel_diagonal[idx], factor, lam)

        run_chunks(work, size, _gemm_chunk_rows(size, 16 * max(sample.size, 1)), n_jobs)
        if level > 0:
            probabilities = np.minimum(1.0, oversample * scores)
            sample = np.flatnonzero(rng.random_sample(size) < probabilities)
            if sample.size == 0:  # improbable; fall back to a uniform sample
                sample = np.sort(rng.choice(size, min(s, size), replace=False))
                probabilities = np.full(size, sample.size / size)
            weights = 1.0 / np.sqrt(probabilities[sample])
        else:
            # every point keeps a (tiny) chance, so s distinct points can always be drawn
            scores = np.maximum(np.minimum(1.0, scores), np.finfo(np.float64).tiny)
            sample = rng.choice(size, s, replace=False, p=scores / scores.sum())
    return perm[sample]


def _ridge_from_tail(K_sample, weights, rank, rng):
    """lam = (sum of the weighted sample kernel's eigenvalues beyond the top ``rank``) / rank.

    The top eigenvalues come from a subset eigensolver on small samples and from a
    randomized subspace iteration (Halko, Martinsson & Tropp, SIAM Review 53(2), 2011,
    Algorithm 4.4) on large ones, where a full tridiagonalization would cost more than
    the rest of the sampler. The randomized sum can only fall short of the true one,
    which raises lam a little: the scores get smoother, never invalid.
    """
    weighted = K_sample * weights[:, None] * weights[None, :]
    size = weighted.shape[0]
    trace = float(np.trace(weighted))
    floor = np.finfo(np.float64).eps * max(trace, np.finfo(np.float64).tiny)
    if rank >= size:
        return max(1e-5, floor)  # as the reference code: too few points for a tail
    if size <= 4 * rank + 200:
        top = linalg.eigh(weighted, eigvals_only=True, subset_by_index=[size - rank, size - 1],
                          check_finite=False)
    else:
        # two steps of subspace iteration from a Gaussian start, then Rayleigh-Ritz:
        # by interlacing, the Ritz values lie below the eigenvalues they approximate
        basis = weighted @ rng.standard_normal((size, rank + 10))
        for _ in range(2):
            basis = weighted @ np.linalg.qr(basis)[0]
        basis = np.linalg.qr(basis)[0]
        top = np.linalg.eigvalsh(basis.T @ weighted @ basis)[-rank:]
    return max((trace - np.abs(top).sum()) / rank, floor)


class Nystroem(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Nyström kernel features, a drop-in for scikit-learn's with more landmark choices.

    Approximates a kernel by z(x)^T z(y), z(x) = k(x, C) K_mm^{-1/2}, for m
    landmarks C (Williams & Seeger 2001). With ``sampling="uniform"`` it draws
    the same landmarks as :class:`sklearn.kernel_approximation.Nystroem` for the
    same ``random_state`` and returns the same features (up to rounding). It adds
    k-means landmarks, recursive ridge-leverage-score landmarks (Musco & Musco
    2017), user landmarks, lpkernel's Matérn kernels, a pseudo-inverse square
    root that drops the eigenvalues of K_mm at its rounding level instead of
    inverting them, float32 throughout, and a transform in row chunks over
    threads.

    Parameters
    ----------
    n_components : int, default=100
        m, the number of landmarks and of output features. Above n_samples it
        is set to n_samples with a warning, as in scikit-learn.
    kernel : str or callable, default="rbf"
        A :func:`sklearn.metrics.pairwise.pairwise_kernels` name ("rbf",
        "laplacian", "poly", "sigmoid", "cosine", "chi2", ...), lpkernel's
        "matern" (``kernel_params={"nu": 0.5 | 1.5 | 2.5}``, length scale
        1/sqrt(2 gamma)) or "sparse_rbf" (``kernel_params={"n_nonzero": k}``), a
        callable k(x, y, **kernel_params) -> float, or "precomputed": then ``fit``
        takes the n x n training kernel matrix and ``transform`` the kernel
        between new samples (rows) and the training samples (columns).
    gamma : float, default=None
        Kernel coefficient of rbf, laplacian, poly, sigmoid, chi2, matern and
        sparse_rbf. None means scikit-learn's default for that kernel
        (1 / n_features for rbf, laplacian, poly, sigmoid, matern, sparse_rbf).
    coef0 : float, default=None
        Zero coefficient of the polynomial and sigmoid kernels.
    degree : float, default=None
        Degree of the polynomial kernel.
    kernel_params : dict, default=None
        Further keyword arguments of the kernel (callables too).
    sampling : {"uniform", "kmeans", "rls"}, default="uniform"
        How the landmarks are chosen. ``uniform``: m training rows drawn without
        replacement, exactly as scikit-learn. ``kmeans``: the centres of k-means
        on X (k-means++ seeding, then a few Lloyd iterations; Zhang et al. 2008);
        they are not training rows. ``rls``: m training rows drawn by recursive
        ridge-leverage-score sampling (Musco & Musco 2017), O(n m^2), which
        covers small clusters and outliers that uniform sampling misses.
        ``kmeans`` needs feature vectors, so not ``kernel="precomputed"``.
    landmarks : array-like of shape (n_landmarks, n_features), default=None
        Landmarks given by the user. They replace sampling: ``sampling`` and
        ``n_components`` are then not used, and m = n_landmarks.
    n_jobs : int, default=None
        Threads over row chunks in ``transform`` and in the ``rls`` sampler.
        None means 1 unless in a :func:`joblib.parallel_config` context; -1
        means all cores. With one thread, BLAS uses its own threads.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark sampling.

    Attributes
    ----------
    components_ : ndarray or sparse matrix of shape (m, n_features)
        The landmarks (for ``kernel="precomputed"``: their rows of the training
        kernel matrix, as scikit-learn).
    component_indices_ : ndarray of shape (m,)
        Indices of the landmarks among the training rows. Only defined when the
        landmarks are training rows (``uniform``, ``rls``), not for ``kmeans``
        centres or user ``landmarks``.
    normalization_ : ndarray of shape (m, m)
        K_mm^{-1/2}, the symmetric pseudo-inverse square root: features are
        ``k(X, components_) @ normalization_.T``. It has rank m - n_dropped_eigenvalues_.
    n_dropped_eigenvalues_ : int
        How many eigenvalues of K_mm were dropped as zero, not inverted: negative
        ones and those at the rounding level of K_mm or of the transform's kernel
        rows (about sqrt(m) * eps * max|k| in X's float type, and at least
        eps(float64) * the largest eigenvalue). Duplicate landmarks and kernels of
        low numerical rank drop many, in float32 especially.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.kernel_approximation.Nystroem : the same map with uniform landmarks.
    lpkernel.RandomFourierFeatures : random features for shift-invariant kernels.
    lpkernel.Quantizer : low-precision storage of these features.

    Notes
    -----
    scikit-learn clips the singular values of K_mm at 1e-12 and inverts them.
    In float32, many eigenvalues of a smooth kernel matrix lie below the rounding
    of the kernel rows yet far above 1e-12, so inverting them amplifies noise
    into the features; dropping them gives a far smaller kernel error at the
    same m. K_mm and its eigendecomposition are always computed in float64. When at most
    half the eigenvalues remain, ``transform`` computes
    (k(X, C) U S^{-1/2}) U^T with the kept eigenpairs: two thin GEMMs instead of
    one m x m GEMM, cheaper and less sensitive to rounding.

    References
    ----------
    .. [1] C. Williams and M. Seeger, "Using the Nyström Method to Speed Up Kernel
       Machines", NeurIPS 2001.
    .. [2] K. Zhang, I. Tsang and J. Kwok, "Improved Nyström Low-Rank Approximation
       and Error Analysis", ICML 2008.
    .. [3] C. Musco and C. Musco, "Recursive Sampling for the Nyström Method",
       NeurIPS 2017, arXiv:1605.07583.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics.pairwise import rbf_kernel
    >>> from lpkernel import Nystroem
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> K = rbf_kernel(X, gamma=0.05)
    >>> Z = Nystroem(n_components=100, gamma=0.05, sampling="rls", random_state=0).fit_transform(X)
    >>> Z.shape
    (300, 100)
    >>> bool(np.abs(Z @ Z.T - K).max() < 0.02)
    True
    >>> exact = Nystroem(n_components=300, gamma=0.5).fit_transform(X)  # m = n: exact
    >>> bool(np.abs(exact @ exact.T - rbf_kernel(X, gamma=0.5)).max() < 1e-10)
    True
    """

    def __init__(self, n_components=100, *, kernel="rbf", gamma=None, coef0=None, degree=None,
                 kernel_params=None, sampling="uniform", landmarks=None, n_jobs=None,
                 random_state=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.coef0 = coef0
        self.degree = degree
        self.kernel_params = kernel_params
        self.sampling = sampling
        self.landmarks = landmarks
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- parameters -----------------------------------------------------------
    def _validate_params(self):
        check_int(self.n_components, "n_components", low=1)
        check_option(self.sampling, "sampling", SAMPLING_MODES)
        check_real(self.gamma, "gamma", low=0.0, allow_none=True)
        check_real(self.coef0, "coef0", allow_none=True)
        check_real(self.degree, "degree", low=1.0, low_inclusive=True, allow_none=True)
        if self.kernel_params is not None and not isinstance(self.kernel_params, dict):
            raise ValueError(f"kernel_params must be a dict or None, got {self.kernel_params!r}.")
        check_n_jobs(self.n_jobs)
        kernel = self.kernel
        if callable(kernel) or kernel == "precomputed":
            if self.gamma is not None or self.coef0 is not None or self.degree is not None:
                raise ValueError(_PARAMS_MESSAGE)
            if kernel == "precomputed" and self.sampling == "kmeans":
                raise ValueError("sampling='kmeans' needs feature vectors; it cannot run on "
                                 "kernel='precomputed'. Use 'uniform' or 'rls'.")
            if kernel == "precomputed" and self.landmarks is not None:
                raise ValueError("landmarks= are feature vectors; they cannot be used with "
                                 "kernel='precomputed'.")
            return
        known = (*kernel_metrics(), *LPKERNEL_KERNELS)
        if not isinstance(kernel, str) or kernel not in known:
            raise ValueError(f"kernel must be a callable, 'precomputed' or one of {known}, "
                             f"got {kernel!r}.")
        if kernel in LPKERNEL_KERNELS:
            _sampling.resolve_kernel_params(kernel, self.kernel_params)

    def _kernel_params(self, n_features):
        """Keyword arguments of the kernel, as scikit-learn's Nystroem builds them."""
        kernel = self.kernel
        params = dict(self.kernel_params or {})
        if callable(kernel) or kernel == "precomputed":
            return params
        if kernel in LPKERNEL_KERNELS:
            params = _sampling.resolve_kernel_params(kernel, self.kernel_params)
            params["gamma"] = 1.0 / n_features if self.gamma is None else float(self.gamma)
            return params
        for name in KERNEL_PARAMS[kernel]:
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        if kernel == "rbf" and params.get("gamma") is None:
            params["gamma"] = 1.0 / n_features
        return params

    def _pairwise(self, A, B=None, params=None):
        """k(A, B) through scikit-learn or lpkernel.kernels (no precomputed here)."""
        kernel = self.kernel
        if isinstance(kernel, str) and kernel in LPKERNEL_KERNELS:
            params = dict(params)
            gamma = params.pop("gamma")
            return shift_invariant_kernel(_dense(A), _dense(B), kernel=kernel, gamma=gamma,
                                          kernel_params=params)
        return pairwise_kernels(_int32_indices(A), _int32_indices(B), metric=kernel,
                                filter_params=True, **params)

    def _kernel_against(self, C, dtype, params, is_sparse):
        """A function mapping a row chunk of X to k(chunk, C), zero-padded to ROW_BLOCK rows."""
        if self.kernel == "rbf" and not is_sparse and not sparse.issparse(C):
            rbf = _RBFAgainst(C, params["gamma"], dtype)
            return lambda chunk: rbf(padded_block(chunk))
        if not callable(self.kernel) and not is_sparse:
            # dense inputs are padded before the kernel's GEMMs, for the same reason
            return lambda chunk: np.asarray(self._pairwise(padded_block(chunk), C, params),
                                            dtype=dtype)
        return lambda chunk: _pad_rows(np.asarray(self._pairwise(chunk, C, params), dtype=dtype))

    # -- landmarks ------------------------------------------------------------
    def _kernel_rows_function(self, X, params):
        """(rows, cols) -> K[rows][:, cols] in float64, for the leverage-score sampler."""
        if self.kernel == "precomputed":
            return lambda rows, cols: np.asarray(_dense(X[rows][:, cols]), dtype=np.float64)
        if self.kernel == "rbf" and not sparse.issparse(X):
            def rows_cols(rows, cols):
                return _RBFAgainst(X[cols], params["gamma"], np.dtype(np.float64))(
                    np.asarray(X[rows], dtype=np.float64))
            return rows_cols
        return lambda rows, cols: np.asarray(self._pairwise(X[rows], X[cols], params),
                                             dtype=np.float64)

    def _kernel_diagonal(self, X, params):
        n = X.shape[0]
        if self.kernel == "precomputed":
            return np.asarray(X.diagonal(), dtype=np.float64)
        if self.kernel in _UNIT_DIAGONAL_KERNELS:
            return np.ones(n)
        if callable(self.kernel):
            return np.array([self._pairwise(X[i:i + 1], X[i:i + 1], params)[0, 0]
                             for i in range(n)], dtype=np.float64)
        diagonal = np.empty(n)
        for start in range(0, n, 256):
            block = X[start:start + 256]
            diagonal[start:start + 256] = np.diagonal(self._pairwise(block, block, params))
        return diagonal

    def _select_landmarks(self, X, n_components, params, rng):
        """(landmarks, indices or None) following ``sampling``."""
        n = X.shape[0]
        if self.sampling == "uniform":
            # scikit-learn's Nystroem draws exactly this: the first m of one permutation
            indices = rng.permutation(n)[:n_components]
        elif self.sampling == "rls":
            indices = recursive_rls_indices(
                n, n_components, self._kernel_rows_function(X, params),
                self._kernel_diagonal(X, params), rng, check_n_jobs(self.n_jobs))
        else:
            from sklearn.cluster import KMeans, kmeans_plusplus
            from sklearn.exceptions import ConvergenceWarning

            seeds, _ = kmeans_plusplus(X, n_components, random_state=rng)
            with warnings.catch_warnings():
                # duplicate rows give duplicate centres; eigenvalue dropping handles them
                warnings.simplefilter("ignore", ConvergenceWarning)
                kmeans = KMeans(n_components, init=seeds, n_init=1,
                                max_iter=KMEANS_LLOYD_ITERATIONS, algorithm="lloyd",
                                random_state=rng).fit(X)
            return np.asarray(kmeans.cluster_centers_, dtype=X.dtype), None
        indices = np.asarray(indices, dtype=np.int64)
        return X[indices], indices

    def _user_landmarks(self, X):
        landmarks = check_array(self.landmarks, dtype=X.dtype, ensure_2d=False,
                                input_name="landmarks")
        if landmarks.ndim != 2 or landmarks.shape[0] == 0 or landmarks.shape[1] != X.shape[1]:
            raise ValueError(
                "landmarks must be a 2-D array of shape (n_landmarks >= 1, "
                f"n_features={X.shape[1]}), got shape {landmarks.shape}."
            )
        return np.array(landmarks, dtype=X.dtype, order="C")

    # -- estimator API ----------------------------------------------------------
    def fit(self, X, y=None):
        """Choose the landmarks and compute K_mm^{-1/2}.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; with ``kernel="precomputed"``, the n x n training kernel.
        y : ignored

        Returns
        -------
        self : Nystroem
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        n_samples = X.shape[0]
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError("kernel='precomputed' needs the square kernel matrix of the "
                             f"training samples at fit, got shape {X.shape}.")
        dtype = X.dtype
        rng = check_random_state(self.random_state)
        params = self._kernel_params(X.shape[1])
        self.__dict__.pop("component_indices_", None)
        if self.landmarks is not None:
            components, indices = self._user_landmarks(X), None
        else:
            n_components = self.n_components
            if n_components > n_samples:
                n_components = n_samples
                warnings.warn(
                    "n_components > n_samples. This is not possible.\n"
                    "n_components was set to n_samples, which results"
                    " in inefficient evaluation of the full kernel.",
                    stacklevel=2,
                )
            components, indices = self._select_landmarks(X, n_components, params, rng)
        # K_mm and its eigendecomposition in float64 whatever X's dtype: an m x m job,
        # and float32 data then lose digits only in the transform
        if self.kernel == "precomputed":
            K_mm = _dense(X[indices][:, indices])
            entry_error = np.finfo(K_mm.dtype).eps * np.abs(K_mm).max()
        elif self.kernel == "rbf" and not sparse.issparse(components):
            # the transform's GEMM form, so that K_mm and k(x, C) carry the same rounding
            rbf = _RBFAgainst(components, params["gamma"], np.dtype(np.float64))
            K_mm = rbf(np.asarray(components, dtype=np.float64))
            np.fill_diagonal(K_mm, 1.0)
            entry_error = rbf.entry_error(np.float64)
        else:
            # Y=None lets scikit-learn evaluate a callable on each pair only once
            K_mm = _dense(self._pairwise(components.astype(np.float64), None, params))
            entry_error = np.finfo(np.float64).eps * np.abs(K_mm).max() if K_mm.size else 0.0
        eigenvectors, inv_sqrt = _symmetric_inverse_sqrt(K_mm, dtype, entry_error)
        m = K_mm.shape[0]
        scaled = eigenvectors * inv_sqrt
        self.normalization_ = np.ascontiguousarray(scaled @ eigenvectors.T, dtype=dtype)
        # with at most half the eigenvalues kept, two thin GEMMs beat one m x m GEMM
        if 2 * inv_sqrt.size < m:
            self._thin_factors = (np.ascontiguousarray(scaled, dtype=dtype),
                                  np.ascontiguousarray(eigenvectors.T, dtype=dtype))
        else:
            self._thin_factors = None
        self.n_dropped_eigenvalues_ = int(m - inv_sqrt.size)
        self.components_ = components
        if indices is not None:
            self.component_indices_ = indices
        self._kernel_call_params = params
        self._n_features_out = m
        return self

    def transform(self, X):
        """Map X to its Nyström features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            With ``kernel="precomputed"``: the kernel between these samples and
            the training samples, of shape (n_samples, n_training_samples).

        Returns
        -------
        Z : ndarray of shape (n_samples, m), in X's float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          reset=False)
        dtype = X.dtype
        n, m = X.shape[0], self._n_features_out
        params = self._kernel_call_params
        if self.kernel == "precomputed":
            columns = self.component_indices_

            def kernel_block(chunk):
                return _pad_rows(np.asarray(_dense(chunk[:, columns]), dtype=dtype))
        else:
            kernel_block = self._kernel_against(self.components_, dtype, params,
                                                sparse.issparse(X))
        if self._thin_factors is None:
            normalization_t = np.ascontiguousarray(self.normalization_.T, dtype=dtype)

            def project(K):
                return K @ normalization_t
            work_width = 2 * m
        else:
            scaled, eigenvectors_t = (f.astype(dtype, copy=False) for f in self._thin_factors)

            def project(K):
                return (K @ scaled) @ eigenvectors_t
            work_width = 2 * m + scaled.shape[1]

        out = np.empty((n, m), dtype=dtype)

        def work(rows):
            out[rows] = project(kernel_block(X[rows]))[: rows.stop - rows.start]

        run_chunks(work, n, _gemm_chunk_rows(n, work_width * dtype.itemsize),
                   check_n_jobs(self.n_jobs))
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
