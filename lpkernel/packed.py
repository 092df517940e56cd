"""PackedFeatures: a feature matrix stored as real b-bit codes (DESIGN §3)."""

import numbers

import numpy as np

from ._kernels.quantize import dequantize_packed, packed_row_bytes, unpack_codes

VALID_BITS = (1, 2, 4, 8, 16)


class PackedFeatures:
    """An n x m feature matrix held as bit-packed b-bit codes plus the map back to floats.

    Entry (i, j) stands for the value ``low[j] + code_ij * step[j]``. The codes
    take ``n * ceil(m * b / 8)`` bytes, i.e. n * m * b / 8 whenever m * b is a
    multiple of 8; the grid adds O(1) (LP-RFF: one scalar each) or O(m) (a
    per-column :class:`lpkernel.Quantizer`) floats.

    ``PackedFeatures`` are what ``output="packed"`` transformers return. They
    slice by rows, convert to dense in chunks, pickle, and act as arrays
    (``np.asarray(P)`` dequantizes), so any scikit-learn estimator accepts them.

    Parameters
    ----------
    codes : ndarray of uint8, shape (n_samples, ceil(n_features * n_bits / 8))
        The packed rows (layout in :mod:`lpkernel._kernels.quantize`).
    n_bits : {1, 2, 4, 8, 16}
    n_features : int
        m, the number of columns.
    low, step : float or ndarray of shape (n_features,)
        The value of code 0 and the spacing of the grid.
    dtype : {np.float32, np.float64}, default=np.float64
        The float type that :meth:`to_dense` returns by default.

    Attributes
    ----------
    shape : tuple (n_samples, n_features)
    nbytes : int
        Bytes held: the codes plus the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import PackedFeatures
    >>> P = PackedFeatures.from_codes(np.array([[0, 3, 1], [2, 2, 0]]), n_bits=2, low=-1.0, step=2 / 3)
    >>> P.shape, P.codes.shape
    ((2, 3), (2, 1))
    >>> P.to_dense().round(3)
    array([[-1.   ,  1.   , -0.333],
           [ 0.333,  0.333, -1.   ]])
    >>> P[1:].to_dense(dtype=np.float32).dtype
    dtype('float32')
    """

    __array_priority__ = 10

    def __init__(self, codes, n_bits, n_features, low, step, dtype=np.float64):
        if n_bits not in VALID_BITS:
            raise ValueError(f"n_bits must be one of {VALID_BITS}, got {n_bits!r}.")
        codes = np.asarray(codes)
        if codes.dtype != np.uint8:
            raise ValueError(f"codes must be packed bytes (uint8), got {codes.dtype}; "
                             "use PackedFeatures.from_codes for integer codes.")
        codes = np.ascontiguousarray(codes)
        expected = packed_row_bytes(int(n_features), n_bits)
        if codes.ndim != 2 or codes.shape[1] != expected:
            raise ValueError(
                f"codes must have shape (n_samples, {expected}) for {n_features} features "
                f"at {n_bits} bits, got {codes.shape}."
            )
        self.codes = codes
        self.n_bits = int(n_bits)
        self.n_features = int(n_features)
        self.low = np.broadcast_to(np.asarray(low, dtype=np.float64), (self.n_features,))
        self.step = np.broadcast_to(np.asarray(step, dtype=np.float64), (self.n_features,))
        self.dtype = np.dtype(dtype)

    @classmethod
    def from_codes(cls, codes, n_bits, low, step, dtype=np.float64):
        """Pack integer codes (n x m, each in [0, 2**n_bits - 1]) into a PackedFeatures."""
        from ._kernels.quantize import pack_codes

        codes = np.asarray(codes)
        if codes.ndim != 2:
            raise ValueError(f"codes must be 2-D, got shape {codes.shape}.")
        if n_bits not in VALID_BITS:
            raise ValueError(f"n_bits must be one of {VALID_BITS}, got {n_bits!r}.")
        if codes.size and (codes.min() < 0 or codes.max() >= 2**n_bits):
            raise ValueError(f"codes must lie in [0, {2**n_bits - 1}] for n_bits={n_bits}.")
        n, m = codes.shape
        out = np.zeros((n, packed_row_bytes(m, n_bits)), dtype=np.uint8)
        pack_codes(np.ascontiguousarray(codes, dtype=np.uint16), n_bits, out)
        return cls(out, n_bits, m, low, step, dtype=dtype)

    # -- array-like surface -------------------------------------------------
    @property
    def shape(self):
        return (self.codes.shape[0], self.n_features)

    @property
    def ndim(self):
        return 2

    @property
    def nbytes(self):
        """Bytes held: codes, plus the grid (stored once when it is a scalar)."""
        grid = 0
        for a in (self.low, self.step):
            grid += a.itemsize if a.strides == (0,) else a.nbytes
        return int(self.codes.nbytes + grid)

    def __len__(self):
        return self.codes.shape[0]

    def __getitem__(self, rows):
        """Select rows (int, slice, integer array or boolean mask); returns PackedFeatures."""
        if isinstance(rows, tuple):
            raise IndexError(
                "PackedFeatures supports row selection only; use P.to_dense()[:, cols] for columns."
            )
        if isinstance(rows, numbers.Integral):
            rows = slice(rows, rows + 1) if rows != -1 else slice(-1, None)
            if len(range(*rows.indices(len(self)))) == 0:
                raise IndexError(f"row index out of range for {len(self)} rows.")
        return PackedFeatures(self.codes[rows], self.n_bits, self.n_features,
                              self.low, self.step, self.dtype)

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("PackedFeatures cannot be viewed as a float array without a copy.")
        return self.to_dense(dtype=dtype)

    def __repr__(self):
        n, m = self.shape
        return (f"PackedFeatures(shape=({n}, {m}), n_bits={self.n_bits}, "
                f"nbytes={self.nbytes}, dtype={self.dtype.name})")

    def __eq__(self, other):
        if not isinstance(other, PackedFeatures):
            return NotImplemented
        return (self.n_bits == other.n_bits and self.n_features == other.n_features
                and np.array_equal(self.codes, other.codes)
                and np.array_equal(self.low, other.low) and np.array_equal(self.step, other.step))

    __hash__ = None

    def __getstate__(self):
        # store the grid compactly: a broadcast scalar pickles as one float
        state = dict(self.__dict__)
        for name in ("low", "step"):
            a = state[name]
            state[name] = a[:1].copy() if a.strides == (0,) and a.size else np.array(a)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("low", "step"):
            self.__dict__[name] = np.broadcast_to(state[name], (self.n_features,))

    # -- conversion ---------------------------------------------------------
    def _rows(self, rows):
        """The packed bytes of ``rows`` as a 2-D C-contiguous array (an int selects one row)."""
        if rows is None:
            return self.codes
        if isinstance(rows, numbers.Integral):
            return self[rows].codes
        return np.ascontiguousarray(self.codes[rows])

    def codes_unpacked(self, rows=None):
        """The integer codes (n x m uint16) of ``rows`` (default: all)."""
        packed = self._rows(rows)
        out = np.empty((packed.shape[0], self.n_features), dtype=np.uint16)
        unpack_codes(np.ascontiguousarray(packed), self.n_bits, out)
        return out

    def to_dense(self, rows=None, dtype=None, out=None):
        """Dequantize ``rows`` (default: all) to floats, ``low + code * step``.

        Parameters
        ----------
        rows : slice, int array or bool mask, default=None
        dtype : float dtype, default=self.dtype
        out : ndarray, default=None
            Preallocated C-contiguous output of the right shape and dtype.
        """
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"to_dense returns float32 or float64, got {dtype}.")
        packed = self._rows(rows)
        shape = (packed.shape[0], self.n_features)
        if out is None:
            out = np.empty(shape, dtype=dtype)
        elif out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous {dtype} array of shape {shape}.")
        dequantize_packed(packed, self.n_bits,
                          np.ascontiguousarray(self.low), np.ascontiguousarray(self.step), out)
        return out

    def iter_dense(self, chunk_size=4096, dtype=None):
        """Yield ``(row_slice, dense_chunk)`` pairs, holding one chunk of floats at a time."""
        n = len(self)
        for start in range(0, n, chunk_size):
            rows = slice(start, min(start + chunk_size, n))
            yield rows, self.to_dense(rows, dtype=dtype)
