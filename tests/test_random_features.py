"""RandomFourierFeatures: approximation, low precision, invariance, the scikit-learn surface."""

import pickle
import tracemalloc

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from lpkernel import PackedFeatures, RandomFourierFeatures
from lpkernel._sampling import ALLOWED_SAMPLING
from lpkernel.kernels import shift_invariant_kernel

from . import reference as ref

# (kernel, kernel_params, n_features, gamma): gamma puts typical kernel values near
# 0.3-0.5 on standard normal data, where a factor-2 bandwidth error is large.
KERNEL_CASES = [
    ("rbf", None, 32, 1 / 64),
    ("laplacian", None, 8, 1 / 9),
    ("matern", {"nu": 0.5}, 32, 1 / 128),
    ("matern", {"nu": 1.5}, 32, 1 / 128),
    ("matern", {"nu": 2.5}, 32, 1 / 128),
    ("sparse_rbf", {"n_nonzero": 3}, 6, 1 / 6),
]
PAIRS = [(k, p, d, g, s) for k, p, d, g in KERNEL_CASES for s in ALLOWED_SAMPLING[k]]
# SORF at a small d that is not a power of two (its blocks are padded)
PAIRS += [("rbf", None, 5, 1 / 10, "structured"), ("matern", {"nu": 1.5}, 3, 1 / 12, "structured")]


def _mean_abs_error(Z, K):
    return np.abs(Z @ Z.T - K).mean()


@pytest.mark.parametrize("kernel, params, d, gamma, sampling", PAIRS,
                         ids=[f"{k}-{(p or {}).get('nu', '')}-{s}" for k, p, _, _, s in PAIRS])
def test_kernel_error_falls_like_inverse_sqrt_m(kernel, params, d, gamma, sampling):
    X = np.random.default_rng(1).normal(size=(80, d))
    K = shift_invariant_kernel(X, kernel=kernel, gamma=gamma, kernel_params=params)
    K_wrong = shift_invariant_kernel(X, kernel=kernel, gamma=2 * gamma, kernel_params=params)
    errors = {}
    for m in (256, 4096):
        rff = RandomFourierFeatures(m, kernel=kernel, gamma=gamma, kernel_params=params,
                                    sampling=sampling, random_state=0)
        errors[m] = _mean_abs_error(rff.fit_transform(X), K)
        # each entry of ZZ^T averages m terms of variance <= 3/2 (cos features): the mean
        # absolute error is below sqrt(1.5/m) (Jensen)
        assert errors[m] < np.sqrt(1.5 / m), (m, errors[m])
    # O(1/sqrt(m)): 16x the features, at least 2.5x (4x expected) less error
    assert errors[4096] < errors[256] / 2.5
    # a factor-2 bandwidth error breaks the bound by far
    Z = RandomFourierFeatures(4096, kernel=kernel, gamma=gamma, kernel_params=params,
                              sampling=sampling, random_state=0).fit_transform(X)
    assert _mean_abs_error(Z, K_wrong) > 3 * np.sqrt(1.5 / 4096)


@pytest.mark.parametrize("m", [255, 256])
def test_sincos_pairs_share_a_frequency(m):
    X = np.random.default_rng(2).normal(size=(20, 3))
    est = RandomFourierFeatures(m, features="sincos", random_state=0).fit(X)
    Z = est.transform(X)
    pairs = m // 2
    f = est.random_offset_.shape[0]
    assert f == pairs + m % 2
    np.testing.assert_array_equal(est.random_offset_[:pairs], 0.0)
    # cos^2 + sin^2 = 1 for every pair: sqrt(2/m)^2 each
    np.testing.assert_allclose(Z[:, :pairs] ** 2 + Z[:, f:] ** 2, 2 / m, rtol=1e-12)
    if m % 2:  # the extra cos carries a random phase
        assert est.random_offset_[-1] != 0.0


