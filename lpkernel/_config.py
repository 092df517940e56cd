"""Compilation settings for every Numba kernel, owned in one place.

All kernels are compiled with ``cache=True`` (the compiled machine code is
written next to the source, or to ``NUMBA_CACHE_DIR``), ``nogil=True`` (so
chunks can run in threads) and without ``fastmath``: the range reduction in
:mod:`lpkernel._kernels.trig` relies on IEEE evaluation order.

Bounds checking follows Numba's global switch: run with
``NUMBA_BOUNDSCHECK=1`` (and a fresh ``NUMBA_CACHE_DIR``) to compile every
kernel with index checks, as one of the tests does.
"""

import hashlib
from pathlib import Path

import numba

JIT_OPTIONS = {"nogil": True, "cache": True}
_PACKAGE = Path(__file__).parent


def _drop_stale_caches():
    """Delete lpkernel's Numba caches when any compiled-kernel source changed.

    Numba checks only the timestamp of a kernel's own file, so editing an inlined
    helper in ``_kernels/`` (say the rounding) would leave every kernel that
    inlines it running the old code from cache. A digest of the kernel sources,
    stored beside the caches, catches that. Best effort: a read-only install
    (whose sources never change) is left alone.
    """
    sources = sorted((_PACKAGE / "_kernels").glob("*.py"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    stamp = _PACKAGE / "_kernels" / "__pycache__" / "lpkernel-kernel-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for cached in _PACKAGE.rglob("__pycache__/*.nb[ic]"):
            cached.unlink()
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass


_drop_stale_caches()


def jit(func=None, **overrides):
    """Compile ``func`` with the project's Numba options (``@jit`` or ``@jit(...)``)."""
    options = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def inline(func):
    """A helper that Numba inlines into its callers, so loops around it vectorize."""
    return numba.njit(inline="always", cache=True, nogil=True)(func)
