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
from functools import lru_cache, partial

import numpy as np

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


@lru_cache(maxsize=None)
def _dtrmm():
    from numba.extending import get_cython_function_address

    return ctypes.CFUNCTYPE(None, *[ctypes.c_char_p] * 4, *[ctypes.c_void_p] * 7)(
        get_cython_function_address("scipy.linalg.cython_blas", "dtrmm"))


def _int(value):
    return ctypes.byref(ctypes.c_int(int(value)))


def _double(value):
    return ctypes.byref(ctypes.c_double(float(value)))


def _sequential(tasks):
    return [task() for task in tasks]


def cholesky_lower_in_place(A, block=CHOLESKY_BLOCK, run=_sequential):
    """Overwrite the lower triangle of the Fortran-ordered SPD matrix A with L, A = L L^T.

    Only the lower triangle is read; the strict upper triangle is left as it
    was. Returns 0 on success, or the 1-based index of the first leading minor
    that is not positive definite (LAPACK's ``info``).

    Parameters
    ----------
    A : ndarray of float64, shape (n, n), Fortran-contiguous
    block : int
        Columns per block.
    run : callable
        ``run(tasks)`` calls the independent callables in ``tasks`` (the two halves
        of the panel solve, the two halves of the trailing update), in parallel if
        it can: the BLAS calls release the GIL. The tasks are the same whether or not
        they run at once, so the result is too, bit for bit.

    Notes
    -----
    The trailing update A22 -= A21 A21^T of the r remaining rows is split at
    s = r / sqrt(2): one task updates the leading s x s triangle, the other the
    r - s rows below it (a rectangle and a triangle). Each holds r^2 / 4 of the
    r^2 / 2 entries, so the two do the same work.
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

    def rectangle(r0, r1, c0, c1, j0, width):  # A[r0:r1, c0:c1] -= A[r0:r1, J] A[c0:c1, J]^T
        if r1 > r0 and c1 > c0:
            dgemm(b"N", b"T", _int(r1 - r0), _int(c1 - c0), _int(width), _double(-1.0),
                  at(r0, j0), lda, at(c0, j0), lda, _double(1.0), at(r0, c0), lda)

    def triangle(lo, hi, j0, width):  # the lower triangle of A[lo:hi, lo:hi], by block columns
        for c0 in range(lo, hi, block):  # (block-sized dsyrk: see the module docstring)
            columns = min(block, hi - c0)
            dsyrk(b"L", b"N", _int(columns), _int(width), _double(-1.0), at(c0, j0), lda,
                  _double(1.0), at(c0, c0), lda)
            rectangle(c0 + columns, hi, c0, c0 + columns, j0, width)

    def lower_rows(split, j0, width):
        rectangle(split, n, j0 + width, split, j0, width)
        triangle(split, n, j0, width)

    for j0 in range(0, n, block):
        width = min(block, n - j0)
        dpotrf(b"L", _int(width), at(j0, j0), lda, ctypes.byref(info))
        if info.value:
            return j0 + info.value
        below = n - j0 - width
        if below == 0:
            break
        # panel: A21 <- A21 L11^-T, in two row halves
        half = below // 2
        run([partial(dtrsm, b"R", b"L", b"T", b"N", _int(rows), _int(width), _double(1.0),
                     at(j0, j0), lda, at(start, j0), lda)
             for start, rows in ((j0 + width, half), (j0 + width + half, below - half)) if rows])
        # trailing lower triangle A22 -= A21 A21^T, in two parts of equal work
        split = j0 + width + int(round(below / np.sqrt(2.0)))
        run([partial(triangle, j0 + width, split, j0, width),
             partial(lower_rows, split, j0, width)])
    return 0


def _leading_dimension(name, array):
    """BLAS's leading dimension of a float64 array whose columns are contiguous.

    Fortran-ordered arrays qualify, and so do their row and column slices
    (``A[i:j]``, ``A[:, i:j]``): BLAS then reads the block in place.
    """
    if array.dtype.char != "d" or array.ndim != 2:
        raise ValueError(f"{name} needs 2-d Fortran-ordered float64 arrays.")
    rows, columns = array.shape
    if array.flags.f_contiguous or columns <= 1 or rows == 0:
        return max(rows, 1)
    step, stride = array.strides
    if step != 8 or stride % 8 or stride < 8 * rows:
        raise ValueError(f"{name} needs 2-d Fortran-ordered float64 arrays.")
    return stride // 8


def _check_fortran(name, *arrays):
    for array in arrays:
        if array.dtype.char != "d" or array.ndim != 2 or not array.flags.f_contiguous:
            raise ValueError(f"{name} needs 2-d Fortran-ordered float64 arrays.")


def gemm(A, B, transpose_a=False, out=None):
    """``A @ B`` (``A.T @ B`` with ``transpose_a``) for Fortran-ordered float64 A and B.

    Like :func:`product`, but through the ctypes entry point, which releases the
    GIL (SciPy's f2py BLAS wrappers hold it), so two threads can run at once. A, B
    and ``out`` may also be row or column blocks of Fortran-ordered arrays. The
    result goes to ``out`` when given, else to a new Fortran-ordered array.
    """
    lda, ldb = _leading_dimension("gemm", A), _leading_dimension("gemm", B)
    rows, inner = (A.shape[1], A.shape[0]) if transpose_a else A.shape
    if B.shape[0] != inner or (out is not None and out.shape != (rows, B.shape[1])):
        raise ValueError(f"gemm: shapes {A.shape}{'^T' if transpose_a else ''} and {B.shape}.")
    if out is None:
        out = np.empty((rows, B.shape[1]), order="F")
    ldc = _leading_dimension("gemm", out)
    if out.size == 0:
        return out
    if inner == 0:
        out.fill(0.0)
        return out
    dgemm = _routines()[0]
    dgemm(b"T" if transpose_a else b"N", b"N", _int(rows), _int(B.shape[1]), _int(inner),
          _double(1.0), ctypes.c_void_p(A.ctypes.data), _int(lda),
          ctypes.c_void_p(B.ctypes.data), _int(ldb), _double(0.0),
          ctypes.c_void_p(out.ctypes.data), _int(ldc))
    return out


def gram_lower(A, run=_sequential):
    """The lower triangle of ``A @ A.T`` (BLAS dsyrk, GIL released) for a Fortran-ordered A.

    The strict upper triangle of the result is zero. ``run(tasks)`` may call the two
    halves of the work at once: with the rows of A split at h = rows / 2, one task
    computes the lower-left block A[h:] A[:h]^T (a gemm, 2 h^2 k flops) and the other
    the two diagonal triangles (two syrk, also 2 h^2 k), each into its own part of
    the result: same work, no sum of partial matrices.
    """
    _check_fortran("gram_lower", A)
    rows, inner = A.shape
    out = np.zeros((rows, rows), order="F")
    if not (rows and inner):
        return out
    dgemm, dsyrk = _routines()[:2]
    h = rows // 2
    a, c = A.ctypes.data, out.ctypes.data

    def syrk(lo, hi):
        if hi > lo:
            dsyrk(b"L", b"N", _int(hi - lo), _int(inner), _double(1.0), ctypes.c_void_p(a + 8 * lo),
                  _int(rows), _double(0.0), ctypes.c_void_p(c + 8 * (lo + lo * rows)), _int(rows))

    def lower_left():
        if h and rows > h:
            dgemm(b"N", b"T", _int(rows - h), _int(h), _int(inner), _double(1.0),
                  ctypes.c_void_p(a + 8 * h), _int(rows), ctypes.c_void_p(a), _int(rows),
                  _double(0.0), ctypes.c_void_p(c + 8 * h), _int(rows))

    run([lower_left, lambda: (syrk(0, h), syrk(h, rows))])
    return out


def triangular_in_place(L, B, *, solve, transpose):
    """B <- op(L)^-1 B (``solve``) or op(L) B, op(L) = L^T with ``transpose``; L lower.

    L (n x n) and B (n x k) are Fortran-ordered float64; only the lower triangle
    of L is read. BLAS dtrsm / dtrmm through ctypes, with the GIL released.
    """
    _check_fortran("triangular_in_place", L, B)
    n = L.shape[0]
    if L.shape[1] != n or B.shape[0] != n:
        raise ValueError(f"triangular_in_place: shapes {L.shape} and {B.shape}.")
    if not B.flags.writeable:
        raise ValueError("triangular_in_place writes into B, which is read-only.")
    if B.size == 0:
        return B
    routine = _routines()[2] if solve else _dtrmm()
    routine(b"L", b"L", b"T" if transpose else b"N", b"N", _int(n), _int(B.shape[1]),
            _double(1.0), ctypes.c_void_p(L.ctypes.data), _int(n),
            ctypes.c_void_p(B.ctypes.data), _int(n))
    return B


def product(A, B, transpose_a=False):
    """``A @ B`` (``A.T @ B`` with ``transpose_a``) by BLAS dgemm, for a Fortran-ordered A.

    For a tall Fortran-ordered A times a thin B this is up to twice as fast as
    ``numpy.matmul``, which picks a slower layout for this case. Through
    :func:`gemm`: the GIL is released, so the two Lanczos runs of the spectral
    error do their reorthogonalization in parallel.
    """
    return gemm(np.asfortranarray(A, dtype=np.float64), np.asfortranarray(B, dtype=np.float64),
                transpose_a)
