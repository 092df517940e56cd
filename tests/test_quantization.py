"""The behaviour of lpkernel/quantization.py: the Quantizer (DESIGN §3)."""

import pickle

import numpy as np
import pytest
from scipy import sparse
from scipy.linalg import hadamard
from sklearn.exceptions import NotFittedError
from sklearn.kernel_approximation import Nystroem
from threadpoolctl import threadpool_limits

from lpkernel import PackedFeatures, Quantizer
from lpkernel.quantization import _nearest_error, hadamard_rotate

BITS = (1, 2, 4, 8, 16)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # the matrices here are tiny: BLAS threads only cost wake-ups on a loaded machine
    with threadpool_limits(1):
        yield


def on_grid(rng, n, ranges, n_bits, dtype=np.float64):
    """Values -r + q * 2r / (2^b - 1) for random codes q, with q = 0 in every column."""
    levels = (1 << n_bits) - 1
    codes = rng.integers(0, levels + 1, size=(n, len(ranges)))
    codes[0] = 0  # makes max |x| = r exactly, so the quantizer learns r itself
    ranges = np.asarray(ranges, dtype=np.float64)
    values = -ranges + codes * (2.0 * ranges / levels)
    return values.astype(dtype), codes


def heavy_tailed(rng, n=400, m=6):
    return rng.standard_t(2, size=(n, m))


def nystroem_features(m=64, seed=0):
    X = np.random.default_rng(seed).normal(size=(600, 5))
    return Nystroem(n_components=m, gamma=0.2, random_state=0).fit_transform(X)


# -- exact round trip --------------------------------------------------------------------
@pytest.mark.parametrize("n_bits", BITS)
@pytest.mark.parametrize("rounding", ["stochastic", "nearest"])
def test_values_on_the_grid_come_back_exactly(rng, n_bits, rounding):
    X, codes = on_grid(rng, 50, [1.0, 0.5, 4.0, 2.0, 0.25], n_bits)
    quantizer = Quantizer(n_bits=n_bits, rounding=rounding, random_state=0).fit(X)
    np.testing.assert_array_equal(quantizer.clip_range_, [1.0, 0.5, 4.0, 2.0, 0.25])
    np.testing.assert_array_equal(quantizer.transform(X), X)
    packed = quantizer.set_params(output="packed").transform(X)
    np.testing.assert_array_equal(packed.codes_unpacked(), codes)


@pytest.mark.parametrize("n_bits", BITS)
def test_round_trip_with_one_global_range(rng, n_bits):
    X, codes = on_grid(rng, 40, [2.0] * 4, n_bits)
    quantizer = Quantizer(n_bits=n_bits, per_feature=False, random_state=1).fit(X)
    assert quantizer.clip_range_ == 2.0
    np.testing.assert_array_equal(quantizer.transform(X), X)


@pytest.mark.parametrize("n_bits", (1, 2, 4, 8))
def test_round_trip_in_float32(rng, n_bits):
    X, codes = on_grid(rng, 40, [1.0, 0.5, 2.0], n_bits, dtype=np.float32)
    Z = Quantizer(n_bits=n_bits, rounding="nearest").fit(X).transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_array_equal(Z, X)


# -- rounding statistics -----------------------------------------------------------------
def test_stochastic_rounding_is_unbiased_over_seeds(rng):
    X = rng.uniform(-1.0, 1.0, size=(30, 8))
    n_seeds = 400
    mean = np.zeros_like(X)
    for seed in range(n_seeds):
        mean += Quantizer(n_bits=2, random_state=seed).fit(X).transform(X)
    mean /= n_seeds
    step = 2.0 * np.abs(X).max(axis=0) / 3
    # each value is one of two levels a step apart: variance <= step^2 / 4
    bound = 5.0 * step / (2.0 * np.sqrt(n_seeds))
    assert np.all(np.abs(mean - X) <= bound)
    # nearest rounding is its own mean over seeds, off by up to step / 2: it fails the bound
    nearest = Quantizer(n_bits=2, rounding="nearest").fit(X).transform(X)
    assert not np.all(np.abs(nearest - X) <= bound)


