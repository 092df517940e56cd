"""Compilation settings for every Numba kernel, owned in one place.

All kernels are compiled with ``cache=True`` (the compiled machine code is
written next to the source, or to ``NUMBA_CACHE_DIR``), ``nogil=True`` (so
chunks can run in threads) and without ``fastmath``: the range reduction in
:mod:`lpkernel._kernels.trig` relies on IEEE evaluation order.

Bounds checking follows Numba's global switch: run with
``NUMBA_BOUNDSCHECK=1`` (and a fresh ``NUMBA_CACHE_DIR``) to compile every
kernel with index checks, as one of the tests does.
"""

import numba

JIT_OPTIONS = {"nogil": True, "cache": True}


def jit(func=None, **overrides):
    """Compile ``func`` with the project's Numba options (``@jit`` or ``@jit(...)``)."""
    options = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def inline(func):
    """A helper that Numba inlines into its callers, so loops around it vectorize."""
    return numba.njit(inline="always", cache=True, nogil=True)(func)
