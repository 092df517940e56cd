"""Every Numba kernel against its plain reference in tests/reference.py."""

import os
import subprocess
import sys

import numpy as np
import pytest

from lpkernel._config import jit
from lpkernel._kernels import hadamard, quantize
from lpkernel._kernels.features import rff_rows
from lpkernel._kernels.hashing import noise_stream, row_key, stream_words
from lpkernel._kernels.trig import LIMIT32, LIMIT64, cos32, cos64

from . import reference as ref

BITS = (1, 2, 4, 8, 16)


# test-local kernels are not cached: Numba would not notice changes to the helpers they call
@jit(cache=False)
def _keys_and_bits(row_words, seed, n_columns, keys, bits):
    words = np.empty(stream_words(n_columns), dtype=np.uint64)
    for i in range(row_words.shape[0]):
        keys[i] = row_key(row_words[i], seed)
        noise = noise_stream(keys[i], words)
        for j in range(n_columns):
            bits[i, j] = noise[j]


@jit(cache=False)
def _cos_array(t, out32, out64):
    for i in range(t.shape[0]):
        out32[i] = cos32(np.float32(t[i]))
        out64[i] = cos64(t[i])


def test_hash_matches_reference(rng):
    row_words = rng.integers(0, 2**32, size=(5, 13), dtype=np.uint32)
    seed = np.uint64(2**63 + 12345)
    keys = np.empty(5, dtype=np.uint64)
    bits = np.empty((5, 7), dtype=np.float32)  # 7 columns: the last word is used in part
    _keys_and_bits(row_words, seed, 7, keys, bits)
    for i in range(5):
        key = ref.row_key(row_words[i], seed)
        assert int(keys[i]) == key
        assert [int(b) for b in bits[i]] == ref.noise_bits(key, 7)


def test_row_key_sees_every_word_and_its_position(rng):
    row = rng.integers(0, 2**32, size=(1, 12), dtype=np.uint32)
    variants = [row]
    for k in (0, 5, 11):  # flip one bit of one word
        changed = row.copy()
        changed[0, k] ^= np.uint32(1 << 31)
        variants.append(changed)
    variants.append(row[:, ::-1].copy())  # same words, other order
    keys = np.empty(1, dtype=np.uint64)
    bits = np.empty((1, 4), dtype=np.float32)
    seen = set()
    for words in variants:
        _keys_and_bits(words, np.uint64(1), 4, keys, bits)
        seen.add(int(keys[0]))
    assert len(seen) == len(variants)


def test_noise_is_uniform_and_decorrelated(rng):
    # 200 rows x 500 columns of 16-bit noise: mean 1/2, variance 1/12, no row/column structure
    row_words = rng.integers(0, 2**32, size=(200, 4), dtype=np.uint32)
    keys = np.empty(200, dtype=np.uint64)
    bits = np.empty((200, 500), dtype=np.float32)
    _keys_and_bits(row_words, np.uint64(7), 500, keys, bits)
    u = (bits.astype(np.float64) + 0.5) * 2.0**-16  # the midpoints of the 2**16 cells
    n = u.size
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)
    # columns 1..4 apart (within one 64-bit word and across words) and adjacent rows are
    # uncorrelated (|r| < 5 / sqrt(n))
    for lag in (1, 2, 3, 4):
        r = np.corrcoef(u[:, :-lag].ravel(), u[:, lag:].ravel())[0, 1]
        assert abs(r) < 5 / np.sqrt(n), (lag, r)
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 5 / np.sqrt(n)