def test_rounding_error_stays_within_one_step(rng):
    X = rng.normal(size=(200, 7))
    for rounding, limit in (("stochastic", 1.0), ("nearest", 0.5)):
        quantizer = Quantizer(n_bits=4, rounding=rounding, random_state=0).fit(X)
        step = 2 * quantizer.clip_range_ / 15
        assert np.all(np.abs(quantizer.transform(X) - X) <= limit * step + 1e-12)


def test_noise_depends_on_row_content_not_position(rng):
    X = rng.normal(size=(100, 12))
    quantizer = Quantizer(n_bits=2, rotate="orthogonal", random_state=0).fit(X)
    full = quantizer.transform(X)
    order = rng.permutation(100)
    np.testing.assert_array_equal(quantizer.transform(X[order]), full[order])
    np.testing.assert_array_equal(quantizer.transform(X[17:18]), full[17:18])
    chunked = quantizer.set_params(chunk_size=16, n_jobs=2).transform(X)
    np.testing.assert_array_equal(chunked, full)
    # a different seed draws different noise
    other = Quantizer(n_bits=2, random_state=1).fit(X).transform(X)
    plain = Quantizer(n_bits=2, random_state=0).fit(X).transform(X)
    assert not np.array_equal(other, plain)


def test_random_state_reproduces_the_output(rng):
    X = rng.normal(size=(64, 10))
    first = Quantizer(n_bits=4, rotate="hadamard", clip="adaptive", random_state=3)
    second = Quantizer(n_bits=4, rotate="hadamard", clip="adaptive", random_state=3)
    np.testing.assert_array_equal(first.fit_transform(X), second.fit_transform(X))


# -- clipping range ----------------------------------------------------------------------
@pytest.mark.parametrize("n_bits", (1, 2, 4, 8))
@pytest.mark.parametrize("per_feature", [True, False])
def test_adaptive_clip_is_no_worse_than_maxabs(rng, n_bits, per_feature):
    X = heavy_tailed(rng)
    errors = {}
    for clip in ("maxabs", "adaptive"):
        quantizer = Quantizer(n_bits, clip=clip, per_feature=per_feature, rounding="nearest")
        errors[clip] = np.sum((X - quantizer.fit(X).transform(X)) ** 2)
    assert errors["adaptive"] <= errors["maxabs"] * (1 + 1e-12)
    if n_bits <= 2:  # heavy tails: clipping the few large values pays off a lot
        assert errors["adaptive"] < 0.1 * errors["maxabs"]


@pytest.mark.parametrize("n_bits", (1, 2, 4, 8))
def test_adaptive_clip_matches_a_brute_force_search(rng, n_bits):
    X = heavy_tailed(rng)
    quantizer = Quantizer(n_bits, clip="adaptive", rounding="nearest").fit(X)
    found = ((X - quantizer.transform(X)) ** 2).sum(axis=0)
    # reference: the best of 4,000 ranges per column, plain NumPy
    maxabs = np.abs(X).max(axis=0)
    ranges = maxabs[None, :] * np.linspace(1e-3, 1.0, 4000)[:, None]
    levels = (1 << n_bits) - 1
    errors = np.empty_like(ranges)
    for k, r in enumerate(ranges):
        step = 2 * r / levels
        q = np.clip(np.floor((X + r) / step + 0.5), 0, levels)
        errors[k] = ((X - (-r + q * step)) ** 2).sum(axis=0)
    best = errors.min(axis=0)
    # the objective is bumpy on the scale of one step, so the search is near-optimal
    # rather than optimal per column (measured: within 1.3 % at 8 bits, 0.01 % below)
    np.testing.assert_array_less(found, best * 1.02)
    assert found.sum() <= best.sum() * 1.005
    np.testing.assert_allclose(found, _nearest_error(X, quantizer.clip_range_, levels))


def test_numeric_clip_clips_values_outside_the_range(rng):
    X = rng.normal(scale=3.0, size=(100, 4))
    Z = Quantizer(n_bits=8, clip=1.0, random_state=0).fit(X).transform(X)
    assert Z.max() == 1.0 and Z.min() == -1.0
    inside = np.abs(X) < 1.0
    assert np.all(np.abs(Z - X)[inside] <= 2.0 / 255 + 1e-12)