@pytest.mark.parametrize("m", [255, 256])
def test_sincos_features_are_unbiased_with_lower_error(m):
    X = np.random.default_rng(2).normal(size=(60, 16))
    K = shift_invariant_kernel(X, gamma=1 / 32)
    errs = {f: np.mean([_mean_abs_error(RandomFourierFeatures(m, gamma=1 / 32, features=f,
                                                              random_state=s).fit_transform(X), K)
                        for s in range(5)]) for f in ("cos", "sincos")}
    assert errs["sincos"] < errs["cos"]
    # unbiased: the mean of ZZ^T over 40 seeds approaches K like 1/sqrt(40 m)
    mean = np.mean([(lambda Z: Z @ Z.T)(RandomFourierFeatures(m, gamma=1 / 32, features="sincos",
                                                             random_state=s).fit_transform(X))
                    for s in range(40)], axis=0)
    assert np.abs(mean - K).mean() < np.sqrt(1.0 / (40 * m))


def test_weights_follow_the_spectral_density():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 4))
    rbf = RandomFourierFeatures(20000, gamma=0.5, random_state=0).fit(X)
    assert abs(rbf.random_weights_.std() - 1.0) < 0.01  # N(0, 2 gamma)
    lap = RandomFourierFeatures(20000, kernel="laplacian", gamma=0.5, random_state=0).fit(X)
    assert abs(np.median(np.abs(lap.random_weights_)) - 0.5) < 0.01  # Cauchy(0, gamma): median |w| = gamma
    sp = RandomFourierFeatures(500, kernel="sparse_rbf", kernel_params={"n_nonzero": 2},
                               random_state=0).fit(X)
    assert ((sp.random_weights_ != 0).sum(axis=0) == 2).all()
    offsets = rbf.random_offset_
    assert offsets.min() >= 0 and offsets.max() < 2 * np.pi


def test_structured_stores_o_m_and_matches_dense_reference():
    X = np.random.default_rng(3).normal(size=(20, 10))
    rff = RandomFourierFeatures(100, sampling="structured", gamma=0.1, random_state=0).fit(X)
    assert not hasattr(rff, "random_weights_")
    assert rff.hadamard_signs_.shape == (2, 3, 64) and rff.frequency_scales_.shape == (100,)
    W = ref.sorf_weights(rff.hadamard_signs_, rff.frequency_scales_)[:10]
    expected = ref.rff_values(X, W, rff.random_offset_, 100)
    np.testing.assert_allclose(rff.transform(X), expected, rtol=0, atol=1e-12)
    circ = RandomFourierFeatures(25, sampling="circulant", gamma=0.1, random_state=0).fit(X)
    W = ref.circulant_weights(circ.circulant_vectors_, circ.circulant_signs_, 25)
    np.testing.assert_allclose(circ.transform(X), ref.rff_values(X, W, circ.random_offset_, 25),
                               rtol=0, atol=1e-12)


# -- low precision -----------------------------------------------------------------------------

@pytest.mark.parametrize("n_bits", [1, 2, 4, 8, 16])
def test_lp_values_lie_on_the_grid(n_bits):
    X = np.random.default_rng(4).normal(size=(50, 6))
    m = 64
    Z = RandomFourierFeatures(m, n_bits=n_bits, random_state=0).fit_transform(X)
    r = np.sqrt(2 / m)
    q = (Z + r) / (2 * r / (2**n_bits - 1))
    np.testing.assert_allclose(q, np.round(q), rtol=0, atol=1e-6)
    assert q.min() > -1e-6 and q.max() < 2**n_bits - 1 + 1e-6


