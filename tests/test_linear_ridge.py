"""LowPrecisionRidge(Classifier): scikit-learn's ridge on the dequantized features."""

import pickle
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import linalg, sparse
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from lpkernel import PackedFeatures, RandomFourierFeatures
from lpkernel.linear import LowPrecisionRidge, LowPrecisionRidgeClassifier

# Both sides solve the same m x m positive definite system in float64; with the
# condition numbers below (alpha >= 1e-3 on ~unit-scale features) the solutions
# agree to ~1e-13, so 1e-8 leaves room only for rounding, not for a different model.
TOL = 1e-8


def packed_features(n=240, m=40, n_bits=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(dtype)
    rff = RandomFourierFeatures(m, gamma=0.3, n_bits=n_bits, output="packed", random_state=seed)
    return X, rff.fit_transform(X)


@pytest.fixture(scope="module")
def data():
    X, P = packed_features()
    rng = np.random.default_rng(1)
    y2 = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2] + 0.1 * rng.normal(size=(len(X), 2))
    weights = rng.uniform(0.0, 3.0, size=len(X))
    weights[:10] = 0.0  # zero weights must act as removed rows
    return P, y2, weights


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("targets", "alpha"), [("1d", 1e-3), ("1d", 1.0), ("2d", 1e-3),
                                               ("2d", 1.0), ("2d", np.array([0.1, 2.0]))])
def test_ridge_equals_sklearn_on_dequantized(data, fit_intercept, weighted, targets, alpha):
    P, y2, weights = data
    y = y2[:, 0] if targets == "1d" else y2
    sample_weight = weights if weighted else None
    ours = LowPrecisionRidge(alpha=alpha, fit_intercept=fit_intercept, chunk_size=37)
    ours.fit(P, y, sample_weight=sample_weight)
    Z = P.to_dense()
    reference = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(Z, y,
                                                                     sample_weight=sample_weight)
    assert ours.coef_.shape == reference.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(reference.intercept_)
    assert_allclose(ours.coef_, reference.coef_, rtol=0, atol=TOL)
    assert_allclose(ours.intercept_, reference.intercept_, rtol=0, atol=TOL)
    assert_allclose(ours.predict(P), reference.predict(Z), rtol=0, atol=TOL)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_classifier_equals_sklearn(data, n_classes, class_weight):
    P, y2, weights = data
    labels = np.array(["a", "b", "c", "d"])[: n_classes]
    y = labels[np.digitize(y2[:, 0], np.quantile(y2[:, 0], np.linspace(0, 1, n_classes + 1)[1:-1]))]
    ours = LowPrecisionRidgeClassifier(alpha=0.05, class_weight=class_weight, chunk_size=50)
    ours.fit(P, y, sample_weight=weights)
    Z = P.to_dense()
    reference = RidgeClassifier(alpha=0.05, class_weight=class_weight).fit(Z, y,
                                                                           sample_weight=weights)
    assert_array_equal(ours.classes_, reference.classes_)
    assert ours.coef_.shape == reference.coef_.shape
    assert_allclose(ours.coef_, reference.coef_, rtol=0, atol=TOL)
    assert_allclose(ours.decision_function(P), reference.decision_function(Z), rtol=0, atol=TOL)
    assert_array_equal(ours.predict(P), reference.predict(Z))
    assert ours.score(P, y) == reference.score(Z, y)


def test_packed_dense_sparse_give_identical_models(data):
    P, y2, weights = data
    Z = P.to_dense()
    models = [LowPrecisionRidge(alpha=0.1, chunk_size=64).fit(X, y2, sample_weight=weights)
              for X in (P, Z, sparse.csr_matrix(Z))]
    for model in models[1:]:
        # the same values go through the same chunks: bit-for-bit the same model
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)
    assert_allclose(models[0].predict(sparse.csr_matrix(Z)), models[0].predict(P), atol=1e-12)


