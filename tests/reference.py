"""Plain-NumPy / pure-Python reference implementations of every Numba kernel.

Slow and obvious on purpose: the tests compare lpkernel's compiled kernels to these.
"""

import numpy as np
from scipy.linalg import hadamard

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def row_key(row_words, seed):
    """The row's 64-bit key from its 32-bit words (a uint32 view of its bytes)."""
    h = 0x243F6A8885A308D3
    for word in row_words.tolist():
        h = ((h ^ word) * 0x9E3779B97F4A7C15) & M64
        h ^= h >> 32
    return splitmix64(h ^ splitmix64(int(seed)))


def noise_bits(key, n_columns):
    """16-bit noise of columns 0..n-1: column 4k + r is bits 16r.. of splitmix64(key + k golden)."""
    bits = []
    for j in range(n_columns):
        word = splitmix64((key + (j // 4) * 0x9E3779B97F4A7C15) & M64)
        bits.append((word >> (16 * (j % 4))) & 0xFFFF)
    return bits


def noise(row_words_2d, seed, n_columns):
    """u_ij in [0, 1) for every row (its 32-bit words) and column, as float64."""
    return np.array([[b * 2.0**-16 for b in noise_bits(row_key(r, seed), n_columns)]
                     for r in row_words_2d])


def quantize(values, low, step, n_bits, u):
    """Codes of ``values`` rounded up with probability given by ``u`` (u = 0.5: nearest).

    Arithmetic in values' dtype up to 8 bits and float64 for 16 bits, like the kernels.
    """
    work = np.float64 if n_bits > 8 else values.dtype.type
    x = (values.astype(work) - np.asarray(low, dtype=work)) * (1.0 / np.asarray(step)).astype(work)
    x = np.floor(x + np.asarray(u).astype(work))
    return np.clip(x, 0, 2**n_bits - 1).astype(np.uint16)


def pack(codes, n_bits):
    """Little-end-first packing, each row on a byte boundary."""
    n, m = codes.shape
    if n_bits == 16:
        return codes.astype("<u2").view(np.uint8).reshape(n, 2 * m)
    per_byte = 8 // n_bits
    row_bytes = -(-m * n_bits // 8)
    out = np.zeros((n, row_bytes), dtype=np.uint8)
    for j in range(m):
        out[:, j // per_byte] |= (codes[:, j].astype(np.uint8) << ((j % per_byte) * n_bits)).astype(np.uint8)
    return out


def unpack(packed, n_bits, m):
    n = packed.shape[0]
    if n_bits == 16:
        return packed.view("<u2").reshape(n, -1)[:, :m].astype(np.uint16)
    per_byte = 8 // n_bits
    j = np.arange(m)
    return ((packed[:, j // per_byte] >> ((j % per_byte) * n_bits)) & (2**n_bits - 1)).astype(np.uint16)


def fwht(x):
    """Unnormalized Walsh–Hadamard transform of each row, by the dense Sylvester matrix."""
    return x @ hadamard(x.shape[1]).T


def sorf_weights(signs, scales):
    """Dense (p, f) weights of SORF blocks: rows of scale * H D1 H D2 H D3 (H unnormalized)."""
    n_blocks, _, p = signs.shape
    H = hadamard(p).astype(float)
    rows = [H @ np.diag(s[0]) @ H @ np.diag(s[1]) @ H @ np.diag(s[2]) for s in signs]
    return (np.vstack(rows)[: scales.shape[0]] * scales[:, None]).T


def circulant_weights(vectors, signs, n_frequencies):
    """Dense (d, f) weights: row r of block k is roll(vector_k, r) * signs_k."""
    rows = [np.roll(g, r) * s for g, s in zip(vectors, signs, strict=True) for r in range(len(g))]
    return np.array(rows)[:n_frequencies].T


def rff_values(X, weights, offset, n_components):
    """sqrt(2/m) [cos(XW + b), sin(XW) for the paired frequencies], in float64."""
    projection = X.astype(np.float64) @ weights.astype(np.float64)
    scale = np.sqrt(2.0 / n_components)
    n_sin = n_components - weights.shape[1]
    return scale * np.hstack([np.cos(projection + offset), np.sin(projection[:, :n_sin])])
