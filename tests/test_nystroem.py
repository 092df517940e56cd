"""Behaviour of lpkernel.Nystroem (DESIGN §4): drop-in for scikit-learn's, landmark samplers,
the stable inverse square root, float32, chunking, and clear errors."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.sparse.linalg import eigsh
from sklearn.datasets import make_classification
from sklearn.kernel_approximation import Nystroem as SklearnNystroem
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics.pairwise import chi2_kernel, kernel_metrics, polynomial_kernel, rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from lpkernel import Nystroem
from lpkernel.kernels import matern_kernel
from lpkernel.nystroem import recursive_rls_indices, ridge_leverage_estimates


def _linear_kernel(x, y):
    return np.dot(x, y)


def spectral_error(K, Z):
    """||K - Z Z^T||_2: the Nyström residual is a Schur complement, PSD, so its top eigenvalue."""
    return eigsh(K - Z @ Z.T, k=1, which="LA", return_eigenvectors=False)[0]


# -- drop-in for scikit-learn ---------------------------------------------------------
@pytest.mark.parametrize("kernel, params", [("rbf", {}), ("laplacian", {"gamma": 0.5}),
                                            ("poly", {"degree": 2, "coef0": 1.0})])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniform_landmarks_and_features_equal_sklearn(kernel, params, seed):
    X = np.random.RandomState(seed).uniform(size=(150, 5))
    ours = Nystroem(20, kernel=kernel, random_state=seed, **params).fit(X)
    ref = SklearnNystroem(kernel=kernel, n_components=20, random_state=seed, **params).fit(X)
    assert_array_equal(ours.component_indices_, ref.component_indices_)
    assert_array_equal(ours.components_, ref.components_)
    assert ours.n_dropped_eigenvalues_ == 0
    assert_allclose(ours.normalization_, ref.normalization_, rtol=1e-7, atol=1e-9)
    X_new = np.random.RandomState(seed + 10).uniform(size=(40, 5))
    assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-8, atol=1e-10)


def test_uniform_equals_sklearn_in_float32_on_a_well_conditioned_kernel():
    X = np.random.RandomState(0).uniform(size=(100, 5)).astype(np.float32)
    ours = Nystroem(10, random_state=3).fit(X)
    ref = SklearnNystroem(n_components=10, random_state=3).fit(X)
    assert ours.n_dropped_eigenvalues_ == 0
    assert_allclose(ours.transform(X), ref.transform(X), atol=2e-4)


@pytest.mark.parametrize("kernel, params, reference", [
    ("rbf", {"gamma": 0.5}, lambda X: rbf_kernel(X, gamma=0.5)),
    ("laplacian", {}, lambda X: np.exp(-np.abs(X[:, None] - X[None]).sum(-1) / X.shape[1])),
    ("matern", {"gamma": 0.5, "kernel_params": {"nu": 2.5}},
     lambda X: matern_kernel(X, gamma=0.5, nu=2.5)),
    ("poly", {"degree": 3, "coef0": 0.1}, lambda X: polynomial_kernel(X, degree=3, coef0=0.1)),
])
@pytest.mark.parametrize("sampling", ["uniform", "kmeans", "rls"])
def test_m_equal_n_reconstructs_the_kernel(kernel, params, reference, sampling):
    X = np.random.RandomState(0).uniform(size=(40, 4))
    Z = Nystroem(X.shape[0], kernel=kernel, sampling=sampling, random_state=0,
                 **params).fit_transform(X)
    assert Z.shape == (40, 40)
    assert np.abs(Z @ Z.T - reference(X)).max() < 1e-10


def test_singular_kernel_drops_the_zero_eigenvalues():
    # scikit-learn's test: duplicated rows make K_mm singular
    X = np.random.RandomState(0).rand(10, 20)
    X = np.vstack([X] * 2)
    ny = Nystroem(gamma=100, n_components=X.shape[0]).fit(X)
    Z = ny.transform(X)
    assert np.all(np.isfinite(Z))
    # gamma = 100 makes distinct rows orthogonal: K_mm = 10 blocks [[1, 1], [1, 1]], with
    # eigenvalues 2 (ten) and 0 (ten, computed at the rounding level of the rbf GEMM)
    assert ny.n_dropped_eigenvalues_ == 10
    assert np.abs(Z @ Z.T - rbf_kernel(X, gamma=100)).max() < 1e-10


def test_default_parameters_as_sklearn():
    X = np.random.RandomState(42).uniform(size=(10, 4))
    Z = Nystroem(n_components=10).fit_transform(X)
    assert_allclose(Z @ Z.T, rbf_kernel(X, gamma=None), atol=1e-10)  # gamma = 1 / n_features
    Z = Nystroem(kernel="chi2", n_components=10).fit_transform(X)
    assert_allclose(Z @ Z.T, chi2_kernel(X, gamma=1), atol=1e-10)


@pytest.mark.parametrize("kernel", list(kernel_metrics()) + [_linear_kernel])
def test_every_sklearn_kernel_and_a_callable_fit(kernel):
    X = np.random.RandomState(0).uniform(size=(10, 4))
    Z = Nystroem(n_components=2, kernel=kernel, random_state=0).fit(X).transform(X)
    assert Z.shape == (10, 2)
    assert np.all(np.isfinite(Z))


def test_callable_kernel_is_called_once_per_pair_and_rejects_gamma():
    X = list(np.random.RandomState(42).uniform(size=(10, 4)))
    log = []

    def logging_histogram_kernel(x, y, log):
        log.append(1)
        return np.minimum(x, y).sum()

    Nystroem(kernel=logging_histogram_kernel, n_components=9, kernel_params={"log": log}).fit(X)
    assert len(log) == 10 * 9 / 2
    for param in ({"gamma": 1}, {"coef0": 1}, {"degree": 2}):
        with pytest.raises(ValueError, match="Don't pass gamma, coef0 or degree to Nystroem"):
            Nystroem(kernel=_linear_kernel, n_components=9, **param).fit(X)


def test_callable_kernel_m_equal_n_is_exact():
    X = np.random.RandomState(1).uniform(size=(12, 3))

    def histogram(x, y):
        return np.minimum(x, y).sum()

    Z = Nystroem(12, kernel=histogram).fit_transform(X)
    K = np.minimum(X[:, None], X[None]).sum(-1)
    assert np.abs(Z @ Z.T - K).max() < 1e-10


def test_precomputed_kernel_m_equal_n_and_parameters():
    X = np.random.RandomState(12).uniform(size=(10, 4))
    K = polynomial_kernel(X, degree=2, coef0=0.1)
    Z = Nystroem(kernel="precomputed", n_components=10).fit_transform(K)
    assert np.abs(Z @ Z.T - K).max() < 1e-10
    for param in ({"gamma": 1}, {"coef0": 1}, {"degree": 2}):
        with pytest.raises(ValueError, match="Don't pass gamma, coef0 or degree to Nystroem"):
            Nystroem(kernel="precomputed", n_components=10, **param).fit(K)


@pytest.mark.parametrize("sampling", ["uniform", "rls"])
def test_precomputed_kernel_gives_the_features_of_the_kernel(sampling):
    # fit on K(train, train), transform K(new, train): the same map as kernel="rbf" on X
    rng = np.random.RandomState(0)
    X, X_new = rng.normal(size=(200, 3)), rng.normal(size=(30, 3))
    ny = Nystroem(25, kernel="precomputed", sampling=sampling, random_state=5)
    ny.fit(rbf_kernel(X, gamma=0.3))
    on_x = Nystroem(25, gamma=0.3, sampling=sampling, random_state=5).fit(X)
    assert_array_equal(ny.component_indices_, on_x.component_indices_)
    assert_allclose(ny.transform(rbf_kernel(X_new, X, gamma=0.3)), on_x.transform(X_new),
                    rtol=1e-7, atol=1e-9)


def test_component_indices_point_at_the_landmarks():
    X, _ = make_classification(n_samples=100, n_features=20, random_state=0)
    for sampling in ("uniform", "rls"):
        ny = Nystroem(n_components=10, sampling=sampling, random_state=0).fit(X)
        assert ny.component_indices_.shape == (10,)
        assert len(np.unique(ny.component_indices_)) == 10
        assert_array_equal(X[ny.component_indices_], ny.components_)
    # k-means centres and user landmarks are not training rows
    assert not hasattr(Nystroem(10, sampling="kmeans", random_state=0).fit(X),
                       "component_indices_")
    ny = Nystroem(10, random_state=0).fit(X)
    ny.set_params(landmarks=X[:5]).fit(X)
    assert not hasattr(ny, "component_indices_")


def test_feature_names_out():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.RandomState(0).uniform(size=(30, 3)), columns=["a", "b", "c"])
    ny = Nystroem(n_components=7).fit(X)
    assert_array_equal(ny.feature_names_in_, ["a", "b", "c"])
    assert_array_equal(ny.get_feature_names_out(), [f"nystroem{i}" for i in range(7)])
    out = ny.set_output(transform="pandas").transform(X)
    assert list(out.columns) == [f"nystroem{i}" for i in range(7)]


# -- the inverse square root and float32 -------------------------------------------------
def test_float32_is_preserved_and_more_accurate_than_clipping():
    X = np.random.RandomState(0).uniform(size=(600, 3))
    K = rbf_kernel(X, gamma=1.0)
    X32 = X.astype(np.float32)
    ny = Nystroem(200, gamma=1.0, random_state=0).fit(X32)
    Z = ny.transform(X32)
    assert Z.dtype == ny.normalization_.dtype == ny.components_.dtype == np.float32
    # most of this smooth kernel's spectrum is below float32 rounding: dropped, not inverted
    assert ny.n_dropped_eigenvalues_ > 100
    ours = np.abs(K - Z.astype(np.float64) @ Z.T.astype(np.float64)).max()
    Z_sk = SklearnNystroem(n_components=200, gamma=1.0, random_state=0).fit_transform(X32)
    clipped = np.abs(K - Z_sk.astype(np.float64) @ Z_sk.T.astype(np.float64)).max()
    assert ours < 2e-4
    assert ours < clipped / 20


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-6), (np.float64, 1e-12)])
def test_thin_factor_path_equals_the_normalization(dtype, tolerance):
    # 1-D data, smooth kernel: K_mm has few eigenvalues above rounding, so transform
    # takes two thin GEMMs, K (U S^-1/2) U^T, instead of K @ normalization_.T
    X = np.linspace(0, 1, 300)[:, None].astype(dtype)
    ny = Nystroem(100, gamma=1.0, random_state=0).fit(X)
    assert 2 * (100 - ny.n_dropped_eigenvalues_) < 100
    Z = ny.transform(X).astype(np.float64)
    full = pickle.loads(pickle.dumps(ny))
    full._thin_factors = None  # force the one-GEMM path through normalization_
    Z_full = full.transform(X).astype(np.float64)
    K = rbf_kernel(X.astype(np.float64), gamma=1.0)
    thin_error = np.abs(Z @ Z.T - K).max()
    full_error = np.abs(Z_full @ Z_full.T - K).max()
    # the same map: both within rounding of K; normalization_ has entries up to
    # 1/sqrt(eps), so the one-GEMM path loses more digits than the thin one
    assert thin_error < tolerance
    assert thin_error <= full_error < 1e5 * tolerance


def test_user_landmarks_follow_the_pseudo_inverse_formula():
    rng = np.random.RandomState(0)
    X, C = rng.normal(size=(80, 3)), rng.normal(size=(15, 3))
    ny = Nystroem(n_components=3, gamma=0.4, sampling="rls", landmarks=C).fit(X)
    assert_array_equal(ny.components_, C)
    Z = ny.transform(X)
    assert Z.shape == (80, 15)  # m = n_landmarks; n_components and sampling are not used
    K_nc = rbf_kernel(X, C, gamma=0.4)
    reference = K_nc @ np.linalg.pinv(rbf_kernel(C, gamma=0.4)) @ K_nc.T
    assert np.abs(Z @ Z.T - reference).max() < 1e-9
    # training rows as landmarks reproduce uniform sampling
    uniform = Nystroem(15, gamma=0.4, random_state=1).fit(X)
    given = Nystroem(gamma=0.4, landmarks=X[uniform.component_indices_]).fit(X)
    assert_allclose(given.transform(X), uniform.transform(X), rtol=1e-12, atol=1e-12)


def test_sparse_input_equals_dense():
    X = sparse.random(60, 8, density=0.3, format="csr", random_state=0)
    dense = Nystroem(12, gamma=0.5, random_state=0).fit(X.toarray())
    sparse_fit = Nystroem(12, gamma=0.5, random_state=0).fit(X)
    assert sparse.issparse(sparse_fit.components_)
    assert_allclose(sparse_fit.transform(X), dense.transform(X.toarray()), rtol=1e-9, atol=1e-11)


def test_threads_and_chunks_do_not_change_the_features():
    # 520 landmarks make 1,024-row chunks: 2,500 rows are three chunks, the last one short.
    # 8-D data keep K_mm well conditioned, so thread counts (BLAS summation orders) agree to
    # rounding; a row's features in any batch are bit-identical (zero-padded row blocks).
    X = np.random.RandomState(0).normal(size=(2_500, 8))
    ny = Nystroem(520, gamma=0.5, random_state=0).fit(X)
    Z = ny.transform(X)
    Z_threads = ny.set_params(n_jobs=2).transform(X)
    assert_allclose(Z_threads, Z, rtol=1e-12, atol=1e-14)
    assert_array_equal(ny.set_params(n_jobs=1).transform(X[17:50]), Z[17:50])


# -- landmark samplers ------------------------------------------------------------------
def unbalanced_clusters(seed):
    """700 points in one tight cluster and 5 far clusters of 20: uniform sampling misses some."""
    rng = np.random.RandomState(seed)
    big = 0.1 * rng.normal(size=(700, 3))
    centers = rng.uniform(-10, 10, size=(5, 3)) + [25.0, 0.0, 0.0]
    small = np.vstack([c + 0.2 * rng.normal(size=(20, 3)) for c in centers])
    return np.vstack([big, small])


def test_rls_and_kmeans_beat_uniform_on_unbalanced_clusters():
    errors = {"uniform": [], "rls": [], "kmeans": []}
    for seed in range(4):
        X = unbalanced_clusters(seed)
        K = rbf_kernel(X, gamma=1.0)
        for sampling, values in errors.items():
            Z = Nystroem(40, gamma=1.0, sampling=sampling, random_state=seed).fit_transform(X)
            values.append(spectral_error(K, Z))
    mean = {key: np.mean(values) for key, values in errors.items()}
    # a missed cluster leaves its eigenvalue (about 17) in the residual
    assert mean["uniform"] > 10
    assert mean["rls"] < 0.3 * mean["uniform"]
    assert mean["kmeans"] < 0.3 * mean["uniform"]


def test_ridge_leverage_estimates_with_every_point_are_exact():
    X = np.random.RandomState(0).normal(size=(50, 3))
    K = rbf_kernel(X, gamma=0.5)
    lam = 0.3
    exact = np.diag(K @ np.linalg.inv(K + lam * np.eye(50)))
    estimate = ridge_leverage_estimates(K, np.diag(K), K, np.ones(50), lam)
    assert_allclose(estimate, exact, rtol=1e-9, atol=1e-12)


def test_recursive_rls_never_forms_the_full_kernel():
    X = unbalanced_clusters(0)
    n, s = X.shape[0], 40
    shapes = []

    def kernel_rows(rows, cols):
        shapes.append((len(rows), len(cols)))
        return rbf_kernel(X[rows], X[cols], gamma=1.0)

    indices = recursive_rls_indices(n, s, kernel_rows, np.ones(n), np.random.RandomState(0))
    assert indices.shape == (s,)
    assert len(np.unique(indices)) == s
    assert indices.min() >= 0 and indices.max() < n
    # blocks are (rows x sample) with the sample about s (random at inner levels), never n x n
    assert max(cols for _, cols in shapes) <= 2 * s < n
    # the small clusters (rows 700 on) hold 12 % of the points but get more of the landmarks
    assert np.mean(indices >= 700) > 0.2


def test_kmeans_landmarks_are_cluster_means():
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    X = np.vstack([c + 0.1 * rng.normal(size=(30, 2)) for c in centers])
    ny = Nystroem(4, sampling="kmeans", random_state=0).fit(X)
    means = np.array([X[30 * i: 30 * (i + 1)].mean(axis=0) for i in range(4)])
    found = ny.components_[np.lexsort(ny.components_.T[::-1])]
    assert_allclose(found, means[np.lexsort(means.T[::-1])], atol=1e-10)


@pytest.mark.parametrize("sampling", ["uniform", "kmeans", "rls"])
def test_random_state_reproducible_and_pickles(sampling):
    X = np.random.RandomState(0).normal(size=(120, 3))
    first = Nystroem(15, sampling=sampling, random_state=7).fit(X)
    second = Nystroem(15, sampling=sampling, random_state=7).fit(X)
    assert_array_equal(first.components_, second.components_)
    restored = pickle.loads(pickle.dumps(first))
    assert_array_equal(restored.transform(X), first.transform(X))


def test_works_in_a_grid_search_over_sampling():
    X, y = make_classification(n_samples=150, n_features=5, random_state=0)
    pipe = make_pipeline(Nystroem(20, random_state=0), RidgeClassifier())
    search = GridSearchCV(pipe, {"nystroem__sampling": ["uniform", "kmeans", "rls"]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.8


# -- bad input ---------------------------------------------------------------------
@pytest.fixture
def X_small():
    return np.random.RandomState(0).normal(size=(20, 3))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_raise(X_small, bad):
    X = X_small.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        Nystroem(5).fit(X)
    ny = Nystroem(5).fit(X_small)
    with pytest.raises(ValueError, match="NaN|infinity"):
        ny.transform(X)


def test_shape_errors(X_small):
    with pytest.raises(ValueError, match="2D array"):
        Nystroem(5).fit(X_small[:, 0])
    with pytest.raises(ValueError, match="0 sample"):
        Nystroem(5).fit(X_small[:0])
    ny = Nystroem(5).fit(X_small)
    with pytest.raises(ValueError, match="3 features"):
        ny.transform(X_small[:, :2])
    with pytest.raises(ValueError, match="square kernel matrix"):
        Nystroem(5, kernel="precomputed").fit(X_small)


def test_n_components_above_n_samples_warns_and_clips(X_small):
    for sampling in ("uniform", "kmeans", "rls"):
        ny = Nystroem(50, sampling=sampling, random_state=0)
        with pytest.warns(UserWarning, match="n_components > n_samples"):
            ny.fit(X_small)
        assert ny.components_.shape == (20, 3)
        assert ny.transform(X_small).shape == (20, 20)
        assert_array_equal(ny.get_feature_names_out(), [f"nystroem{i}" for i in range(20)])


@pytest.mark.parametrize("params, message", [
    ({"kernel": "gaussian"}, "kernel must be a callable, 'precomputed' or one of"),
    ({"sampling": "leverage"}, "sampling must be one of"),
    ({"n_components": 0}, "n_components must be >= 1"),
    ({"n_components": 2.5}, "n_components must be an integer"),
    ({"gamma": -1.0}, "gamma must be > 0"),
    ({"degree": 0.5}, "degree must be >= 1"),
    ({"kernel_params": [1]}, "kernel_params must be a dict"),
    ({"kernel": "matern", "kernel_params": {"nu": 1.0}}, "nu'\\] must be one of"),
    ({"kernel": "matern", "kernel_params": {"alpha": 1.0}}, "are not used by kernel='matern'"),
    ({"n_jobs": 0}, "n_jobs == 0"),
    ({"kernel": "precomputed", "sampling": "kmeans"}, "sampling='kmeans' needs feature vectors"),
])
def test_bad_parameters_raise_clear_errors(X_small, params, message):
    with pytest.raises(ValueError, match=message):
        Nystroem(**params).fit(X_small)


@pytest.mark.parametrize("landmarks, message", [
    (np.zeros(3), "landmarks must be a 2-D array"),
    (np.zeros((4, 2)), "landmarks must be a 2-D array"),
    (np.zeros((0, 3)), "landmarks must be a 2-D array|0 sample"),
    (np.full((4, 3), np.nan), "NaN"),
])
def test_bad_landmarks_raise(X_small, landmarks, message):
    with pytest.raises(ValueError, match=message):
        Nystroem(landmarks=landmarks).fit(X_small)


def test_landmarks_with_precomputed_kernel_raise():
    K = rbf_kernel(np.random.RandomState(0).normal(size=(10, 2)))
    with pytest.raises(ValueError, match="cannot be used with kernel='precomputed'"):
        Nystroem(kernel="precomputed", landmarks=np.zeros((3, 10))).fit(K)


def test_transform_before_fit_raises(X_small):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Nystroem().transform(X_small)


def test_no_warning_on_duplicate_rows_with_kmeans():
    X = np.repeat(np.random.RandomState(0).normal(size=(5, 2)), 4, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ny = Nystroem(10, sampling="kmeans", random_state=0).fit(X)
    Z = ny.transform(X)
    assert np.abs(Z @ Z.T - rbf_kernel(X, gamma=0.5)).max() < 1e-10


def test_ridge_from_tail_randomized_matches_the_exact_tail():
    from lpkernel.nystroem import _ridge_from_tail

    X = np.random.RandomState(0).normal(size=(600, 4))
    K = rbf_kernel(X, gamma=0.3)
    weights = np.random.RandomState(1).uniform(1.0, 2.0, size=600)
    weighted = K * np.outer(weights, weights)
    rank = 50  # 600 > 4 * 50 + 200: the randomized branch
    eigenvalues = np.linalg.eigvalsh(weighted)
    exact = (np.trace(weighted) - eigenvalues[-rank:].sum()) / rank
    lam = _ridge_from_tail(K, weights, rank, np.random.RandomState(2))
    # Ritz values never exceed the eigenvalues, so lam is never below the exact one
    assert exact * (1 - 1e-9) <= lam < 1.1 * exact