def test_chunk_size_does_not_change_the_model(data):
    P, y2, weights = data
    fits = [LowPrecisionRidge(alpha=0.1, chunk_size=c).fit(P, y2, sample_weight=weights)
            for c in (1, 7, 1000, None)]
    for fit in fits[1:]:
        assert_allclose(fit.coef_, fits[0].coef_, rtol=0, atol=1e-11)
        assert_allclose(fit.intercept_, fits[0].intercept_, rtol=0, atol=1e-11)


def test_one_pass_centering_keeps_digits_for_offset_features():
    # features with mean 1e4 and unit spread: accumulating raw ZᵀZ then subtracting
    # n·mean·meanᵀ would cancel ~8 of 16 digits; shifting by the first chunk does not
    rng = np.random.default_rng(3)
    X = 1e4 + rng.normal(size=(500, 6))
    y = X @ rng.normal(size=6) + rng.normal(size=500)
    ours = LowPrecisionRidge(alpha=1.0, chunk_size=50).fit(X, y)
    reference = Ridge(alpha=1.0).fit(X, y)
    assert_allclose(ours.coef_, reference.coef_, rtol=1e-9)
    assert_allclose(ours.predict(X), reference.predict(X), rtol=1e-12)


def test_float32_features_give_float32_model():
    X, P32 = packed_features(dtype=np.float32)
    assert P32.dtype == np.float32
    y = np.sin(X[:, 0]).astype(np.float64)
    ours = LowPrecisionRidge(alpha=0.1).fit(P32, y)
    assert ours.coef_.dtype == np.float32
    assert ours.predict(P32).dtype == np.float32
    reference = Ridge(alpha=0.1).fit(P32.to_dense(dtype=np.float64), y)
    # float32 Gram accumulation: relative error of order 1e-7 * condition number
    assert_allclose(ours.predict(P32), reference.predict(P32.to_dense(dtype=np.float64)),
                    rtol=0, atol=1e-4)


def test_zero_alpha_gives_the_minimum_norm_least_squares_solution():
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(50, 4))
    Z = np.c_[Z, Z[:, :2]]  # duplicated columns: ZᵀZ is singular
    y = rng.normal(size=50)
    ours = LowPrecisionRidge(alpha=0.0).fit(Z, y)
    minimum_norm = np.linalg.lstsq(Z - Z.mean(0), y - y.mean(), rcond=None)[0]
    assert_allclose(ours.coef_, minimum_norm, atol=1e-8)
    assert ours.intercept_ == pytest.approx(y.mean() - Z.mean(0) @ minimum_norm, abs=1e-8)


def test_failed_cholesky_warns_and_falls_back(data, monkeypatch):
    from lpkernel.linear import _ridge

    P, y2, _ = data
    expected = LowPrecisionRidge(alpha=0.1).fit(P, y2)
    monkeypatch.setattr(_ridge, "ridge_solve", lambda gram, cross, alpha: None)
    with pytest.warns(linalg.LinAlgWarning, match="singular"):
        fallback = LowPrecisionRidge(alpha=0.1).fit(P, y2)
    assert_allclose(fallback.coef_, expected.coef_, atol=1e-10)


def test_memory_stays_order_m_squared_plus_chunk():
    # n x m floats would be 16 MB; the Gram matrix is 32 KB and one chunk 32 KB
    n, m, chunk = 32_000, 64, 64
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 16, size=(n, m))
    P = PackedFeatures.from_codes(codes, n_bits=4, low=-0.2, step=0.4 / 15)
    y = rng.normal(size=n)
    model = LowPrecisionRidge(alpha=1.0, chunk_size=chunk)
    model.fit(P[:100], y[:100])  # compile the kernels outside the measurement
    tracemalloc.start()
    model.fit(P, y)
    fit_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    model.predict(P)
    predict_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense_bytes = n * m * 8
    assert fit_peak < dense_bytes / 20, fit_peak
    # predict returns n floats; its work space is one chunk on top
    assert predict_peak < n * 8 + dense_bytes / 20, predict_peak