@pytest.mark.parametrize("n_bits", [1, 2, 4])
def test_stochastic_rounding_is_unbiased_with_bounded_variance(n_bits):
    """Same frequencies, 3000 noise seeds: mean within a 5-sigma band, variance <= delta_b^2 / m."""
    X = np.random.default_rng(5).normal(size=(4, 3))
    m = 50
    base = RandomFourierFeatures(m, gamma=0.3, random_state=0).fit(X)
    exact = base.transform(X)
    lp = clone(base).set_params(n_bits=n_bits).fit(X)
    samples = []
    for seed in range(3000):
        lp._noise_seed = np.uint64(seed)  # vary only the rounding noise
        samples.append(lp.transform(X))
    samples = np.array(samples)
    step = 2 * np.sqrt(2 / m) / (2**n_bits - 1)
    sigma = step / 2  # the largest standard deviation of a rounding to a neighbour
    assert np.abs(samples.mean(axis=0) - exact).max() < 5 * sigma / np.sqrt(3000)
    delta_sq = 2 / (2**n_bits - 1) ** 2
    assert samples.var(axis=0).max() <= delta_sq / m * 1.2  # chi-square slack at 3000 draws
    # off the diagonal the kernel estimate stays unbiased (independent noise per row); on it,
    # E[Q(z)^2] = z^2 + Var, so the diagonal gains the noise variance, at most delta_b^2
    K_exact = exact @ exact.T
    K_mean = np.mean([s @ s.T for s in samples], axis=0)
    off = ~np.eye(4, dtype=bool)
    assert np.abs(K_mean - K_exact)[off].max() < 0.01
    diagonal_gain = np.diag(K_mean - K_exact)
    assert (diagonal_gain > 0).all() and (diagonal_gain <= delta_sq * 1.2).all()


