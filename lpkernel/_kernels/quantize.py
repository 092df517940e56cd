"""Quantization to b-bit codes, bit packing and dequantization (DESIGN §3).

Codes are the integers ``q`` in [0, 2**b - 1] with value ``low + q * step``.
Stochastic rounding: ``q = floor((v - low) / step + u)``, u ~ U[0, 1) from
the row's :func:`lpkernel._kernels.hashing.noise_stream` (16 bits a column),
clipped to the code range; it is unbiased, to 2**-16 of a step, for v inside
[low, low + (2**b - 1) * step]. Nearest rounding uses u = 1/2.

Packed layout: each row starts on a byte boundary and holds ``ceil(m*b/8)``
bytes. For b < 8 the codes fill each byte from the least significant bit up
(code j sits at bit ``(j % (8 // b)) * b`` of byte ``j // (8 // b)``); for b = 16
each code is two little-endian bytes.
"""

import numpy as np

from .._config import inline, jit
from .hashing import NOISE_UNIT, noise_stream, row_key, stream_words


def packed_row_bytes(n_columns, n_bits):
    """Bytes that one packed row of ``n_columns`` b-bit codes occupies."""
    return (n_columns * n_bits + 7) // 8


@inline
def _pack_row(codes, n_bits, out):
    n_columns = codes.shape[0]
    if n_bits == 16:
        for j in range(n_columns):
            out[2 * j] = np.uint8(codes[j] & 0xFF)
            out[2 * j + 1] = np.uint8(codes[j] >> 8)
    elif n_bits == 8:
        for j in range(n_columns):
            out[j] = np.uint8(codes[j])
    elif n_bits == 4:  # fixed-count loops vectorize; the ragged tail is done apart
        full = n_columns // 2
        for k in range(full):
            out[k] = np.uint8(codes[2 * k] | (codes[2 * k + 1] << 4))
        if full < out.shape[0]:
            out[full] = np.uint8(codes[2 * full])
    elif n_bits == 2:
        full = n_columns // 4
        for k in range(full):
            out[k] = np.uint8(codes[4 * k] | (codes[4 * k + 1] << 2)
                              | (codes[4 * k + 2] << 4) | (codes[4 * k + 3] << 6))
        _pack_tail(codes, 2, full, out)
    else:
        full = n_columns // 8
        for k in range(full):
            out[k] = np.uint8(codes[8 * k] | (codes[8 * k + 1] << 1) | (codes[8 * k + 2] << 2)
                              | (codes[8 * k + 3] << 3) | (codes[8 * k + 4] << 4)
                              | (codes[8 * k + 5] << 5) | (codes[8 * k + 6] << 6)
                              | (codes[8 * k + 7] << 7))
        _pack_tail(codes, 1, full, out)


@inline
def _pack_tail(codes, n_bits, full, out):
    """Pack the codes after the last full byte (fewer than 8 // n_bits of them)."""
    per_byte = 8 // n_bits
    if full < out.shape[0]:
        acc = 0
        for j in range(full * per_byte, codes.shape[0]):
            acc |= np.int64(codes[j]) << ((j - full * per_byte) * n_bits)
        out[full] = np.uint8(acc)


