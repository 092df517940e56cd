"""Input handling shared by the learners: packed, dense or sparse features, read in row chunks."""

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from .._chunks import DEFAULT_CHUNK_BYTES
from ..packed import PackedFeatures

FLOAT_DTYPES = (np.float64, np.float32)


def check_features(estimator, X, *, reset):
    """Validate X at the boundary and return it: PackedFeatures as they are, arrays as floats.

    A :class:`~lpkernel.PackedFeatures` is never turned into a float matrix
    here: only its shape (and the absence of feature names) is checked, so the
    learners can read it chunk by chunk. Dense and CSR input go through
    scikit-learn's ``validate_data`` (finite, 2-D, non-empty, float64/float32).
    """
    if isinstance(X, PackedFeatures):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(
                f"Found PackedFeatures with shape {X.shape}: at least one sample and one "
                "feature are required."
            )
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        return X
    return validate_data(estimator, X, accept_sparse="csr", dtype=list(FLOAT_DTYPES),
                         reset=reset)


def check_y_given(estimator, y):
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target "
                         "y is None.")


def features_dtype(X):
    """The float dtype the learners compute in: PackedFeatures.dtype or the array's."""
    return np.dtype(X.dtype)


def dense_rows(X, rows, dtype, copy=False):
    """Rows of X as a C-contiguous float block (dequantized by the Numba kernel when packed).

    ``copy=True`` guarantees a fresh array the caller may modify in place.
    """
    if isinstance(X, PackedFeatures):
        return X.to_dense(rows, dtype=dtype)
    block = X[rows]
    if sparse.issparse(block):
        return np.ascontiguousarray(block.toarray(), dtype=dtype)
    if copy:
        return np.array(block, dtype=dtype, order="C", copy=True)
    return np.ascontiguousarray(block, dtype=dtype)


def rows_per_chunk(n_features, dtype, chunk_size=None, max_bytes=DEFAULT_CHUNK_BYTES):
    """``chunk_size`` or the rows whose floats fit ``max_bytes`` (at least 1)."""
    if chunk_size is not None:
        return int(chunk_size)
    return max(1, int(max_bytes // (n_features * np.dtype(dtype).itemsize)))


def iter_slices(n_rows, chunk):
    for start in range(0, n_rows, chunk):
        yield slice(start, min(start + chunk, n_rows))


def linear_scores(X, coef, intercept, dtype, chunk_size=None):
    """X @ coef + intercept, dequantizing PackedFeatures one chunk at a time.

    ``coef`` is (n_features, n_outputs); returns (n_samples, n_outputs) in ``dtype``.
    """
    coef = np.asarray(coef, dtype=dtype)
    if not isinstance(X, PackedFeatures):
        scores = np.asarray(X @ coef, dtype=dtype)
        scores += intercept
        return scores
    n = X.shape[0]
    scores = np.empty((n, coef.shape[1]), dtype=dtype)
    for rows in iter_slices(n, rows_per_chunk(X.shape[1], dtype, chunk_size)):
        np.matmul(X.to_dense(rows, dtype=dtype), coef, out=scores[rows])
    scores += intercept
    return scores