def test_nearest_rounding_is_deterministic_and_matches_reference():
    X = np.random.default_rng(6).normal(size=(30, 5))
    m, n_bits = 40, 2
    floats = RandomFourierFeatures(m, random_state=0).fit_transform(X)
    near = RandomFourierFeatures(m, n_bits=n_bits, rounding="nearest", random_state=0).fit(X)
    first = near.transform(X)
    near._noise_seed = np.uint64(12345)  # the noise stream must not matter
    np.testing.assert_array_equal(near.transform(X), first)
    r = np.sqrt(2 / m)
    step = 2 * r / (2**n_bits - 1)
    expected = -r + step * ref.quantize(floats, np.full(m, -r), np.full(m, step), n_bits, 0.5)
    np.testing.assert_array_equal(first, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bits", [None, 4])
def test_same_row_same_output_across_chunks_threads_subsets_orders(dtype, n_bits):
    X = np.random.default_rng(7).normal(size=(203, 9)).astype(dtype)
    kw = dict(n_components=70, n_bits=n_bits, random_state=3)
    full = RandomFourierFeatures(**kw).fit(X).transform(X)
    for chunk_size, n_jobs in [(1, 1), (17, 1), (16, 2), (64, -1), (1000, 2)]:
        est = RandomFourierFeatures(**kw, chunk_size=chunk_size, n_jobs=n_jobs).fit(X)
        np.testing.assert_array_equal(est.transform(X), full)
    est = RandomFourierFeatures(**kw).fit(X)
    perm = np.random.default_rng(0).permutation(203)
    np.testing.assert_array_equal(est.transform(X[perm]), full[perm])
    np.testing.assert_array_equal(est.transform(X[5:8]), full[5:8])
    for i in (0, 101, 202):
        np.testing.assert_array_equal(est.transform(X[i:i + 1]), full[i:i + 1])
    if n_bits:
        packed = clone(est).set_params(output="packed").fit(X).transform(X)
        np.testing.assert_array_equal(packed.to_dense(), full)
        np.testing.assert_array_equal(packed[perm[:10]].to_dense(), full[perm[:10]])


def test_negative_zero_rounds_like_zero():
    X = np.array([[0.0, 1.5], [-0.0, 1.5]])
    est = RandomFourierFeatures(64, n_bits=1, random_state=0).fit(X)
    Z = est.transform(X)
    np.testing.assert_array_equal(Z[0], Z[1])
    assert np.signbit(X[1, 0])  # the input is not modified


def test_packed_output_holds_real_bits():
    X = np.random.default_rng(8).normal(size=(1000, 4)).astype(np.float32)
    for n_bits in (1, 2, 4, 8, 16):
        P = RandomFourierFeatures(256, n_bits=n_bits, output="packed", random_state=0).fit_transform(X)
        assert isinstance(P, PackedFeatures)
        assert P.n_bits == n_bits and P.shape == (1000, 256) and P.dtype == np.float32
        assert P.codes.nbytes == 1000 * 256 * n_bits // 8
        assert P.nbytes - P.codes.nbytes == 16
        assert pickle.loads(pickle.dumps(P)) == P


def test_packed_transform_never_holds_the_float_matrix():
    X = np.random.default_rng(9).normal(size=(20000, 20)).astype(np.float32)
    rff = RandomFourierFeatures(1024, n_bits=4, output="packed", chunk_size=512, random_state=0).fit(X)
    rff.transform(X[:100])  # compile first
    tracemalloc.start()
    P = rff.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense_bytes = 20000 * 1024 * 4
    chunk_bytes = 512 * 1024 * 4
    map_bytes = rff.random_weights_.size * 4 + 3 * 1024 * 8  # float32 weights, grid arrays
    assert peak <= P.nbytes + chunk_bytes + map_bytes + 64 * 1024, (peak, P.nbytes)
    assert peak < dense_bytes / 6


def test_float32_stays_float32():
    X = np.random.default_rng(10).normal(size=(40, 3))
    for n_bits in (None, 8):
        rff = RandomFourierFeatures(32, n_bits=n_bits, random_state=0).fit(X.astype(np.float32))
        Z32 = rff.transform(X.astype(np.float32))
        assert Z32.dtype == np.float32
        Z64 = rff.transform(X)
        assert Z64.dtype == np.float64
        np.testing.assert_allclose(Z32, Z64, atol=1e-5 if n_bits is None else 2 * np.sqrt(2 / 32) / 255)


def test_sparse_input_gives_the_dense_result():
    X = sparse.random(50, 12, density=0.3, random_state=0, format="csr")
    for n_bits in (None, 2):
        rff = RandomFourierFeatures(30, n_bits=n_bits, random_state=0).fit(X)
        dense = rff.transform(X.toarray())
        np.testing.assert_array_equal(rff.transform(X), dense)
        np.testing.assert_array_equal(rff.transform(X.tocsc()), dense)
    scale = RandomFourierFeatures(gamma="scale").fit(X)
    assert np.isclose(scale.gamma_, 1 / (12 * X.toarray().var()))


def test_gamma_heuristics():
    X = np.random.default_rng(11).normal(size=(300, 6)) * 3
    assert np.isclose(RandomFourierFeatures().fit(X).gamma_, 1 / (6 * X.var()))
    median = RandomFourierFeatures(gamma="median", random_state=0).fit(X).gamma_
    d2 = ((X[:, None] - X[None]) ** 2).sum(-1)[np.triu_indices(300, 1)]
    assert np.isclose(median, 1 / np.median(d2))
    assert RandomFourierFeatures().fit(np.ones((5, 2))).gamma_ == 1.0  # zero variance


# -- scikit-learn surface ------------------------------------------------------------------------

def test_pipeline_gridsearch_clone_and_feature_names():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.5).astype(int)  # a circle: linear models fail
    pipe = make_pipeline(RandomFourierFeatures(random_state=0), RidgeClassifier(alpha=0.1))
    search = GridSearchCV(pipe, {"randomfourierfeatures__n_components": [8, 512],
                                 "randomfourierfeatures__n_bits": [None, 4]}, cv=3).fit(X, y)
    assert search.best_params_["randomfourierfeatures__n_components"] == 512
    assert search.best_score_ > 0.85
    linear = GridSearchCV(RidgeClassifier(), {"alpha": [0.1]}, cv=3).fit(X, y)
    assert search.best_score_ > linear.best_score_ + 0.15
    est = RandomFourierFeatures(5, n_bits=2, random_state=0)
    assert clone(est).get_params() == est.get_params()
    names = est.fit(X).get_feature_names_out()
    assert list(names) == [f"randomfourierfeatures{i}" for i in range(5)]


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.default_rng(13).normal(size=(10, 3)), columns=["a", "b", "c"])
    rff = RandomFourierFeatures(4, random_state=0).set_output(transform="pandas").fit(X)
    out = rff.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(rff.get_feature_names_out())
    np.testing.assert_array_equal(rff.feature_names_in_, ["a", "b", "c"])


