"""Counter-based noise keyed by row content (DESIGN §3, consistency rule).

The stochastic-rounding noise ``u_ij`` must depend only on (seed, bytes of the
input row i, column j), never on the row's position or chunk.

* Each row gets a 64-bit key: its bytes, read as little-endian 32-bit words,
  are folded by ``h = (h ^ w) * K; h ^= h >> 32`` (one multiply per word, so the
  key costs little next to a row of features), then mixed with the seed by the
  SplitMix64 finalizer.
* The key seeds a SplitMix64 stream (Steele, Lea & Flood 2014): word k is
  ``splitmix64(key + k * golden)``. Column ``j = 4k + r`` takes bits
  ``16r .. 16r + 15`` of word k as its noise, so one 64-bit mix serves four
  columns and the loop vectorizes in 64-bit lanes.

Sixteen bits of noise make floor(x + u) unbiased up to 2**-16 of a quantization
step (u is uniform on the multiples of 2**-16), far below the rounding noise
itself. Two distinct rows share all their noise with probability about 2**-64.
All arithmetic is uint64: Numba widens smaller integers to 64 bits anyway.
"""

import sys

import numpy as np

from .._config import inline

_SM_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SM_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_M2 = np.uint64(0x94D049BB133111EB)
_FOLD_INIT = np.uint64(0x243F6A8885A308D3)  # the fraction of pi, a nothing-up-my-sleeve start
_MASK16 = np.uint64(0xFFFF)
_S16 = np.uint64(16)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S48 = np.uint64(48)
_LITTLE_ENDIAN = sys.byteorder == "little"

#: Weight of one unit of the 16-bit noise: u = noise * NOISE_UNIT lies in [0, 1).
NOISE_UNIT = 2.0**-16


@inline
def splitmix64(x):
    """SplitMix64 output function of the state ``x + golden`` (a uint64)."""
    x = x + _SM_GOLDEN
    x = (x ^ (x >> _S30)) * _SM_M1
    x = (x ^ (x >> _S27)) * _SM_M2
    return x ^ (x >> _S31)


@inline
def row_key(row_words, seed):
    """64-bit key of one input row, mixed with ``seed`` (a uint64).

    ``row_words`` is a 1-D uint32 view of the row's bytes (any float dtype has a
    whole number of 32-bit words per row).
    """
    h = _FOLD_INIT
    for k in range(row_words.shape[0]):
        h = (h ^ np.uint64(row_words[k])) * _SM_GOLDEN
        h = h ^ (h >> _S32)
    return splitmix64(h ^ splitmix64(seed))


@inline
def noise_stream(key, words):
    """Fill ``words`` (1-D uint64) with the key's stream and return it as 16-bit noise.

    Returns a uint16 array of ``4 * len(words)`` entries: entry j is the noise of
    column j (bits ``16 (j % 4)`` onward of word ``j // 4``), the same on every
    platform.
    """
    for k in range(words.shape[0]):
        words[k] = splitmix64(key + np.uint64(k) * _SM_GOLDEN)
    if _LITTLE_ENDIAN:
        return words.view(np.uint16)
    noise = np.empty(4 * words.shape[0], dtype=np.uint16)
    for k in range(words.shape[0]):
        w = words[k]
        noise[4 * k] = np.uint16(w & _MASK16)
        noise[4 * k + 1] = np.uint16((w >> _S16) & _MASK16)
        noise[4 * k + 2] = np.uint16((w >> _S32) & _MASK16)
        noise[4 * k + 3] = np.uint16(w >> _S48)
    return noise


@inline
def stream_words(n_columns):
    """Length of the uint64 buffer :func:`noise_stream` needs for ``n_columns`` columns."""
    return (n_columns + 3) // 4