def test_cos_matches_numpy(rng):
    t = np.concatenate([rng.normal(scale=s, size=20000) for s in (0.1, 3, 30, 300)])
    t = np.concatenate([t, [0.0, np.pi / 2, np.pi, -np.pi, 2 * np.pi, 1e4, -LIMIT32]])
    out32 = np.empty(t.shape, dtype=np.float32)
    out64 = np.empty(t.shape)
    _cos_array(t, out32, out64)
    # float64: error below the rounding of the argument, ulp(t) = |t| 2**-52, plus a few
    # ulps of the result
    err64 = np.abs(out64 - np.cos(t))
    assert (err64 <= np.abs(t) * 2.0**-52 + 4 * 2.0**-53).all(), err64.max()
    # float32: cos of the float32 argument to within ulp(t32) (the reduction's error) plus
    # 3 ulps of the result (polynomial truncation 6.5e-9 and rounding)
    t32 = t.astype(np.float32)
    exact = np.cos(t32.astype(np.float64))
    err32 = np.abs(out32 - exact)
    assert (err32 <= np.spacing(np.abs(t32)) + 3 * 2.0**-24).all(), err32.max()


def test_features_fall_back_to_libm_beyond_the_polynomial_range():
    m = 6
    for dtype, limit in ((np.float32, LIMIT32), (np.float64, LIMIT64)):
        projection = np.array([[0.5, 3 * limit, -7 * limit, 1e9, 1e15, 1e30]], dtype=dtype)
        out = np.empty((1, 2 * m), dtype=dtype)
        low = np.full(2 * m, -1.0)
        step = np.full(2 * m, 1.0)
        grid = quantize.work_grid(low, step, 1, dtype)
        rff_rows(projection, np.zeros(m, dtype=dtype), np.zeros((1, 1), dtype=np.uint8), np.uint64(0),
                 1.0, dtype == np.float32, 0, True, *grid, step, low, False,
                 np.empty((1, 0), dtype=np.uint8), out)
        t = projection[0].astype(np.float64)
        np.testing.assert_allclose(out[0], np.concatenate([np.cos(t), np.sin(t)]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_bits", BITS)
@pytest.mark.parametrize("m", [1, 7, 64, 101])
def test_pack_unpack_match_reference(rng, n_bits, m):
    codes = rng.integers(0, 2**n_bits, size=(9, m)).astype(np.uint16)
    packed = np.zeros((9, quantize.packed_row_bytes(m, n_bits)), dtype=np.uint8)
    quantize.pack_codes(codes, n_bits, packed)
    np.testing.assert_array_equal(packed, ref.pack(codes, n_bits))
    unpacked = np.empty_like(codes)
    quantize.unpack_codes(packed, n_bits, unpacked)
    np.testing.assert_array_equal(unpacked, ref.unpack(packed, n_bits, m))
    np.testing.assert_array_equal(unpacked, codes)
    low, step = rng.normal(size=m), rng.uniform(0.1, 1, size=m)
    dense = np.empty((9, m))
    quantize.dequantize_packed(packed, n_bits, low, step, dense)
    np.testing.assert_array_equal(dense, low + codes * step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bits", BITS)
@pytest.mark.parametrize("stochastic", [True, False])
def test_quantize_rows_matches_reference(rng, dtype, n_bits, stochastic):
    m = 37
    values = rng.uniform(-1.2, 1.2, size=(6, m)).astype(dtype)  # some outside the range: clipped
    row_words = rng.integers(0, 2**32, size=(6, 6), dtype=np.uint32)
    low, step = np.full(m, -1.0), np.full(m, 2.0 / (2**n_bits - 1))
    grid = quantize.work_grid(low, step, n_bits, dtype)
    seed = np.uint64(99)
    packed = np.zeros((6, quantize.packed_row_bytes(m, n_bits)), dtype=np.uint8)
    quantize.quantize_rows(values, row_words, seed, *grid, step, low, n_bits, stochastic, True,
                           packed, np.empty((6, 0), dtype=dtype))
    u = ref.noise(row_words, seed, m) if stochastic else 0.5
    codes = ref.quantize(values, low, step, n_bits, u)
    np.testing.assert_array_equal(packed, ref.pack(codes, n_bits))
    dense = np.empty((6, m), dtype=dtype)
    quantize.quantize_rows(values, row_words, seed, *grid, step, low, n_bits, stochastic, False,
                           np.empty((6, 0), dtype=np.uint8), dense)
    np.testing.assert_array_equal(dense, (low + codes * step).astype(dtype))


def test_fwht_matches_dense_hadamard(rng):
    x = rng.normal(size=(5, 64))
    expected = ref.fwht(x)
    hadamard.fwht_rows(x)
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d, f", [(5, 20), (8, 8), (13, 50)])
def test_sorf_project_matches_dense_weights(rng, d, f):
    p = 1 << int(np.ceil(np.log2(d)))
    n_blocks = -(-f // p)
    signs = rng.choice([-1.0, 1.0], size=(n_blocks, 3, p))
    scales = rng.uniform(0.5, 2, size=f)
    x = rng.normal(size=(4, d))
    out = np.empty((4, f))
    hadamard.sorf_project(x, signs, scales, out)
    np.testing.assert_allclose(out, x @ ref.sorf_weights(signs, scales)[:d], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_components, n_freq", [(30, 30), (30, 15), (31, 16)])
@pytest.mark.parametrize("n_bits", [0, 2, 8])
def test_rff_rows_matches_reference(rng, dtype, n_components, n_freq, n_bits):
    c, d = 8, 5
    X = rng.normal(size=(c, d)).astype(dtype)
    W = rng.normal(size=(d, n_freq))
    offset = rng.uniform(0, 2 * np.pi, size=n_freq)
    offset[: n_components - n_freq] = 0.0
    projection = X @ W.astype(dtype)
    r = np.sqrt(2.0 / n_components)
    low = np.full(n_components, -r)
    step = np.full(n_components, 2 * r / (2 ** max(n_bits, 1) - 1))
    grid = quantize.work_grid(low, step, max(n_bits, 1), dtype)
    seed = np.uint64(3)
    row_words = X.view(np.uint32)
    dense = np.empty((c, n_components), dtype=dtype)
    rff_rows(projection, offset.astype(dtype), row_words, seed, r, dtype == np.float32, n_bits, True,
             *grid, step, low, False, np.empty((c, 0), dtype=np.uint8), dense)
    expected = ref.rff_values(X, W, offset.astype(dtype).astype(np.float64), n_components)
    if n_bits == 0:
        tol = 1e-6 * r if dtype == np.float32 else 1e-13 * r
        np.testing.assert_allclose(dense, expected, rtol=0, atol=tol)
        return
    # quantized: the kernel's codes are the reference rounding of its own float features
    floats = np.empty((c, n_components), dtype=dtype)
    rff_rows(projection, offset.astype(dtype), row_words, seed, r, dtype == np.float32, 0, True,
             *grid, step, low, False, np.empty((c, 0), dtype=np.uint8), floats)
    codes = ref.quantize(floats, low, step, n_bits, ref.noise(row_words, seed, n_components))
    np.testing.assert_array_equal(dense, (low + codes * step).astype(dtype))
    packed = np.zeros((c, quantize.packed_row_bytes(n_components, n_bits)), dtype=np.uint8)
    rff_rows(projection, offset.astype(dtype), row_words, seed, r, dtype == np.float32, n_bits, True,
             *grid, step, low, True, packed, np.empty((c, 0), dtype=dtype))
    np.testing.assert_array_equal(packed, ref.pack(codes, n_bits))


@pytest.mark.skipif(os.environ.get("NUMBA_BOUNDSCHECK") == "1", reason="already the bounds-checked run")
def test_kernels_under_numba_bounds_checking(tmp_path):
    """Re-run this file's kernel tests with every kernel compiled with index checks."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    tests = [os.path.join(os.path.dirname(__file__), name)
             for name in ("test_kernels.py", "test_packed.py")]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests,
         "-k", "not bounds_checking"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