def test_estimator_pickles_and_reproduces():
    X = np.random.default_rng(14).normal(size=(30, 3))
    for sampling in ("iid", "structured", "circulant", "qmc", "orthogonal"):
        rff = RandomFourierFeatures(16, sampling=sampling, n_bits=4, random_state=5).fit(X)
        again = pickle.loads(pickle.dumps(rff))
        np.testing.assert_array_equal(again.transform(X), rff.transform(X))
        np.testing.assert_array_equal(
            RandomFourierFeatures(16, sampling=sampling, n_bits=4, random_state=5).fit_transform(X),
            rff.transform(X))


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({"n_bits": 3}, "n_bits must be None, 32 or one of"),
    ({"n_components": 0}, "n_components must be >= 1"),
    ({"n_components": 2.5}, "n_components must be an integer"),
    ({"kernel": "poly"}, "kernel must be one of"),
    ({"sampling": "sobolev"}, "sampling must be one of"),
    ({"kernel": "laplacian", "sampling": "orthogonal"}, "does not fit kernel='laplacian'"),
    ({"kernel": "sparse_rbf", "sampling": "qmc"}, "does not fit kernel='sparse_rbf'"),
    ({"output": "packed"}, "output='packed' stores b-bit codes"),
    ({"output": "sparse"}, "output must be one of"),
    ({"rounding": "up"}, "rounding must be one of"),
    ({"features": "sin"}, "features must be one of"),
    ({"gamma": -1.0}, "gamma must be > 0"),
    ({"gamma": "auto"}, "gamma must be one of"),
    ({"kernel_params": {"nu": 1.5}}, "not used by kernel='rbf'"),
    ({"kernel": "matern", "kernel_params": {"nu": 3.5}}, "nu'] must be one of"),
    ({"chunk_size": 0}, "chunk_size must be >= 1"),
    ({"n_jobs": 0}, "n_jobs == 0"),
])
def test_invalid_parameters_raise_clear_errors(params, message):
    with pytest.raises(ValueError, match=message):
        RandomFourierFeatures(**params).fit(np.ones((3, 2)))


@pytest.mark.parametrize("X, message", [
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "infinity"),
    (np.array([1.0, 2.0]), "Expected 2D array"),
    (np.empty((0, 3)), "0 sample"),
    (np.array([["a", "b"]], dtype=object), "could not convert|Unable to convert|dtype"),
    (np.array([[1 + 2j, 1.0]]), "Complex data not supported"),
])
def test_invalid_input_raises_clear_errors(X, message):
    with pytest.raises(ValueError, match=message):
        RandomFourierFeatures().fit(X)
    n_features = X.shape[-1] if X.ndim == 2 else 2
    fitted = RandomFourierFeatures(n_bits=2, output="packed").fit(np.ones((3, n_features)))
    with pytest.raises(ValueError, match=message):
        fitted.transform(X)


def test_structural_parameters_changed_after_fit_raise():
    X = np.random.default_rng(15).normal(size=(10, 3))
    rff = RandomFourierFeatures(10, random_state=0).fit(X)
    for params in ({"n_components": 5}, {"n_components": 2000}, {"sampling": "structured"},
                   {"features": "sincos"}, {"kernel": "laplacian"}):
        with pytest.raises(ValueError, match="changed since fit; call fit again"):
            pickle.loads(pickle.dumps(rff)).set_params(**params).transform(X)
    rff.set_params(n_bits=2, output="packed").transform(X)  # these may change


def test_packed_output_refuses_set_output_containers():
    pytest.importorskip("pandas")
    rff = RandomFourierFeatures(4, n_bits=2, output="packed", random_state=0)
    rff.set_output(transform="pandas").fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="set_output cannot wrap"):
        rff.transform(np.ones((3, 2)))


def test_huge_frequencies_stay_in_range():
    X = np.random.default_rng(16).normal(size=(30, 4)).astype(np.float32)
    for gamma in (1e8, 1e16):
        Z = RandomFourierFeatures(64, gamma=gamma, kernel="laplacian", random_state=0).fit_transform(X)
        assert np.isfinite(Z).all() and np.abs(Z).max() <= np.sqrt(2 / 64) * (1 + 1e-6)


def test_wrong_n_features_at_transform():
    rff = RandomFourierFeatures().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="4 features"):
        rff.transform(np.ones((3, 5)))
