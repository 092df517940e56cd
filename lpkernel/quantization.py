"""Low-precision storage for any feature matrix: clipping range, rotation, rounding.

DESIGN §3. The :class:`Quantizer` rounds any float features (Nyström, embeddings,
anything) to b-bit codes with the same Numba kernels, the same content-keyed
stochastic rounding and the same :class:`~lpkernel.PackedFeatures` as LP-RFF.
"""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._chunks import chunk_rows, padded_block, run_chunks
from ._validation import check_int, check_n_jobs, check_option, check_real, seed_from
from .packed import VALID_BITS, PackedFeatures
from .random_features import OUTPUT_TYPES, ROUNDING_MODES, resolve_n_bits

CLIP_RULES = ("maxabs", "adaptive")
ROTATIONS = ("orthogonal", "hadamard")
#: Rows the adaptive range search looks at (drawn with ``random_state``): the
#: optimum range is a one-dimensional statistic per column, well estimated
#: from a few thousand rows, and the search costs O(rows * columns) per step.
ADAPTIVE_MAX_ROWS = 5000
_ADAPTIVE_GRID = 16  # coarse log-spaced scan before the golden-section search
_GOLDEN_STEPS = 16  # shrinks the log-range bracket (width log 2) to 5e-4 of it
_COLUMN_BLOCK = 512  # columns per pass of the range search, to bound work space


# -- rotation -----------------------------------------------------------------
def _power_of_two_blocks(m):
    """(start, size) of the power-of-two blocks of m's binary expansion, largest first."""
    blocks, start = [], 0
    for bit in range(m.bit_length() - 1, -1, -1):
        size = 1 << bit
        if m & size:
            blocks.append((start, size))
            start += size
    return blocks


def hadamard_rotate(X, signs, permutations):
    """Apply the randomized Hadamard rotation to the rows of ``X`` (returns a new array).

    Each round r maps a row x to ``H_blocks(x[perm_r] * signs_r)``, with
    ``H_blocks`` the normalized Walsh–Hadamard transform applied separately to
    the power-of-two blocks of the binary expansion of m (one block when m is a
    power of two). Every factor is orthogonal, so the rotation is; it costs
    O(m log m) per row and keeps m columns (no padding).

    Parameters
    ----------
    X : ndarray of shape (n, m), float32 or float64
    signs : ndarray of shape (n_rounds, m), entries +-1
    permutations : ndarray of shape (n_rounds, m) of int, or None
        One permutation of the columns per round; None means no permutation.

    Returns
    -------
    ndarray of shape (n, m), X's dtype
    """
    from ._kernels.hadamard import fwht_rows

    out = np.array(X, order="C", copy=True)
    blocks = _power_of_two_blocks(out.shape[1])
    for r in range(signs.shape[0]):
        if permutations is not None:
            out = out[:, permutations[r]]
        out *= signs[r].astype(out.dtype)
        for start, size in blocks:
            if len(blocks) == 1:
                fwht_rows(out)  # the whole row is one contiguous power-of-two block
            else:
                block = np.ascontiguousarray(out[:, start:start + size])
                fwht_rows(block)
                out[:, start:start + size] = block
            out[:, start:start + size] *= out.dtype.type(1.0 / np.sqrt(size))
    return out