def test_pipeline_grid_search_matches_sklearn_on_dense_lp_features():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 2))
    y = (np.hypot(X[:, 0], X[:, 1]) > 1.1).astype(int)
    grid = {"randomfourierfeatures__n_components": [64, 128],
            "lowprecisionridgeclassifier__alpha": [0.01, 1.0]}
    packed = make_pipeline(RandomFourierFeatures(n_bits=4, gamma=1.0, output="packed",
                                                 random_state=0),
                           LowPrecisionRidgeClassifier())
    search = GridSearchCV(packed, grid, cv=3).fit(X, y)
    dense = make_pipeline(RandomFourierFeatures(n_bits=4, gamma=1.0, random_state=0),
                          RidgeClassifier())
    dense_grid = {k.replace("lowprecisionridgeclassifier", "ridgeclassifier"): v
                  for k, v in grid.items()}
    reference = GridSearchCV(dense, dense_grid, cv=3).fit(X, y)
    # the LP-RFF dense output equals the packed features dequantized, so every
    # fold scores the same
    def scores(result, prefix):
        return {(p["randomfourierfeatures__n_components"], p[prefix + "__alpha"]): s
                for p, s in zip(result.cv_results_["params"],
                                result.cv_results_["mean_test_score"], strict=True)}

    ours, theirs = scores(search, "lowprecisionridgeclassifier"), scores(reference,
                                                                         "ridgeclassifier")
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert value == pytest.approx(theirs[key], abs=1e-12)
    assert search.best_score_ > 0.85


def test_pickle_round_trip(data):
    P, y2, _ = data
    model = LowPrecisionRidge(alpha=0.1).fit(P, y2)
    clone = pickle.loads(pickle.dumps(model))
    assert_array_equal(clone.predict(P), model.predict(P))


@pytest.mark.parametrize("Estimator", [LowPrecisionRidge, LowPrecisionRidgeClassifier])
def test_bad_input_raises_clear_errors(data, Estimator):
    P, y2, _ = data
    y = (y2[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="requires y"):
        Estimator().fit(P, None)
    with pytest.raises(ValueError, match="NaN"):
        Estimator().fit(P, np.where(np.arange(len(y)) == 3, np.nan, y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator().fit(P, y[:-1])
    with pytest.raises(ValueError, match="alpha"):
        Estimator(alpha=-1.0).fit(P, y)
    with pytest.raises(ValueError, match="fit_intercept"):
        Estimator(fit_intercept="yes").fit(P, y)
    with pytest.raises(ValueError, match="chunk_size"):
        Estimator(chunk_size=0).fit(P, y)
    with pytest.raises(ValueError, match="non-negative"):
        Estimator().fit(P, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="sums to zero"):
        Estimator().fit(P, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"sample_weight.shape"):
        Estimator().fit(P, y, sample_weight=np.ones(len(y) + 1))
    with pytest.raises(ValueError, match="at least one sample"):
        Estimator().fit(P[:0], y[:0])
    model = Estimator().fit(P, y)
    _, other = packed_features(m=24)
    with pytest.raises(ValueError, match="features"):
        model.predict(other)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((2, P.shape[1]), np.nan))


def test_regressor_specific_errors(data):
    P, y2, _ = data
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        LowPrecisionRidge(alpha=[1.0, 2.0, 3.0]).fit(P, y2)
    with pytest.raises(ValueError, match="dim 3"):
        LowPrecisionRidge().fit(P, y2[:, :, None])


def test_classifier_specific_errors(data):
    P, y2, _ = data
    with pytest.raises(ValueError, match="at least 2 classes"):
        LowPrecisionRidgeClassifier().fit(P, np.zeros(len(y2)))
    with pytest.raises(ValueError, match="Unknown label type"):
        LowPrecisionRidgeClassifier().fit(P, y2[:, 0])
    with pytest.raises(ValueError, match="alpha must be a float"):
        LowPrecisionRidgeClassifier(alpha=[1.0, 2.0]).fit(P, (y2[:, 0] > 0).astype(int))
