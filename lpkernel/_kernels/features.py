"""The fused random-Fourier-feature loop (DESIGN §2–3).

For one chunk of rows the projection ``X_chunk @ W`` comes from BLAS; this kernel
then does, per row and in one pass, the offset, the cosine (and sine), the
scaling by sqrt(2/m), and either the float write or the stochastic quantization
with packing. The float n x m matrix is never formed for packed output.
"""

import numpy as np

from .._config import jit
from .hashing import noise_stream, row_key, stream_words
from .quantize import quantize_store_row
from .trig import LIMIT32, LIMIT64, cos32, cos64

_HALF_PI = 1.5707963267948966


@jit
def rff_rows(projection, offset, row_words, seed, scale, single, n_bits, stochastic,
             low, inv_step, max_code, unit, step64, low64, packed, out_packed, out_dense):
    """Random Fourier features of one chunk.

    Output column j < f is ``scale * cos(projection[:, j] + offset[j])``; columns
    f..m-1 are ``scale * sin(projection[:, j - f])`` (the sines of sincos pairs).

    Parameters
    ----------
    projection : (c, f) float32/float64, ``X_chunk @ W`` (f frequencies).
    offset : (f,) same dtype, the phases b_j (zero for frequencies in sincos pairs).
    row_words : (c, nw) uint32, the input rows' bytes as 32-bit words, keying the rounding noise.
    seed : uint64, derived from ``random_state``.
    scale : float of the projection's dtype, sqrt(2/m) (a float64 scale would make the
        float32 loop convert every element and run at half width).
    single : bool, ``projection`` is float32: use the float32-accurate cosine.
    n_bits : 0 for float output, else b in {1, 2, 4, 8, 16}.
    stochastic : bool, stochastic or nearest rounding.
    low, inv_step, max_code, unit, step64, low64 : the quantization grid, as in
        :func:`lpkernel._kernels.quantize.quantize_store_row`; m = len(low64) outputs.
    packed : bool, write codes to ``out_packed`` instead of values to ``out_dense``.
    out_packed : (c, ceil(m*b/8)) uint8, or (c, 0).
    out_dense : (c, m) float, or (c, 0).
    """
    n_rows, n_freq = projection.shape
    n_columns = low64.shape[0]
    values = np.empty(n_columns, dtype=projection.dtype)
    codes = np.empty(n_columns, dtype=np.uint16)
    words = np.empty(stream_words(n_columns), dtype=np.uint64)
    limit = LIMIT32 if single else LIMIT64
    for i in range(n_rows):
        target = out_dense[i] if n_bits == 0 else values
        huge = False
        for j in range(n_freq):
            t = projection[i, j] + offset[j]
            huge |= np.abs(t) > limit
            if single:
                target[j] = scale * cos32(t)
            else:
                target[j] = scale * cos64(t)
        for j in range(n_columns - n_freq):
            t = np.float64(projection[i, j]) - _HALF_PI
            if single:
                target[n_freq + j] = scale * cos32(t)
            else:
                target[n_freq + j] = scale * cos64(t)
        if huge:  # rare: arguments beyond the polynomial's range, recomputed by libm
            for j in range(n_freq):
                t = np.float64(projection[i, j] + offset[j])
                if np.abs(t) > limit:
                    target[j] = scale * np.cos(t)
                    if j < n_columns - n_freq:
                        target[n_freq + j] = scale * np.sin(np.float64(projection[i, j]))
        if n_bits != 0:
            noise = noise_stream(row_key(row_words[i], seed), words) if stochastic else codes
            quantize_store_row(values, noise, low, inv_step, max_code, unit, step64, low64,
                               n_bits, stochastic, packed, codes, out_packed[i], out_dense[i])
