"""Random Fourier features, in full or real low precision (LP-RFF)."""

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _sampling
from ._chunks import chunk_rows, padded_block, run_chunks
from ._kernels.features import rff_rows
from ._kernels.hadamard import sorf_project
from ._kernels.quantize import packed_row_bytes, work_grid
from ._validation import check_int, check_n_jobs, check_option, check_real, seed_from
from .packed import VALID_BITS, PackedFeatures

FEATURE_TYPES = ("cos", "sincos")
ROUNDING_MODES = ("stochastic", "nearest")
OUTPUT_TYPES = ("dense", "packed")
_MEDIAN_SUBSAMPLE = 1000


def _n_frequencies(features, n_components):
    """Frequencies drawn: m for cos; for sincos, m // 2 pairs plus one cos-with-offset if m is odd."""
    return n_components if features == "cos" else n_components // 2 + n_components % 2


def resolve_n_bits(n_bits):
    """``None``/32 -> 0 (full precision), b in {1, 2, 4, 8, 16} -> b; anything else raises."""
    if n_bits is None or (not isinstance(n_bits, bool) and n_bits == 32):
        return 0
    if isinstance(n_bits, bool) or n_bits not in VALID_BITS:
        raise ValueError(f"n_bits must be None, 32 or one of {VALID_BITS}, got {n_bits!r}.")
    return int(n_bits)


def resolve_gamma(gamma, X, kernel, random_state):
    """Turn ``gamma`` ("scale", "median" or a positive float) into a float.

    "scale" is scikit-learn's 1 / (n_features * X.var()); "median" makes the
    median pairwise distance of (up to 1,000 rows of) X the kernel's length scale:
    gamma = 1 / median(||x - y||^2), or 1 / median(||x - y||_1) for the Laplacian.
    """
    if isinstance(gamma, str):
        check_option(gamma, "gamma", ("scale", "median"))
        if gamma == "scale":
            if sparse.issparse(X):
                var = X.multiply(X).mean() - X.mean() ** 2
            else:
                var = X.var(dtype=np.float64)
            return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        from sklearn.metrics import pairwise_distances

        rng = check_random_state(random_state)
        rows = rng.permutation(X.shape[0])[:_MEDIAN_SUBSAMPLE]
        sample = X[rows]
        metric = "manhattan" if kernel == "laplacian" else "sqeuclidean"
        dist = pairwise_distances(sample, metric=metric)
        median = np.median(dist[np.triu_indices(len(rows), k=1)]) if len(rows) > 1 else 0.0
        return 1.0 / median if median > 0 else 1.0
    return check_real(gamma, "gamma", low=0.0)


def fourier_features(X, project, offset, n_components, *, n_bits, stochastic, packed, seed,
                     chunk_size=None, n_jobs=1):
    """The fused RFF transform of validated X, shared by every random-feature estimator.

    Parameters
    ----------
    X : ndarray or CSR matrix of float32/float64, shape (n, d), validated.
    project : callable, maps a dense (c, d) block to its (c, f) projection.
    offset : ndarray of shape (f,), the phases (zero for sincos pairs).
    n_components : int, m >= f; columns f..m-1 are the sines of the first m - f frequencies.
    n_bits : 0 (float output) or b in {1, 2, 4, 8, 16}.
    stochastic, packed : bool, rounding mode and output form.
    seed : uint64, keys the rounding noise.
    chunk_size, n_jobs : row chunking and threads.

    Returns
    -------
    ndarray of shape (n, m) in X's dtype, or PackedFeatures.
    """
    dtype = X.dtype
    n, m = X.shape[0], n_components
    offset = np.ascontiguousarray(offset, dtype=dtype)
    if not offset.shape[0] <= m <= 2 * offset.shape[0]:  # the kernel indexes by these sizes
        raise ValueError(f"{m} features cannot come from {offset.shape[0]} frequencies.")
    r = float(np.sqrt(2.0 / m))
    low = np.full(m, -r)
    step = np.full(m, 2.0 * r / ((1 << n_bits) - 1 if n_bits else 1))
    grid = work_grid(low, step, max(n_bits, 1), dtype)
    if packed:
        out_packed = np.empty((n, packed_row_bytes(m, n_bits)), dtype=np.uint8)
        out_dense = np.empty((n, 0), dtype=dtype)
    else:
        out_packed = np.empty((n, 0), dtype=np.uint8)
        out_dense = np.empty((n, m), dtype=dtype)
    single = dtype == np.float32

    def work(rows):
        block = padded_block(X[rows])
        projection = project(block)
        count = rows.stop - rows.start
        rff_rows(projection[:count], offset, block.view(np.uint32)[:count], seed, dtype.type(r), single,
                 n_bits, stochastic, *grid, step, low, packed, out_packed[rows], out_dense[rows])

    # a chunk holds the dense input block, the projection and the output rows
    rows_per_chunk = chunk_rows(n, (X.shape[1] + offset.shape[0] + m) * dtype.itemsize, chunk_size)
    run_chunks(work, n, rows_per_chunk, n_jobs)
    if packed:
        return PackedFeatures(out_packed, n_bits, m, low[0], step[0], dtype=dtype)
    return out_dense


class RandomFourierFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Random Fourier features for shift-invariant kernels, optionally in low precision.

    Approximates k(x, y) = kappa(x - y) by z(x)^T z(y) with
    z_j(x) = sqrt(2/m) cos(omega_j^T x + b_j) (Rahimi & Recht 2007), the
    omega_j drawn from the kernel's spectral density by one of several sampling
    schemes. With ``n_bits`` = b in {1, 2, 4, 8, 16} every feature is rounded to
    one of 2^b levels on [-sqrt(2/m), sqrt(2/m)] (LP-RFF, Zhang et al. 2019);
    stochastic rounding keeps the kernel estimate unbiased. ``output="packed"``
    stores the b-bit codes for real: n * m * b / 8 bytes.

    Parameters
    ----------
    n_components : int, default=100
        m, the number of output features (for ``features="sincos"``, m // 2
        frequencies with a cos and a sin each, plus one cos-with-phase feature
        when m is odd, which keeps the estimate unbiased).
    kernel : {"rbf", "laplacian", "matern", "sparse_rbf"}, default="rbf"
        ``rbf``: exp(-gamma ||x-y||^2); ``laplacian``: exp(-gamma ||x-y||_1);
        ``matern``: Matérn with length scale 1/sqrt(2 gamma), smoothness
        ``kernel_params={"nu": 0.5 | 1.5 | 2.5}``; ``sparse_rbf``: mean over
        k-subsets of the features of the rbf kernel on those features,
        ``kernel_params={"n_nonzero": k}`` (May et al. 2019). Closed forms are in
        :mod:`lpkernel.kernels`.
    gamma : "scale", "median" or float > 0, default="scale"
        "scale" is 1 / (n_features * X.var()) as in scikit-learn; "median"
        sets the length scale to the median pairwise distance.
    kernel_params : dict, default=None
        ``nu`` for matern (default 1.5), ``n_nonzero`` for sparse_rbf (default 5).
    sampling : {"iid", "orthogonal", "structured", "circulant", "qmc"}, default="iid"
        How the frequencies are drawn: independently; as orthogonal blocks (ORF);
        as Hadamard–sign products applied by a fast Walsh–Hadamard transform
        (SORF, stores O(m) numbers, slightly biased); as circulant blocks times
        random signs (stores O(m)); or from a scrambled Halton sequence (QMC).
        orthogonal/structured need an isotropic kernel (rbf, matern); qmc does
        not fit sparse_rbf. A scheme that does not fit raises ValueError.
    features : {"cos", "sincos"}, default="cos"
        ``cos``: sqrt(2/m) cos(omega^T x + b). ``sincos``: sqrt(2/m)[cos, sin]
        of m/2 frequencies, lower variance.
    n_bits : {None, 1, 2, 4, 8, 16, 32}, default=None
        None or 32: full precision in the input's float dtype. Otherwise LP-RFF.
    rounding : {"stochastic", "nearest"}, default="stochastic"
        Stochastic rounding is unbiased; its noise is a deterministic function of
        (random_state, the input row's bytes, column), so a row gets the same
        codes in any batch, order, chunking or thread count. ``nearest`` is
        deterministic and biased.
    output : {"dense", "packed"}, default="dense"
        ``dense``: a float array (dequantized values when ``n_bits`` is set) in
        the input's float dtype. ``packed``: a :class:`lpkernel.PackedFeatures`
        holding the b-bit codes; needs ``n_bits`` in {1, 2, 4, 8, 16}.
    chunk_size : int, default=None
        Rows transformed per pass (rounded up to a multiple of 16). By default,
        as many as fit 8 MiB of float work space.
    n_jobs : int, default=None
        Threads over row chunks. None means 1 unless in a
        :func:`joblib.parallel_config` context; -1 means all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the frequencies, the offsets and the rounding noise.

    Attributes
    ----------
    gamma_ : float
        The bandwidth used.
    random_weights_ : ndarray of shape (n_features, n_frequencies)
        The frequencies as columns, for sampling in iid, orthogonal, qmc.
    circulant_vectors_, circulant_signs_ : ndarray of shape (n_blocks, n_features)
        For ``sampling="circulant"``: row r of block k is roll(vector_k, r) * signs_k.
    hadamard_signs_ : ndarray of shape (n_blocks, 3, p)
        For ``sampling="structured"``: the sign diagonals D1, D2, D3 (p = n_features
        rounded up to a power of two).
    frequency_scales_ : ndarray of shape (n_frequencies,)
        For ``sampling="structured"`` (and circulant matern): the per-frequency scale.
    random_offset_ : ndarray of shape (n_frequencies,)
        The phases b_j (zero for the frequencies of sincos pairs).
    quantization_range_ : float
        r = sqrt(2/m): features lie in [-r, r].
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : full-precision iid RFF for the rbf kernel.
    lpkernel.Quantizer : the same low-precision storage for any feature matrix.

    References
    ----------
    .. [1] A. Rahimi and B. Recht, "Random Features for Large-Scale Kernel Machines",
       NeurIPS 2007.
    .. [2] J. Zhang, A. May, T. Dao and C. Ré, "Low-Precision Random Fourier Features
       for Memory-Constrained Kernel Approximation", AISTATS 2019, arXiv:1811.00155.
    .. [3] F. X. Yu et al., "Orthogonal Random Features", NeurIPS 2016.
    .. [4] A. May et al., "Kernel Approximation Methods for Speech Recognition",
       JMLR 20(59), 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics.pairwise import rbf_kernel
    >>> from lpkernel import RandomFourierFeatures
    >>> X = np.random.default_rng(0).normal(size=(200, 5))
    >>> rff = RandomFourierFeatures(n_components=4096, gamma=0.1, n_bits=4, random_state=0)
    >>> Z = rff.fit_transform(X)
    >>> Z.shape, Z.dtype
    ((200, 4096), dtype('float64'))
    >>> bool(np.abs(Z @ Z.T - rbf_kernel(X, gamma=0.1)).mean() < 0.03)
    True
    >>> packed = rff.set_params(output="packed").transform(X)
    >>> packed.nbytes < Z.nbytes / 15
    True
    >>> bool(np.array_equal(packed.to_dense(), Z))
    True
    """

    def __init__(self, n_components=100, *, kernel="rbf", gamma="scale", kernel_params=None,
                 sampling="iid", features="cos", n_bits=None, rounding="stochastic",
                 output="dense", chunk_size=None, n_jobs=None, random_state=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.kernel_params = kernel_params
        self.sampling = sampling
        self.features = features
        self.n_bits = n_bits
        self.rounding = rounding
        self.output = output
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _validate_params(self):
        check_int(self.n_components, "n_components", low=1)
        params = _sampling.resolve_kernel_params(self.kernel, self.kernel_params)
        _sampling.check_sampling(self.kernel, self.sampling)
        check_option(self.features, "features", FEATURE_TYPES)
        n_bits = resolve_n_bits(self.n_bits)
        check_option(self.rounding, "rounding", ROUNDING_MODES)
        check_option(self.output, "output", OUTPUT_TYPES)
        if self.output == "packed" and n_bits == 0:
            raise ValueError(
                f"output='packed' stores b-bit codes: set n_bits to one of {VALID_BITS} "
                f"(got n_bits={self.n_bits!r})."
            )
        check_int(self.chunk_size, "chunk_size", low=1, allow_none=True)
        check_n_jobs(self.n_jobs)
        return params, n_bits

    def fit(self, X, y=None):
        """Draw the frequencies (and offsets) for data shaped like X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Only its shape is used, and its variance when ``gamma="scale"``.
        y : ignored

        Returns
        -------
        self : RandomFourierFeatures
        """
        params, _ = self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        rng = check_random_state(self.random_state)
        self.gamma_ = resolve_gamma(self.gamma, X, self.kernel, rng)
        n_features = X.shape[1]
        n_frequencies = _n_frequencies(self.features, self.n_components)
        for name in ("random_weights_", "circulant_vectors_", "circulant_signs_",
                     "hadamard_signs_", "frequency_scales_", "random_offset_"):
            self.__dict__.pop(name, None)
        drawn = _sampling.draw_frequencies(self.kernel, params, self.gamma_, n_features,
                                           n_frequencies, self.sampling, rng)
        attribute = {"weights": "random_weights_"}
        for key, value in drawn.items():
            setattr(self, attribute.get(key, key + "_"), value)
        self.random_offset_ = rng.uniform(0.0, 2.0 * np.pi, size=n_frequencies)
        if self.features == "sincos":  # paired frequencies need no phase
            self.random_offset_[: self.n_components // 2] = 0.0
        self._noise_seed = seed_from(rng)
        self.quantization_range_ = float(np.sqrt(2.0 / self.n_components))
        self._n_features_out = self.n_components
        self._fitted_structure = {name: getattr(self, name) for name in
                                  ("n_components", "kernel", "kernel_params", "sampling", "features")}
        return self

    # -- projection ---------------------------------------------------------
    def _dense_weights(self, dtype):
        if self.sampling == "circulant":
            n_frequencies = self.random_offset_.shape[0]
            weights = _sampling.circulant_weights(self.circulant_vectors_, self.circulant_signs_,
                                                  n_frequencies)
            if self.kernel == "matern":
                weights = weights * self.frequency_scales_
        else:
            weights = self.random_weights_
        return np.ascontiguousarray(weights, dtype=dtype)

    def _projector(self, dtype):
        """A function mapping a padded dense block (c x d) to its projection (c x f)."""
        if self.sampling == "structured":
            signs = np.ascontiguousarray(self.hadamard_signs_, dtype=dtype)
            scales = np.ascontiguousarray(self.frequency_scales_, dtype=dtype)
            n_frequencies = scales.shape[0]

            def project(block):
                out = np.empty((block.shape[0], n_frequencies), dtype=dtype)
                sorf_project(block, signs, scales, out)
                return out

            return project
        weights = self._dense_weights(dtype)
        return lambda block: block @ weights

    def transform(self, X):
        """Map X to its random Fourier features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components) or PackedFeatures
            A float array in X's float dtype, or with ``output="packed"`` a
            :class:`~lpkernel.PackedFeatures` of b-bit codes.
        """
        check_is_fitted(self)
        _, n_bits = self._validate_params()
        changed = [name for name, value in self._fitted_structure.items() if getattr(self, name) != value]
        if changed:
            raise ValueError(
                f"{', '.join(changed)} changed since fit; call fit again. (n_bits, rounding and "
                "output may change between transforms.)"
            )
        if self.output == "packed" and getattr(self, "_sklearn_output_config", {}).get(
                "transform", "default") != "default":
            raise ValueError("output='packed' returns PackedFeatures, which set_output cannot wrap; "
                             "use output='dense' with set_output.")
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        return fourier_features(
            X, self._projector(X.dtype), self.random_offset_, self.n_components, n_bits=n_bits,
            stochastic=self.rounding == "stochastic", packed=self.output == "packed",
            seed=self._noise_seed, chunk_size=self.chunk_size, n_jobs=check_n_jobs(self.n_jobs))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