@inline
def _unpack_row(packed, n_bits, codes):
    n_columns = codes.shape[0]
    if n_bits == 16:
        for j in range(n_columns):
            codes[j] = np.uint16(packed[2 * j]) | (np.uint16(packed[2 * j + 1]) << 8)
    elif n_bits == 8:
        for j in range(n_columns):
            codes[j] = packed[j]
    else:
        per_byte = 8 // n_bits
        mask = (1 << n_bits) - 1
        for j in range(n_columns):
            codes[j] = (packed[j // per_byte] >> ((j % per_byte) * n_bits)) & mask


def work_grid(low, step, n_bits, dtype):
    """The quantization grid in the arithmetic type the kernels round in.

    Rounding runs in the features' float type up to 8 bits (a scaled value below
    256 keeps 16 fraction bits in float32, so 16-bit noise adds exactly: the bias
    stays under 2**-15 of a step) and in float64 for 16 bits. Dequantization always
    uses float64 ``low``/``step``.

    Returns ``(low, inv_step, max_code, unit)``, all in the work type; ``unit`` is
    2**-16, the weight of one unit of the 16-bit noise.
    """
    work = np.float64 if n_bits > 8 else np.dtype(dtype).type
    low = np.ascontiguousarray(low, dtype=work)
    step = np.asarray(step, dtype=np.float64)
    # a zero-width column (constant feature) maps everything to code 0, i.e. to low
    inv_step = np.divide(1.0, step, out=np.zeros_like(step), where=step > 0)
    inv_step = np.ascontiguousarray(inv_step, dtype=work)
    return low, inv_step, work((1 << n_bits) - 1), work(NOISE_UNIT)


@inline
def quantize_store_row(values, noise, low, inv_step, max_code, unit, step64, low64, n_bits,
                       stochastic, packed, codes, out_packed, out_dense):
    """Quantize one row of values and write it packed or dequantized.

    Parameters
    ----------
    values : 1-D float array, the row to quantize (length m).
    noise : 1-D uint16 array (at least m long), the row's 16-bit noise from
        :func:`lpkernel._kernels.hashing.noise_stream` (unused for nearest rounding).
    low, inv_step : 1-D arrays (length m) and max_code, unit : scalars, all in the
        rounding type (see :func:`work_grid`).
    step64, low64 : 1-D float64 arrays (length m), the grid for dequantization.
    n_bits : int in {1, 2, 4, 8, 16}.
    stochastic : bool, stochastic (True) or nearest (False) rounding.
    packed : bool, write codes into ``out_packed`` (True) or values into ``out_dense``.
    codes : 1-D uint16 scratch array of length m.
    out_packed, out_dense : the row of the output actually written.
    """
    zero = unit - unit  # in the work type (unit * 0 would be float64: int64 promotes float32)
    n_columns = values.shape[0]
    if stochastic:  # two loops, not a branch inside one: each vectorizes
        for j in range(n_columns):
            u = unit * np.float32(noise[j])  # 16-bit integers are exact in float32
            x = np.floor((values[j] - low[j]) * inv_step[j] + u)
            codes[j] = np.uint16(np.int32(min(max(x, zero), max_code)))  # via int32: vectorizes
    else:
        half = unit * np.float32(32768)  # 2**15 * 2**-16, in the work type
        for j in range(n_columns):
            x = np.floor((values[j] - low[j]) * inv_step[j] + half)
            codes[j] = np.uint16(np.int32(min(max(x, zero), max_code)))  # via int32: vectorizes
    if packed:
        _pack_row(codes, n_bits, out_packed)
    else:
        for j in range(n_columns):
            out_dense[j] = low64[j] + np.float64(codes[j]) * step64[j]


@jit
def quantize_rows(values, row_words, seed, low, inv_step, max_code, unit, step64, low64,
                  n_bits, stochastic, packed, out_packed, out_dense):
    """Quantize each row of ``values`` (c x m) with noise keyed by ``row_words`` (c x nw uint32).

    The grid arguments are those of :func:`quantize_store_row` (make them with
    :func:`work_grid`). Writes ``out_packed`` (c x ceil(m*b/8) uint8) when
    ``packed`` else ``out_dense`` (c x m); the other may be a (c x 0) placeholder.
    """
    n_rows, n_columns = values.shape
    codes = np.empty(n_columns, dtype=np.uint16)
    words = np.empty(stream_words(n_columns), dtype=np.uint64)
    for i in range(n_rows):
        noise = noise_stream(row_key(row_words[i], seed), words) if stochastic else codes
        quantize_store_row(values[i], noise, low, inv_step, max_code, unit, step64, low64,
                           n_bits, stochastic, packed, codes, out_packed[i], out_dense[i])


@jit
def pack_codes(codes, n_bits, out):
    """Pack integer codes (c x m uint16) into ``out`` (c x ceil(m*b/8) uint8)."""
    for i in range(codes.shape[0]):
        _pack_row(codes[i], n_bits, out[i])


@jit
def unpack_codes(packed, n_bits, out):
    """Unpack ``packed`` (c x nbytes uint8) into integer codes ``out`` (c x m uint16)."""
    for i in range(packed.shape[0]):
        _unpack_row(packed[i], n_bits, out[i])


@jit
def dequantize_packed(packed, n_bits, low, step, out):
    """Unpack and dequantize: ``out[i, j] = low[j] + q_ij * step[j]`` (out is c x m)."""
    n_columns = out.shape[1]
    codes = np.empty(n_columns, dtype=np.uint16)
    for i in range(packed.shape[0]):
        _unpack_row(packed[i], n_bits, codes)
        for j in range(n_columns):
            out[i, j] = low[j] + np.float64(codes[j]) * step[j]
