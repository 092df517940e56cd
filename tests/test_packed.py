"""PackedFeatures: exact round trips, row slicing, pickling, memory."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lpkernel import PackedFeatures

from . import reference as ref

BITS = (1, 2, 4, 8, 16)


@st.composite
def codes_and_bits(draw):
    n_bits = draw(st.sampled_from(BITS))
    n = draw(st.integers(0, 6))
    m = draw(st.integers(1, 40))
    codes = draw(arrays(np.uint16, (n, m), elements=st.integers(0, 2**n_bits - 1)))
    return codes, n_bits


@settings(max_examples=150, deadline=None)
@given(codes_and_bits())
def test_pack_unpack_round_trip_is_exact(case):
    codes, n_bits = case
    P = PackedFeatures.from_codes(codes, n_bits, low=-1.0, step=0.25)
    np.testing.assert_array_equal(P.codes_unpacked(), codes)
    np.testing.assert_array_equal(P.codes, ref.pack(codes, n_bits))
    np.testing.assert_array_equal(P.to_dense(), -1.0 + 0.25 * codes)


def test_nbytes_is_n_m_b_over_8_plus_grid(rng):
    for n_bits in BITS:
        codes = rng.integers(0, 2**n_bits, size=(100, 64))
        P = PackedFeatures.from_codes(codes, n_bits, low=-0.5, step=0.1)
        assert P.codes.nbytes == 100 * 64 * n_bits // 8
        assert P.nbytes == 100 * 64 * n_bits // 8 + 16  # two float64 scalars for the grid
    per_column = PackedFeatures.from_codes(codes, 16, low=np.zeros(64), step=np.ones(64))
    assert per_column.nbytes == 100 * 64 * 2 + 2 * 64 * 8


def test_row_selection_and_chunks(rng):
    codes = rng.integers(0, 16, size=(50, 13))
    low, step = rng.normal(size=13), rng.uniform(0.1, 1, size=13)
    P = PackedFeatures.from_codes(codes, 4, low=low, step=step, dtype=np.float32)
    dense = (low + codes * step).astype(np.float32)
    assert len(P) == 50 and P.shape == (50, 13) and P.ndim == 2
    np.testing.assert_array_equal(P.to_dense(), dense)
    np.testing.assert_array_equal(P[10:20].to_dense(), dense[10:20])
    np.testing.assert_array_equal(P[[3, 1, 3]].to_dense(), dense[[3, 1, 3]])
    mask = rng.random(50) < 0.5
    np.testing.assert_array_equal(P[mask].to_dense(), dense[mask])
    np.testing.assert_array_equal(P[-1].to_dense(), dense[-1:])
    np.testing.assert_array_equal(P.to_dense(rows=slice(5, 9), dtype=np.float64),
                                  (low + codes[5:9] * step))
    np.testing.assert_array_equal(np.asarray(P), dense)
    np.testing.assert_array_equal(np.asarray(P, dtype=np.float64), low + codes * step)
    chunks = list(P.iter_dense(chunk_size=16))
    assert [c.shape[0] for _, c in chunks] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.vstack([c for _, c in chunks]), dense)
    with pytest.raises(IndexError, match="row selection only"):
        P[:, 0]
    with pytest.raises(IndexError, match="out of range"):
        P[50]


def test_pickle_round_trip_keeps_codes_and_grid(rng):
    P = PackedFeatures.from_codes(rng.integers(0, 4, size=(30, 9)), 2, low=-1.0, step=0.5)
    Q = pickle.loads(pickle.dumps(P))
    assert Q == P
    assert Q.nbytes == P.nbytes
    np.testing.assert_array_equal(Q.to_dense(), P.to_dense())
    assert len(pickle.dumps(P)) < P.codes.nbytes + 1000


def test_invalid_construction_is_rejected(rng):
    with pytest.raises(ValueError, match="n_bits must be one of"):
        PackedFeatures.from_codes(np.zeros((2, 2), dtype=int), 3, low=0, step=1)
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 3\]"):
        PackedFeatures.from_codes(np.array([[4]]), 2, low=0, step=1)
    with pytest.raises(ValueError, match="codes must have shape"):
        PackedFeatures(np.zeros((2, 3), dtype=np.uint8), 4, 4, 0.0, 1.0)
    P = PackedFeatures.from_codes(np.zeros((2, 2), dtype=int), 2, low=0, step=1)
    for dtype in (int, np.float16, np.longdouble):
        with pytest.raises(ValueError, match="float32 or float64"):
            P.to_dense(dtype=dtype)
    with pytest.raises(ValueError, match="C-contiguous float64 array"):
        P.to_dense(out=np.empty((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"packed bytes \(uint8\)"):
        PackedFeatures(np.full((2, 1), 300, dtype=np.uint16), 8, 1, 0.0, 1.0)


def test_integer_row_selection_in_conversions(rng):
    codes = rng.integers(0, 4, size=(5, 6))
    P = PackedFeatures.from_codes(codes, 2, low=0.0, step=1.0)
    np.testing.assert_array_equal(P.to_dense(rows=2), codes[2:3])
    np.testing.assert_array_equal(P.codes_unpacked(rows=-1), codes[-1:])
