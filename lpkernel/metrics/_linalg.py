"""A blocked, in-place Cholesky factorization for the large kernel matrices of the metrics.

LAPACK's ``dpotrf`` as shipped in the OpenBLAS wheels of NumPy/SciPy crashes
(segmentation fault) on large matrices with more than one thread: seen here at
n = 20,000 with 2 threads, from both ``numpy.linalg.cholesky`` and
``scipy.linalg.lapack.dpotrf``; the crash is in its threaded SYRK update
(OpenBLAS issues #352, #1413, #2562, #2821). The right-looking blocked
algorithm below calls ``dpotrf`` only on small diagonal blocks and does the
rest with ``dtrsm``, ``dgemm`` and block-sized ``dsyrk``, in place, with SciPy's BLAS/LAPACK (the
``scipy.linalg.cython_blas`` / ``cython_lapack`` entry points, reached through
``numba.extending.get_cython_function_address`` and ctypes, because the
f2py wrappers cannot write into a sub-block of a larger array). It does the
same n^3 / 3 flops as ``dpotrf`` at about the same speed.
"""

import ctypes
from functools import lru_cache

import numpy as np
from scipy.linalg import blas

#: Columns per block: small enough to keep dpotrf far from the sizes where it
#: crashes, large enough for dgemm to run at full speed.
CHOLESKY_BLOCK = 512


@lru_cache(maxsize=None)
def _routines():
    from numba.extending import get_cython_function_address

    pointer, char = ctypes.c_void_p, ctypes.c_char_p
    dgemm = ctypes.CFUNCTYPE(None, char, char, *[pointer] * 11)(
        get_cython_function_address("scipy.linalg.cython_blas", "dgemm"))
    dsyrk = ctypes.CFUNCTYPE(None, char, char, *[pointer] * 8)(
        get_cython_function_address("scipy.linalg.cython_blas", "dsyrk"))
    dtrsm = ctypes.CFUNCTYPE(None, char, char, char, char, *[pointer] * 7)(
        get_cython_function_address("scipy.linalg.cython_blas", "dtrsm"))
    dpotrf = ctypes.CFUNCTYPE(None, char, *[pointer] * 4)(
        get_cython_function_address("scipy.linalg.cython_lapack", "dpotrf"))
    return dgemm, dsyrk, dtrsm, dpotrf


def _int(value):
    return ctypes.byref(ctypes.c_int(int(value)))


def _double(value):
    return ctypes.byref(ctypes.c_double(float(value)))


def cholesky_lower_in_place(A, block=CHOLESKY_BLOCK):
    """Overwrite the lower triangle of the Fortran-ordered SPD matrix A with L, A = L L^T.

    Only the lower triangle is read; the strict upper triangle is left as it
    was. Returns 0 on success, or the 1-based index of the first leading minor
    that is not positive definite (LAPACK's ``info``).

    Parameters
    ----------
    A : ndarray of float64, shape (n, n), Fortran-contiguous
    block : int
        Columns per block.
    """
    if A.dtype.char != "d" or A.ndim != 2 or A.shape[0] != A.shape[1] or not A.flags.f_contiguous:
        raise ValueError("cholesky_lower_in_place needs a square Fortran-ordered float64 array.")
    if not A.flags.writeable:
        raise ValueError("cholesky_lower_in_place writes into A, which is read-only.")
    dgemm, dsyrk, dtrsm, dpotrf = _routines()
    n = A.shape[0]
    base = A.ctypes.data

    def at(i, j):  # address of A[i, j] in column-major storage
        return ctypes.c_void_p(base + 8 * (i + j * n))

    lda = _int(n)
    info = ctypes.c_int(0)
    for j0 in range(0, n, block):
        width = min(block, n - j0)
        dpotrf(b"L", _int(width), at(j0, j0), lda, ctypes.byref(info))
        if info.value:
            return j0 + info.value
        below = n - j0 - width
        if below == 0:
            break
        # panel: A21 <- A21 L11^-T
        dtrsm(b"R", b"L", b"T", b"N", _int(below), _int(width), _double(1.0), at(j0, j0), lda,
              at(j0 + width, j0), lda)
        # trailing lower triangle, one block column at a time: A22 -= A21 A21^T
        # (a small SYRK on the diagonal block, a GEMM below it)
        for c0 in range(j0 + width, n, block):
            columns = min(block, n - c0)
            dsyrk(b"L", b"N", _int(columns), _int(width), _double(-1.0), at(c0, j0), lda,
                  _double(1.0), at(c0, c0), lda)
            rest = n - c0 - columns
            if rest:
                dgemm(b"N", b"T", _int(rest), _int(columns), _int(width), _double(-1.0),
                      at(c0 + columns, j0), lda, at(c0, j0), lda, _double(1.0),
                      at(c0 + columns, c0), lda)
    return 0


def product(A, B, transpose_a=False):
    """``A @ B`` (``A.T @ B`` with ``transpose_a``) by BLAS dgemm, for a Fortran-ordered A.

    For a tall Fortran-ordered A times a thin B this is up to twice as fast as
    ``numpy.matmul``, which picks a slower layout for this case.
    """
    return blas.dgemm(1.0, A, np.asfortranarray(B, dtype=np.float64), trans_a=int(transpose_a))
