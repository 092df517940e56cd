"""Low-precision weights in the LM-HALP style: a full-precision center plus b-bit offsets.

De Sa et al. (2018), "High-Accuracy Low-Precision Training", arXiv:1803.03383,
Algorithm 1 (HALP): every epoch the full-precision center w̃ takes the
current weights and the full gradient g̃ = ∇f(w̃) is computed once; the
weights inside the epoch are w̃ + δ·q with q b-bit signed integers, updated by
SVRG steps q ← Q(q - (α/δ)(∇f_i(w̃ + δq) - ∇f_i(w̃) + g̃)) with unbiased
stochastic rounding Q onto the integer grid (bit centering: as the gradient
shrinks so does δ, so a fixed number of bits keeps resolving the optimum).
"""

import numpy as np

from .._config import jit
from .._kernels.hashing import NOISE_UNIT, noise_stream, stream_words


def code_range(n_bits):
    """The signed integer range of a b-bit offset: [-2^(b-1), 2^(b-1) - 1]."""
    return -(1 << (n_bits - 1)), (1 << (n_bits - 1)) - 1


def code_dtype(n_bits):
    return np.int8 if n_bits <= 8 else np.int16


def offset_scale(full_gradient, learning_rate, n_steps, strong_convexity, n_bits):
    """δ, the spacing of one tensor's b-bit offset grid for the coming epoch.

    The grid must reach as far as the epoch can move the weights from the
    center. HALP bounds that by ||g̃||₂/μ (μ the strong-convexity constant;
    here the L2 penalty alpha); to first order an epoch of n_steps SVRG steps
    moves each coordinate by at most learning_rate·n_steps·||g̃||_∞, which is
    far tighter when alpha is small. δ is the smaller radius over 2^(b-1) - 1.
    """
    levels = (1 << (n_bits - 1)) - 1
    radius = learning_rate * n_steps * float(np.abs(full_gradient).max())
    if strong_convexity > 0:
        radius = min(radius, float(np.sqrt((full_gradient * full_gradient).sum()))
                     / strong_convexity)
    # a zero gradient moves nothing; any positive spacing then represents the offset 0
    return radius / levels if radius > 0 else 1.0


@jit
def round_offsets(values, inv_scale, low, high, key, codes):
    """Stochastically round ``values / δ`` to integers in [low, high].

    Parameters
    ----------
    values : 1-D float array, the new offsets in weight units.
    inv_scale : float, 1/δ.
    low, high : int, the b-bit code range.
    key : uint64 below 2**32, this step's noise key (u_j is entry j of its
        :func:`~lpkernel._kernels.hashing.noise_stream` times 2**-16).
    codes : 1-D int8/int16 array (same length), written.

    floor(x + u) with u ~ U[0, 1) is unbiased for x; values beyond the grid
    are clipped (HALP's saturating quantizer).
    """
    noise = noise_stream(key, np.empty(stream_words(values.shape[0]), dtype=np.uint64))
    for j in range(values.shape[0]):
        x = np.floor(np.float64(values[j]) * inv_scale + np.float64(noise[j]) * NOISE_UNIT)
        codes[j] = min(max(x, low), high)
