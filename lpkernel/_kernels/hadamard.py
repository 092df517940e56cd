"""Fast Walsh–Hadamard transform and the structured (SORF) projection.

SORF (Yu et al., "Orthogonal Random Features", NeurIPS 2016, §4) replaces the
Gaussian matrix by blocks ``sqrt(d) H D1 H D2 H D3``, H the normalized
Walsh–Hadamard matrix and D_i random sign diagonals. Each block is applied in
O(d log d) with the in-place butterfly below; no dense matrix is formed.
"""

import numpy as np

from .._config import inline, jit


@inline
def fwht_inplace(a):
    """Unnormalized Walsh–Hadamard transform of a 1-D array whose length is a power of 2."""
    n = a.shape[0]
    h = 1
    while h < n:
        for start in range(0, n, 2 * h):
            for k in range(start, start + h):
                x = a[k]
                y = a[k + h]
                a[k] = x + y
                a[k + h] = x - y
        h *= 2


@jit
def fwht_rows(x):
    """In-place unnormalized fast Walsh–Hadamard transform of each row of ``x`` (c x 2^p)."""
    for i in range(x.shape[0]):
        fwht_inplace(x[i])


@jit
def sorf_project(x, signs, row_scales, out):
    """Structured projection ``out = x @ W`` for SORF weights given implicitly.

    Parameters
    ----------
    x : (c, d) float, input rows (d <= p, zero padded to p = 2^k inside).
    signs : (n_blocks, 3, p) float, the diagonals D1, D2, D3 (entries +-1).
    row_scales : (n_blocks * p,) float, per-frequency scale, which absorbs
        sqrt(p) * (1/sqrt(p))**3 and the kernel's bandwidth.
    out : (c, f) float with f <= n_blocks * p; frequency ``blk * p + r`` is
        row r of block ``blk``.
    """
    n_rows, d = x.shape
    n_blocks, _, p = signs.shape
    n_freq = out.shape[1]
    buf = np.empty(p, dtype=out.dtype)
    for i in range(n_rows):
        for blk in range(n_blocks):
            for k in range(p):
                buf[k] = x[i, k] * signs[blk, 2, k] if k < d else 0.0
            fwht_inplace(buf)
            for k in range(p):
                buf[k] *= signs[blk, 1, k]
            fwht_inplace(buf)
            for k in range(p):
                buf[k] *= signs[blk, 0, k]
            fwht_inplace(buf)
            base = blk * p
            for k in range(p):
                j = base + k
                if j < n_freq:
                    out[i, j] = buf[k] * row_scales[j]