def test_zero_column_is_stored_as_exact_zeros(rng):
    X = rng.normal(size=(20, 3))
    X[:, 1] = 0.0
    for clip in ("maxabs", "adaptive"):
        quantizer = Quantizer(n_bits=2, clip=clip, random_state=0).fit(X)
        assert quantizer.clip_range_[1] == 0.0
        assert np.all(quantizer.transform(X)[:, 1] == 0.0)


# -- rotation ----------------------------------------------------------------------------
def dense_hadamard_rotation(signs, permutations, m):
    """Reference: the explicit m x m matrix of hadamard_rotate, from scipy's Hadamard matrix."""
    rotation = np.eye(m)
    blocks, start = [], 0
    for bit in range(m.bit_length() - 1, -1, -1):
        if m & (1 << bit):
            blocks.append((start, 1 << bit))
            start += 1 << bit
    for r in range(signs.shape[0]):
        step = np.eye(m)
        if permutations is not None:
            step = step[:, permutations[r]]
        step = step * signs[r]
        block_diagonal = np.zeros((m, m))
        for start, size in blocks:
            block_diagonal[start:start + size, start:start + size] = hadamard(size) / np.sqrt(size)
        rotation = rotation @ step @ block_diagonal
    return rotation


@pytest.mark.parametrize("m", [64, 37, 100])
def test_hadamard_rotation_equals_its_dense_matrix(rng, m):
    X = rng.normal(size=(20, m))
    quantizer = Quantizer(n_bits=32, rotate="hadamard", random_state=0).fit(X)
    rotation = dense_hadamard_rotation(quantizer.hadamard_signs_,
                                       quantizer.hadamard_permutations_, m)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(m), atol=1e-12)
    np.testing.assert_allclose(quantizer.transform(X), X @ rotation, atol=1e-12)
    assert (quantizer.hadamard_permutations_ is None) == (m == 64)


@pytest.mark.parametrize("rotate", ["orthogonal", "hadamard"])
@pytest.mark.parametrize("m", [64, 50])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_rotation_preserves_the_gram_matrix(rotate, m, dtype, rtol):
    Z = nystroem_features(m).astype(dtype)
    rotated = Quantizer(n_bits=32, rotate=rotate, random_state=0).fit(Z).transform(Z)
    assert rotated.dtype == dtype
    gram = Z.astype(np.float64) @ Z.T.astype(np.float64)
    gram_rotated = rotated.astype(np.float64) @ rotated.T.astype(np.float64)
    # entrywise error of a dot product of m terms: about m * eps * ||z||^2
    np.testing.assert_allclose(gram_rotated, gram, rtol=0, atol=rtol * np.abs(gram).max())
    assert not np.allclose(rotated, Z)  # it did rotate


@pytest.mark.parametrize("rotate", ["orthogonal", "hadamard"])
@pytest.mark.parametrize("m", [64, 50])
def test_rotation_reduces_4bit_kernel_error_on_nystroem_features(rotate, m):
    Z = nystroem_features(m)
    gram = Z @ Z.T

    def kernel_error(rotation):
        errors = []
        for seed in range(3):
            Zq = Quantizer(n_bits=4, rotate=rotation, random_state=seed).fit_transform(Z)
            errors.append(np.linalg.norm(gram - Zq @ Zq.T) / np.linalg.norm(gram))
        return np.mean(errors)

    # Nyström columns are heavy-tailed (the first carry most energy); measured about 2.5x
    assert kernel_error(rotate) < 0.6 * kernel_error(None)


def test_orthogonal_rotation_is_orthogonal(rng):
    X = rng.normal(size=(10, 30))
    rotation = Quantizer(rotate="orthogonal", random_state=0).fit(X).rotation_
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(30), atol=1e-12)


def test_hadamard_rotate_keeps_dtype_and_input(rng):
    X = rng.normal(size=(5, 8)).astype(np.float32)
    copy = X.copy()
    out = hadamard_rotate(X, np.ones((1, 8)), None)
    np.testing.assert_array_equal(X, copy)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, X @ (hadamard(8) / np.sqrt(8)), rtol=1e-5, atol=1e-6)


