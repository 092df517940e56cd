"""Row chunks sized by a memory cap, run in threads (the kernels release the GIL)."""

from contextlib import nullcontext

import numpy as np
from joblib import Parallel, delayed

#: Bytes of float work space one chunk may use when ``chunk_size=None``.
DEFAULT_CHUNK_BYTES = 8 * 2**20
#: Chunks are a multiple of this many rows, and short chunks are zero padded to
#: it: BLAS picks other kernels (GEMV, small-matrix paths) for 1 to 3 rows, whose
#: last bits differ, and rounding must see the same projection for a row in any chunk.
ROW_BLOCK = 16


def chunk_rows(n_rows, bytes_per_row, chunk_size=None, max_bytes=DEFAULT_CHUNK_BYTES):
    """Rows per chunk: ``chunk_size`` or what fits ``max_bytes``, rounded up to ROW_BLOCK."""
    if chunk_size is None:
        chunk_size = max(1, int(max_bytes // max(bytes_per_row, 1)))
    chunk_size = -(-int(chunk_size) // ROW_BLOCK) * ROW_BLOCK
    return max(ROW_BLOCK, min(chunk_size, -(-n_rows // ROW_BLOCK) * ROW_BLOCK))


def padded_block(X_chunk):
    """``X_chunk`` as a C-contiguous dense array with rows padded to a multiple of ROW_BLOCK.

    Negative zeros become +0.0: rounding noise is keyed by a row's bytes, and -0.0 == 0.0
    (a sparse matrix, for one, only ever stores +0.0).
    """
    if hasattr(X_chunk, "toarray"):
        X_chunk = X_chunk.toarray()
    n = X_chunk.shape[0]
    padded_n = -(-n // ROW_BLOCK) * ROW_BLOCK
    if padded_n == n:
        block = np.ascontiguousarray(X_chunk)
    else:
        block = np.zeros((padded_n, X_chunk.shape[1]), dtype=X_chunk.dtype)
        block[:n] = X_chunk
    if np.signbit(block[block == 0]).any():
        block = block + 0.0  # -0.0 + 0.0 is +0.0; a copy, so the caller's X is untouched
    return block


def run_chunks(func, n_rows, rows_per_chunk, n_jobs):
    """Call ``func(slice)`` for every row chunk, over ``n_jobs`` threads.

    ``func`` writes into its own rows of a preallocated output, so threads
    never share a buffer. With several threads BLAS is held to one thread each,
    so the cores are not oversubscribed.
    """
    slices = [slice(s, min(s + rows_per_chunk, n_rows)) for s in range(0, n_rows, rows_per_chunk)]
    if n_jobs == 1 or len(slices) == 1:
        for sl in slices:
            func(sl)
        return
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(1, user_api="blas") if n_jobs > 1 else nullcontext()
    with limits:
        Parallel(n_jobs=min(n_jobs, len(slices)), require="sharedmem")(
            delayed(func)(sl) for sl in slices
        )