def _haar_orthogonal(m, rng):
    """A Haar-distributed random orthogonal m x m matrix (QR of a Gaussian, sign fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((m, m)))
    return q * np.sign(np.diag(r))


# -- clipping range -------------------------------------------------------------
def _nearest_error(X, r, levels):
    """Column sums of (X - Q_r(X))^2 under nearest rounding on [-r_j, r_j] (X is n x k, r is k)."""
    step = 2.0 * r / levels
    inv_step = np.divide(1.0, step, out=np.zeros_like(step), where=step > 0)
    # in place, one work array: q = clip(floor((x + r) / s + 1/2)), error = x - (q s - r)
    work = X * inv_step
    work += r * inv_step + 0.5
    np.floor(work, out=work)
    np.clip(work, 0.0, levels, out=work)
    work *= step
    work -= r
    work -= X
    return np.einsum("ij,ij->j", work, work)


def adaptive_range(X, n_bits, maxabs):
    """Per-column ranges r minimizing ||x - Q_r(x)||^2 under nearest rounding.

    A coarse scan over r = maxabs * 2^(-k/2), k = 0..15, brackets the best
    range, then a golden-section search refines it inside the bracket (a
    bounded scalar search, vectorized over columns). The result is never worse
    than the scan's best point, which includes maxabs itself.

    Parameters
    ----------
    X : ndarray of shape (n, k), float64
    n_bits : int in {1, 2, 4, 8, 16}
    maxabs : ndarray of shape (k,), max |X| per column (all > 0)

    Returns
    -------
    ndarray of shape (k,)
    """
    levels = float((1 << n_bits) - 1)
    factors = 2.0 ** (-0.5 * np.arange(_ADAPTIVE_GRID))
    grid = maxabs[None, :] * factors[:, None]  # (G, k)
    errors = np.stack([_nearest_error(X, grid[g], levels) for g in range(_ADAPTIVE_GRID)])
    best_index = errors.argmin(axis=0)
    columns = np.arange(X.shape[1])
    best_r = grid[best_index, columns]
    best_err = errors[best_index, columns]
    # bracket [r_{k+1}, r_{k-1}] around the scan's best r_k, searched in log r
    lo = np.log(maxabs * factors[np.minimum(best_index + 1, _ADAPTIVE_GRID - 1)])
    hi = np.log(maxabs * factors[np.maximum(best_index - 1, 0)])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _nearest_error(X, np.exp(c), levels), _nearest_error(X, np.exp(d), levels)
    for _ in range(_GOLDEN_STEPS):
        left = fc <= fd  # the minimum lies in [a, d], else in [c, b]
        a, b = np.where(left, a, c), np.where(left, d, b)
        kept, f_kept = np.where(left, c, d), np.where(left, fc, fd)
        probe = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_probe = _nearest_error(X, np.exp(probe), levels)
        c, fc = np.where(left, probe, kept), np.where(left, f_probe, f_kept)
        d, fd = np.where(left, kept, probe), np.where(left, f_kept, f_probe)
    for point, value in ((c, fc), (d, fd)):
        better = value < best_err
        best_r = np.where(better, np.exp(point), best_r)
        best_err = np.where(better, value, best_err)
    return best_r


class Quantizer(OneToOneFeatureMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                BaseEstimator):
    """Store any feature matrix in b-bit low precision, optionally after a random rotation.

    Each column j is rounded to one of 2^b levels on [-r_j, r_j] (step
    s_j = 2 r_j / (2^b - 1)), with the same kernels, noise rule and packed
    format as LP-RFF (DESIGN §3; Zhang et al. 2019). Stochastic rounding is
    unbiased for values inside the range; values outside are clipped to it.
    The noise of entry (i, j) is a deterministic function of (random_state,
    the bytes of input row i, j), so a row gets the same codes in any batch,
    order or chunking.

    Kernel approximations use only Z Z^T, and (Z R)(Z R)^T = Z Z^T for an
    orthogonal R. With ``rotate``, a fixed seeded random rotation is applied
    before rounding: it evens out the columns' ranges of heavy-tailed
    features (Nyström's first columns carry most of the energy), so low bit
    widths lose much less while the approximated kernel is unchanged.

    Parameters
    ----------
    n_bits : {1, 2, 4, 8, 16, 32}, default=8
        Bits per stored value. 32 (or None) keeps full precision: the output is
        the (rotated) input in its own float dtype.
    rounding : {"stochastic", "nearest"}, default="stochastic"
        Stochastic rounding is unbiased; ``nearest`` is deterministic and biased.
    clip : "maxabs", "adaptive" or float > 0, default="maxabs"
        The range r: ``maxabs`` takes max |x| of the training data;
        ``adaptive`` the r minimizing ||X - Q_r(X)||_F^2 under nearest rounding,
        which trades clipping of rare large values for a finer step (a coarse
        scan plus a golden-section search over r in (0, maxabs], on at most
        5,000 training rows drawn with ``random_state``; never worse than
        maxabs, and a local search: the objective is bumpy on the scale of one
        step); a number is used as is.
    per_feature : bool, default=True
        One range per column (True) or one for the whole matrix (False).
    rotate : {None, "orthogonal", "hadamard"}, default=None
        ``orthogonal``: a Haar-random dense m x m rotation (O(m^2) per row,
        m^2 stored numbers). ``hadamard``: random signs followed by the
        normalized fast Walsh–Hadamard transform, O(m log m) per row and O(m)
        stored numbers. When m is not a power of two, the columns are split into
        the power-of-two blocks of m's binary expansion and two rounds of
        (random permutation, random signs, blockwise Hadamard) are applied,
        so the output keeps exactly m columns (no padding).
    output : {"dense", "packed"}, default="dense"
        ``dense``: the dequantized (rotated) values as a float array in the
        input's dtype. ``packed``: a :class:`~lpkernel.PackedFeatures` holding
        the b-bit codes (n * m * b / 8 bytes); needs n_bits <= 16.
    chunk_size : int, default=None
        Rows transformed per pass (rounded up to a multiple of 16); by default as
        many as fit 8 MiB of float work space.
    n_jobs : int, default=None
        Threads over row chunks (None means 1; -1 all cores).
    random_state : int, RandomState instance or None, default=None
        Seeds the rotation, the rows the adaptive search sees and the rounding noise.

    Attributes
    ----------
    clip_range_ : ndarray of shape (n_features,) or float
        r per column (``per_feature=True``) or one r; None when n_bits is 32.
        A column of zeros gets r = 0 and is stored as exact zeros.
    rotation_ : ndarray of shape (n_features, n_features)
        The orthogonal matrix, for ``rotate="orthogonal"``.
    hadamard_signs_ : ndarray of shape (n_rounds, n_features)
        For ``rotate="hadamard"``: the random signs of each round.
    hadamard_permutations_ : ndarray of shape (n_rounds, n_features) or None
        For ``rotate="hadamard"`` when n_features is not a power of two.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.

    See Also
    --------
    lpkernel.RandomFourierFeatures : LP-RFF, which quantizes inside the feature map.
    lpkernel.memory.feature_memory : the bits a fitted map and its features take.

    References
    ----------
    .. [1] J. Zhang, A. May, T. Dao and C. Ré, "Low-Precision Random Fourier Features
       for Memory-Constrained Kernel Approximation", AISTATS 2019, arXiv:1811.00155.
    .. [2] N. Ailon and B. Chazelle, "The Fast Johnson–Lindenstrauss Transform and
       Approximate Nearest Neighbors", SIAM J. Comput. 39(1), 2009 (randomized Hadamard).

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import Quantizer
    >>> Z = np.random.default_rng(0).standard_t(3, size=(500, 64))
    >>> q = Quantizer(n_bits=4, rotate="hadamard", random_state=0).fit(Z)
    >>> Zq = q.transform(Z)
    >>> Zq.shape, Zq.dtype
    ((500, 64), dtype('float64'))
    >>> def kernel_error(Zq):
    ...     return np.linalg.norm(Z @ Z.T - Zq @ Zq.T) / np.linalg.norm(Z @ Z.T)
    >>> plain = Quantizer(n_bits=4, random_state=0).fit_transform(Z)
    >>> bool(kernel_error(Zq) < kernel_error(plain) / 2)  # rotation evens out heavy tails
    True
    >>> packed = q.set_params(output="packed").transform(Z)
    >>> packed.codes.nbytes == 500 * 64 * 4 // 8
    True
    >>> bool(np.array_equal(packed.to_dense(), Zq))
    True
    """

    def __init__(self, n_bits=8, *, rounding="stochastic", clip="maxabs", per_feature=True,
                 rotate=None, output="dense", chunk_size=None, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.rounding = rounding
        self.clip = clip
        self.per_feature = per_feature
        self.rotate = rotate
        self.output = output
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _validate_params(self):
        n_bits = resolve_n_bits(self.n_bits)
        check_option(self.rounding, "rounding", ROUNDING_MODES)
        if isinstance(self.clip, str):
            check_option(self.clip, "clip", CLIP_RULES)
        else:
            try:
                check_real(self.clip, "clip", low=0.0)
            except ValueError:
                raise ValueError(
                    f"clip must be one of {CLIP_RULES} or a finite number > 0, got {self.clip!r}."
                ) from None
        if not isinstance(self.per_feature, (bool, np.bool_)):
            raise ValueError(f"per_feature must be True or False, got {self.per_feature!r}.")
        if self.rotate is not None:
            check_option(self.rotate, "rotate", ROTATIONS)
        check_option(self.output, "output", OUTPUT_TYPES)
        if self.output == "packed" and n_bits == 0:
            raise ValueError(
                f"output='packed' stores b-bit codes: set n_bits to one of {VALID_BITS} "
                f"(got n_bits={self.n_bits!r})."
            )
        check_int(self.chunk_size, "chunk_size", low=1, allow_none=True)
        check_n_jobs(self.n_jobs)
        return n_bits

    # -- fit ---------------------------------------------------------------------
    def fit(self, X, y=None):
        """Draw the rotation and learn the clipping range from X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The features to be stored, e.g. the output of a Nyström map. Sparse
            rows are densified chunk by chunk.
        y : ignored

        Returns
        -------
        self : Quantizer
        """
        n_bits = self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        rng = check_random_state(self.random_state)
        m = X.shape[1]
        for name in ("rotation_", "hadamard_signs_", "hadamard_permutations_"):
            self.__dict__.pop(name, None)
        if self.rotate == "orthogonal":
            self.rotation_ = _haar_orthogonal(m, rng)
        elif self.rotate == "hadamard":
            power_of_two = m & (m - 1) == 0
            n_rounds = 1 if power_of_two else 2
            self.hadamard_signs_ = rng.choice([-1.0, 1.0], size=(n_rounds, m))
            self.hadamard_permutations_ = (
                None if power_of_two else np.stack([rng.permutation(m) for _ in range(n_rounds)])
            )
        self._noise_seed = seed_from(rng)
        self._n_features_out = m
        self.clip_range_ = None if n_bits == 0 else self._fit_range(X, n_bits, rng)
        return self

    def _fit_range(self, X, n_bits, rng):
        n, m = X.shape
        if not isinstance(self.clip, str):
            value = float(self.clip)
            return np.full(m, value) if self.per_feature else value
        # max |ZR| over all rows, one chunk of rotated rows at a time
        maxabs = np.zeros(m)
        rotate = self._rotator(X.dtype)
        rows_per_chunk = chunk_rows(n, 2 * m * X.dtype.itemsize, self.chunk_size)
        for start in range(0, n, rows_per_chunk):
            block = rotate(padded_block(X[start:start + rows_per_chunk]))
            block = block[: min(rows_per_chunk, n - start)]
            maxabs = np.maximum(maxabs, np.abs(block).max(axis=0, initial=0.0))
        if not self.per_feature:
            maxabs = np.array([maxabs.max()])
        if self.clip == "maxabs":
            return maxabs if self.per_feature else float(maxabs[0])
        rows = np.sort(rng.permutation(n)[:ADAPTIVE_MAX_ROWS])
        sample = np.asarray(rotate(padded_block(X[rows]))[: len(rows)], dtype=np.float64)
        if not self.per_feature:
            sample = sample.reshape(-1, 1)
        ranges = np.zeros_like(maxabs)
        for start in range(0, maxabs.shape[0], _COLUMN_BLOCK):
            cols = slice(start, start + _COLUMN_BLOCK)
            nonzero = maxabs[cols] > 0
            if nonzero.any():
                chosen = adaptive_range(np.ascontiguousarray(sample[:, cols][:, nonzero]),
                                        n_bits, maxabs[cols][nonzero])
                ranges[cols][nonzero] = chosen
        return ranges if self.per_feature else float(ranges[0])

    # -- transform -----------------------------------------------------------------
    def _rotator(self, dtype):
        """A function mapping a dense C-contiguous block (c x m) of ``dtype`` to its rotation."""
        if self.rotate == "orthogonal":
            rotation = np.ascontiguousarray(self.rotation_, dtype=dtype)  # cast once, not per chunk
            return lambda block: block @ rotation
        if self.rotate == "hadamard":
            signs = self.hadamard_signs_.astype(dtype)
            return lambda block: hadamard_rotate(block, signs, self.hadamard_permutations_)
        return lambda block: block

    def _grid(self, n_bits, m):
        """low and step per column (float64); a zero range stores exact zeros."""
        r = np.broadcast_to(np.asarray(self.clip_range_, dtype=np.float64), (m,))
        step = 2.0 * r / ((1 << n_bits) - 1)
        return np.ascontiguousarray(-r), np.ascontiguousarray(step)

    def transform(self, X):
        """Rotate (if set) and quantize X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features) or PackedFeatures
            Dequantized values in X's float dtype, or with ``output="packed"`` a
            :class:`~lpkernel.PackedFeatures` of b-bit codes.
        """
        from ._kernels.quantize import packed_row_bytes, quantize_rows, work_grid

        check_is_fitted(self)
        n_bits = self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          reset=False)
        dtype = X.dtype
        n, m = X.shape
        packed = self.output == "packed"
        if n_bits == 0:
            low = step = grid = None
        else:
            low, step = self._grid(n_bits, m)
            grid = work_grid(low, step, n_bits, dtype)
        if packed:
            out_packed = np.empty((n, packed_row_bytes(m, n_bits)), dtype=np.uint8)
            out_dense = np.empty((n, 0), dtype=dtype)
        else:
            out_packed = np.empty((n, 0), dtype=np.uint8)
            out_dense = np.empty((n, m), dtype=dtype)
        seed = self._noise_seed
        stochastic = self.rounding == "stochastic"
        rotate = self._rotator(dtype)

        def work(rows):
            block = padded_block(X[rows])
            count = rows.stop - rows.start
            values = np.ascontiguousarray(rotate(block)[:count])
            if n_bits == 0:
                out_dense[rows] = values
                return
            quantize_rows(values, block.view(np.uint32)[:count], seed, *grid, step, low, n_bits, stochastic,
                          packed, out_packed[rows], out_dense[rows])

        rows_per_chunk = chunk_rows(n, 3 * m * dtype.itemsize, self.chunk_size)
        run_chunks(work, n, rows_per_chunk, check_n_jobs(self.n_jobs))
        if packed:
            grid_low = low[0] if not self.per_feature else low
            grid_step = step[0] if not self.per_feature else step
            return PackedFeatures(out_packed, n_bits, m, grid_low, grid_step, dtype=dtype)
        return out_dense

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the input names without rotation, ``quantizer{i}`` with it.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "n_features_in_")
        if self.rotate is None:  # each output column is its input column, rounded
            return OneToOneFeatureMixin.get_feature_names_out(self, input_features)
        return ClassNamePrefixFeaturesOutMixin.get_feature_names_out(self, input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