# -- output formats ----------------------------------------------------------------------
@pytest.mark.parametrize("n_bits", BITS)
@pytest.mark.parametrize("per_feature", [True, False])
def test_packed_output_matches_dense(rng, n_bits, per_feature):
    X = rng.normal(size=(33, 11)).astype(np.float32)
    quantizer = Quantizer(n_bits=n_bits, per_feature=per_feature, rotate="hadamard",
                          random_state=0).fit(X)
    dense = quantizer.transform(X)
    packed = quantizer.set_params(output="packed").transform(X)
    assert isinstance(packed, PackedFeatures)
    assert packed.n_bits == n_bits and packed.shape == (33, 11)
    assert packed.codes.shape == (33, -(-11 * n_bits // 8))
    np.testing.assert_array_equal(packed.to_dense(), dense)
    assert packed.to_dense().dtype == np.float32
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(packed)).to_dense(), dense)


def test_full_precision_passes_values_through(rng):
    X = rng.normal(size=(12, 5)).astype(np.float32)
    for n_bits in (32, None):
        quantizer = Quantizer(n_bits=n_bits).fit(X)
        assert quantizer.clip_range_ is None
        np.testing.assert_array_equal(quantizer.transform(X), X)


def test_sparse_input_gives_the_dense_result(rng):
    # np.where, not a product: -0.0 has other bytes than the 0.0 a sparse matrix holds
    X = np.where(rng.uniform(size=(40, 9)) < 0.3, rng.normal(size=(40, 9)), 0.0)
    quantizer = Quantizer(n_bits=4, rotate="hadamard", random_state=0)
    dense = quantizer.fit(X).transform(X)
    np.testing.assert_array_equal(quantizer.fit(sparse.csr_matrix(X)).transform(
        sparse.csr_matrix(X)), dense)


def test_feature_names_follow_the_rotation():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
    plain = Quantizer().fit(frame)
    assert list(plain.get_feature_names_out()) == ["a", "b", "c"]
    rotated = Quantizer(rotate="hadamard", random_state=0).fit(frame)
    assert list(rotated.get_feature_names_out()) == ["quantizer0", "quantizer1", "quantizer2"]
    out = rotated.set_output(transform="pandas").transform(frame)
    assert list(out.columns) == ["quantizer0", "quantizer1", "quantizer2"]


def test_pickled_quantizer_transforms_identically(rng):
    X = rng.normal(size=(20, 6))
    quantizer = Quantizer(n_bits=2, rotate="orthogonal", clip="adaptive", random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(quantizer))
    np.testing.assert_array_equal(restored.transform(X), quantizer.transform(X))


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("params, message", [
    ({"n_bits": 3}, "n_bits must be"),
    ({"n_bits": True}, "n_bits must be"),
    ({"rounding": "up"}, "rounding must be"),
    ({"clip": "minmax"}, "clip must be"),
    ({"clip": -1.0}, "clip must be"),
    ({"clip": 0}, "clip must be"),
    ({"clip": np.inf}, "clip must be"),
    ({"per_feature": "yes"}, "per_feature must be"),
    ({"rotate": "random"}, "rotate must be"),
    ({"output": "sparse"}, "output must be"),
    ({"n_bits": 32, "output": "packed"}, "output='packed' stores b-bit codes"),
    ({"chunk_size": 0}, "chunk_size must be"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_bad_parameters_raise_clear_errors(rng, params, message):
    with pytest.raises(ValueError, match=message):
        Quantizer(**params).fit(rng.normal(size=(10, 3)))


@pytest.mark.parametrize("X, message", [
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), "infinity"),
    (np.array([1.0, 2.0, 3.0]), "2D array"),
    (np.empty((0, 3)), "0 sample"),
    (np.empty((3, 0)), "0 feature"),
])
def test_bad_input_raises_clear_errors(X, message):
    with pytest.raises(ValueError, match=message):
        Quantizer().fit(X)


def test_transform_checks_fit_and_feature_count(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(NotFittedError):
        Quantizer().transform(X)
    quantizer = Quantizer().fit(X)
    with pytest.raises(ValueError, match="features"):
        quantizer.transform(rng.normal(size=(10, 4)))
    with pytest.raises(ValueError, match="NaN"):
        quantizer.transform(np.full((2, 3), np.nan))
