"""Counter-based noise keyed by row content (DESIGN §3, consistency rule).

The stochastic-rounding noise ``u_ij`` must depend only on (seed, bytes of the
input row i, column j), never on the row's position or chunk. Each row gets a
64-bit key (FNV-1a over its bytes, then a SplitMix64 finalizer mixed with the
seed); column j then draws ``fmix32(((lo + j * golden) mod 2**32) ^ hi)``
(MurmurHash3's finalizer over a Weyl sequence, lo and hi the key's halves),
whose top 24 bits give ``u`` in [0, 1). Both halves enter, so two distinct
rows share all their noise with probability about 2**-64, not 2**-32.
All arithmetic is done in uint64 and masked explicitly: Numba widens small
integers to 64 bits.
"""

import numpy as np

from .._config import inline

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_SM_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SM_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_M2 = np.uint64(0x94D049BB133111EB)
_MASK32 = np.uint64(0xFFFFFFFF)
_GOLDEN32 = np.uint64(0x9E3779B9)
_MM_M1 = np.uint64(0x85EBCA6B)
_MM_M2 = np.uint64(0xC2B2AE35)
_S16 = np.uint64(16)
_S13 = np.uint64(13)
_S8 = np.uint64(8)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)


@inline
def splitmix64(x):
    """SplitMix64 finalizer (Steele, Lea & Flood 2014) of a uint64."""
    x = x + _SM_GOLDEN
    x = (x ^ (x >> _S30)) * _SM_M1
    x = (x ^ (x >> _S27)) * _SM_M2
    return x ^ (x >> _S31)


@inline
def row_key(row_bytes, seed):
    """64-bit key of one input row: FNV-1a 64 over its bytes, mixed with ``seed``.

    ``row_bytes`` is a 1-D uint8 view of the row; ``seed`` a uint64.
    """
    h = _FNV_OFFSET
    for k in range(row_bytes.shape[0]):
        h = (h ^ np.uint64(row_bytes[k])) * _FNV_PRIME
    return splitmix64(h ^ splitmix64(seed))


@inline
def uniform_bits(key, column):
    """24 uniform random bits (as a float32, exactly) for (row key, column).

    Multiply by 2**-24 for a uniform draw in [0, 1).
    """
    x = (((key & _MASK32) + np.uint64(column) * _GOLDEN32) & _MASK32) ^ (key >> _S32)
    x = x ^ (x >> _S16)
    x = (x * _MM_M1) & _MASK32
    x = x ^ (x >> _S13)
    x = (x * _MM_M2) & _MASK32
    x = x ^ (x >> _S16)
    return np.float32(x >> _S8)
