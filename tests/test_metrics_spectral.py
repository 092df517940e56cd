"""lpkernel.metrics: the (Delta1, Delta2) spectral error and the kernel approximation norms.

The reference is the definition of DESIGN §5 done plainly: two full eigendecompositions.
"""

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics.pairwise import laplacian_kernel, polynomial_kernel, rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lpkernel import RandomFourierFeatures
from lpkernel.metrics import (
    _inputs,
    _spectral,
    delta,
    kernel_approximation_error,
    make_spectral_scorer,
    spectral_approximation_error,
)

METHODS = ("dense", "lanczos")


def brute_force_deltas(K, Z, lam):
    """-lambda_min(M) and lambda_max(M), M = (K + lam I)^-1/2 (Z Z^T - K) (K + lam I)^-1/2."""
    values, vectors = np.linalg.eigh(K + lam * np.eye(K.shape[0]))
    inverse_root = (vectors / np.sqrt(values)) @ vectors.T
    M = inverse_root @ (Z @ Z.T - K) @ inverse_root
    spectrum = np.linalg.eigvalsh((M + M.T) / 2)
    return -spectrum[0], spectrum[-1]


def random_fourier(X, m, gamma, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(scale=np.sqrt(2 * gamma), size=(X.shape[1], m))
    b = rng.uniform(0, 2 * np.pi, size=m)
    return np.sqrt(2.0 / m) * np.cos(X @ W + b)


def deltas_by(method, X, Z, lam, kernel="rbf", gamma=0.5):
    problem = _inputs.resolve_problem(X, None, Z, kernel, gamma, None, None, None)
    return _spectral._deltas(problem, lam, method=method)


def assert_close(actual, expected, tol=1e-8):
    # a tolerance relative to max(1, |value|): the Lanczos residual bound is relative
    for a, e in zip(actual, expected, strict=True):
        assert abs(a - e) <= tol * max(1.0, abs(e)), (actual, expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "n, m, lam, duplicated",
    [
        (200, 40, 1.0, False),
        (200, 40, 1e-3, False),
        (200, 500, 0.1, False),  # m > n: Z is reduced to an n x n factor first
        (200, 40, 1e-8, True),  # ill-conditioned: half the points repeated, tiny lam
        (200, 150, 1e-8, True),
    ],
)
def test_spectral_error_matches_brute_force(method, n, m, lam, duplicated):
    rng = np.random.default_rng(n + m)
    X = rng.normal(size=(n, 5))
    if duplicated:
        X[n // 2 :] = X[: n - n // 2]
    Z = random_fourier(X, m, 0.5, seed=m)
    reference = brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, lam)
    assert_close(deltas_by(method, X, Z, lam), reference)


@pytest.mark.parametrize("method", METHODS)
def test_spectral_error_matches_brute_force_other_kernel(method):
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(150, 3))
    Z = rng.normal(size=(150, 30)) / 8
    reference = brute_force_deltas(laplacian_kernel(X, gamma=2.0), Z, 0.05)
    assert_close(deltas_by(method, X, Z, 0.05, kernel="laplacian", gamma=2.0), reference)


def _exact_factor(K):
    values, vectors = np.linalg.eigh(K)
    return vectors * np.sqrt(np.clip(values, 0, None)), np.clip(values, 0, None)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", [0.0, 0.5, 1.0, 1.5])
def test_scaled_exact_factor_closed_form(method, scale):
    # Z = c F with F F^T = K: M = (c^2 - 1) K (K + lam I)^-1, eigenvalues (c^2 - 1) k / (k + lam)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 4))
    K = rbf_kernel(X, gamma=0.3)
    factor, k = _exact_factor(K)
    lam = 0.01
    ratios = (scale**2 - 1) * k / (k + lam)
    delta1, delta2 = deltas_by(method, X, scale * factor, lam, gamma=0.3)
    assert_close((delta1, delta2), (-ratios.min(), ratios.max()), tol=1e-9)
    if scale == 0.0:  # Z = 0: Delta1 = k_max / (k_max + lam)
        assert abs(delta1 - k.max() / (k.max() + lam)) < 1e-10
    if scale == 1.0:  # an exact factor: no error at all
        assert abs(delta1) < 1e-10 and abs(delta2) < 1e-10
    if scale == 0.5:  # K~ strictly below K: Delta2 < 0, returned as is
        assert delta2 < 0
    if scale == 1.5:  # K~ strictly above K: Delta1 < 0
        assert delta1 < 0


@pytest.mark.parametrize("lam", [1e-4, 0.1])
def test_nystroem_edge_and_dense_fallback(monkeypatch, lam):
    # Nystroem's K~ <= K puts Delta2 = 0 at the edge of a dense continuum, the hardest case
    # for Lanczos; a run that exceeds its budget falls back to a dense solve from the factor
    rng = np.random.default_rng(14)
    X = rng.normal(size=(300, 3))
    Z = Nystroem(gamma=0.5, n_components=40, random_state=0).fit(X).transform(X)
    reference = brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, lam)
    assert abs(reference[1]) < 1e-8  # landmarks among the rows: K - K~ is singular
    assert_close(deltas_by("lanczos", X, Z, lam), reference)
    calls = []
    fallback = _spectral._deltas_from_factor
    monkeypatch.setattr(_spectral, "_deltas_from_factor",
                        lambda *args: calls.append(1) or fallback(*args))
    tiny_budget = _spectral._lanczos_options

    def options(n, tol, random_state):
        moderate, settings = tiny_budget(n, tol, random_state)
        return moderate, {**settings, "max_dim": 32}

    monkeypatch.setattr(_spectral, "_lanczos_options", options)
    assert_close(deltas_by("lanczos", X, Z, lam), reference)
    assert calls  # the dense fallback really ran


def test_ranges_over_varied_problems():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    K = rbf_kernel(X, gamma=1.0)
    for lam in (1e-6, 1e-2, 10.0):
        for Z in (np.zeros((80, 5)), 30 * rng.normal(size=(80, 5)),
                  random_fourier(X, 20, 1.0, 0), 1e-3 * rng.normal(size=(80, 400))):
            delta1, delta2 = spectral_approximation_error(X, features=Z, gamma=1.0, lam=lam)
            assert delta1 < 1 and delta2 > -1
            assert_close((delta1, delta2), brute_force_deltas(K, Z, lam))


def test_error_falls_as_m_grows():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(250, 5))
    values = []
    for m in (16, 128, 1024, 4096):
        rff = RandomFourierFeatures(n_components=m, gamma=0.2, random_state=0).fit(X)
        values.append(delta(X, rff, lam=0.5))
    assert all(a > b for a, b in zip(values[:-1], values[1:], strict=True)), values
    assert values[-1] < 0.25 * values[0]


def test_feature_map_inference_matches_explicit_kernel():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 3))
    lap = RandomFourierFeatures(n_components=64, kernel="laplacian", gamma=0.7,
                                random_state=0).fit(X)
    expected = brute_force_deltas(laplacian_kernel(X, gamma=0.7), lap.transform(X), 0.1)
    assert_close(spectral_approximation_error(X, lap, lam=0.1), expected)

    sampler = RBFSampler(gamma=0.4, n_components=50, random_state=0).fit(X)
    expected = brute_force_deltas(rbf_kernel(X, gamma=0.4), sampler.transform(X), 0.1)
    assert_close(spectral_approximation_error(X, sampler, lam=0.1), expected)

    poly = Nystroem(kernel="poly", degree=2, coef0=1.0, gamma=0.5, n_components=30,
                    random_state=0).fit(X)
    K = polynomial_kernel(X, degree=2, coef0=1.0, gamma=0.5)
    expected = brute_force_deltas(K, poly.transform(X), 1.0)
    assert_close(spectral_approximation_error(X, poly, lam=1.0), expected)

    # gamma="scale" leaves RBFSampler's gamma private: ask for it rather than guess
    scaled = RBFSampler(gamma="scale", random_state=0).fit(X)
    with pytest.raises(ValueError, match="gamma"):
        spectral_approximation_error(X, scaled, lam=0.1)
    assert_close(spectral_approximation_error(X, scaled, gamma=0.4, lam=0.1),
                 brute_force_deltas(rbf_kernel(X, gamma=0.4), scaled.transform(X), 0.1))


def test_low_precision_features_are_the_learners_features():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100, 3))
    dense = RandomFourierFeatures(n_components=128, gamma=0.5, n_bits=2, random_state=0).fit(X)
    packed = RandomFourierFeatures(n_components=128, gamma=0.5, n_bits=2, output="packed",
                                   random_state=0).fit(X)
    Z = dense.transform(X)
    assert np.unique(Z).size <= 4  # really the 2-bit values, not the float features
    expected = brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, 0.2)
    assert_close(spectral_approximation_error(X, dense, lam=0.2), expected)
    assert_close(spectral_approximation_error(X, packed, lam=0.2), expected)
    assert_close(spectral_approximation_error(X, features=packed.transform(X), gamma=0.5,
                                              lam=0.2), expected)


def test_pipeline_uses_preprocessed_input_and_later_transformers():
    rng = np.random.default_rng(7)
    X = rng.normal(loc=3.0, scale=[1.0, 5.0, 0.2], size=(90, 3))
    y = (X[:, 0] > 3).astype(int)
    pipe = make_pipeline(StandardScaler(), RandomFourierFeatures(n_components=40, gamma=0.3,
                                                                 random_state=0),
                         StandardScaler(), RidgeClassifier()).fit(X, y)
    scaled = pipe[0].transform(X)
    Z = pipe[2].transform(pipe[1].transform(scaled))
    expected = brute_force_deltas(rbf_kernel(scaled, gamma=0.3), Z, 0.5)
    assert_close(spectral_approximation_error(X, pipe, lam=0.5), expected)


def test_input_types_give_the_same_result():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(100, 4))
    X[X < 0.5] = 0.0
    Z = random_fourier(X, 30, 0.5, 1)
    K = rbf_kernel(X, gamma=0.5)
    expected = brute_force_deltas(K, Z, 0.1)
    assert_close(spectral_approximation_error(sparse.csr_matrix(X), features=Z, gamma=0.5,
                                              lam=0.1), expected)
    assert_close(spectral_approximation_error(K, features=Z, kernel="precomputed", lam=0.1),
                 expected)
    assert_close(spectral_approximation_error(X, features=sparse.csr_matrix(Z), gamma=0.5,
                                              lam=0.1), expected)
    # float32 data: the kernel of the float32 values, the float32 features, computed in float64
    X32 = X.astype(np.float32)
    rff = RandomFourierFeatures(n_components=30, gamma=0.5, random_state=0).fit(X32)
    Z32 = rff.transform(X32)
    assert Z32.dtype == np.float32
    expected32 = brute_force_deltas(rbf_kernel(X32.astype(np.float64), gamma=0.5),
                                    Z32.astype(np.float64), 0.1)
    assert_close(spectral_approximation_error(X32, rff, lam=0.1), expected32)


def test_row_sample():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 3))
    Z = random_fourier(X, 20, 0.5, 2)
    rows = _inputs._sample_rows(300, 60, 0)
    assert rows.shape == (60,) and np.unique(rows).size == 60
    sampled = spectral_approximation_error(X, features=Z, gamma=0.5, lam=0.1, n_samples=60,
                                           random_state=0)
    assert_close(sampled, brute_force_deltas(rbf_kernel(X[rows], gamma=0.5), Z[rows], 0.1))
    full = spectral_approximation_error(X, features=Z, gamma=0.5, lam=0.1)
    assert_close(spectral_approximation_error(X, features=Z, gamma=0.5, lam=0.1,
                                              n_samples=1000), full)


def test_chunked_kernel_fill(monkeypatch):
    # small chunks: the kernel is evaluated in many row blocks, with the same result
    rng = np.random.default_rng(10)
    X = rng.normal(size=(200, 3))
    Z = random_fourier(X, 25, 0.5, 3)
    expected = brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, 0.1)
    monkeypatch.setattr(_inputs, "KERNEL_CHUNK_BYTES", 8 * 4 * 200 * 7)
    problem = _inputs.resolve_problem(X, None, Z, "rbf", 0.5, None, None, None)
    assert len(problem.chunks()) == 29
    for method in METHODS:
        assert_close(_spectral._deltas(problem, 0.1, method=method), expected)
    fro = kernel_approximation_error(X, features=Z, gamma=0.5)
    assert abs(fro - np.linalg.norm(rbf_kernel(X, gamma=0.5) - Z @ Z.T)) < 1e-12 * fro


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lam": 0.0}, "lam"),
        ({"lam": -1.0}, "lam"),
        ({"lam": float("nan")}, "lam"),
        ({"lam": 1.0, "features": np.ones((9, 3))}, "rows"),
        ({"lam": 1.0, "features": np.full((10, 3), np.nan)}, "NaN"),
        ({"lam": 1.0}, "exactly one"),
        ({"lam": 1.0, "features": np.ones((10, 3)), "kernel": "nope"}, "kernel"),
        ({"lam": 1.0, "features": np.ones((10, 3)), "kernel": "precomputed"}, "square"),
        ({"lam": 1.0, "features": np.ones((10, 3)), "n_samples": 0}, "n_samples"),
        ({"lam": 1.0, "features": np.ones((10, 3)), "gamma": -1.0}, "gamma"),
    ],
)
def test_bad_input_raises(kwargs, match):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match):
        spectral_approximation_error(X, **kwargs)


def test_bad_data_raises():
    X = np.random.default_rng(0).normal(size=(10, 2))
    rff = RandomFourierFeatures(n_components=5, random_state=0).fit(X)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        spectral_approximation_error(X_nan, features=np.ones((10, 2)), lam=1.0)
    with pytest.raises(ValueError, match="exactly one"):
        spectral_approximation_error(X, rff, features=np.ones((10, 2)), lam=1.0)
    with pytest.raises(ValueError, match="feature map"):
        spectral_approximation_error(X @ X.T, rff, kernel="precomputed", lam=1.0)
    with pytest.raises(ValueError, match="no kernel feature map"):
        spectral_approximation_error(X, make_pipeline(StandardScaler()).fit(X), lam=1.0)
    with pytest.raises(ValueError, match="norm"):
        kernel_approximation_error(X, rff, norm="nuclear")


@pytest.mark.parametrize("dense_max_rows", [10_000, 0])
def test_kernel_approximation_error_norms(monkeypatch, dense_max_rows):
    monkeypatch.setattr(_spectral, "DENSE_MAX_ROWS", dense_max_rows)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(250, 4))
    Z = random_fourier(X, 60, 0.5, 4)
    E = rbf_kernel(X, gamma=0.5) - Z @ Z.T
    fro = kernel_approximation_error(X, features=Z, gamma=0.5)
    spectral = kernel_approximation_error(X, features=Z, gamma=0.5, norm="spectral")
    assert abs(fro - np.linalg.norm(E)) <= 1e-12 * fro
    assert abs(spectral - np.linalg.norm(E, 2)) <= 1e-9 * spectral


def test_delta_is_the_max():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(60, 2))
    for Z in (random_fourier(X, 10, 1.0, 5), 3 * random_fourier(X, 10, 1.0, 5)):
        pair = spectral_approximation_error(X, features=Z, gamma=1.0, lam=0.3)
        assert delta(X, features=Z, gamma=1.0, lam=0.3) == max(pair)


def test_spectral_scorer_in_grid_search():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(240, 4))
    y = (np.sin(X[:, 0]) + X[:, 1] > 0).astype(int)
    scorer = make_spectral_scorer(0.5, n_samples=50, which="delta")
    search = GridSearchCV(RandomFourierFeatures(gamma=0.3, random_state=0),
                          {"n_components": [4, 64, 1024]}, scoring=scorer, cv=3).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"n_components": 1024}
    assert np.all(scores < 0) and scores[0] < scores[1] < scores[2]

    # inside a Pipeline with a learner, scored alongside accuracy
    pipe = make_pipeline(StandardScaler(), RandomFourierFeatures(gamma=0.3, random_state=0),
                         RidgeClassifier())
    search = GridSearchCV(pipe, {"randomfourierfeatures__n_components": [8, 512]},
                          scoring={"spectral": make_spectral_scorer(0.5, n_samples=40,
                                                                    which="inv_one_minus_delta1"),
                                   "accuracy": "accuracy"},
                          refit="accuracy", cv=2).fit(X, y)
    best = search.best_estimator_
    delta1, _ = spectral_approximation_error(X, best, lam=0.5, n_samples=40, random_state=0)
    scorer = make_spectral_scorer(0.5, n_samples=40, which="inv_one_minus_delta1")
    assert scorer(best, X, y) == -1.0 / (1.0 - delta1)
    assert pickle.loads(pickle.dumps(scorer))(best, X) == scorer(best, X)
    with pytest.raises(ValueError, match="which"):
        make_spectral_scorer(0.5, which="delta3")
    with pytest.raises(ValueError, match="lam"):
        make_spectral_scorer(0.0)


@pytest.mark.parametrize("n, block", [(1, 4), (37, 8), (64, 16), (100, 512)])
def test_blocked_cholesky_matches_lapack(n, block):
    from scipy import linalg

    from lpkernel.metrics._linalg import cholesky_lower_in_place

    rng = np.random.default_rng(n)
    G = rng.normal(size=(n, n + 3))
    A = np.asfortranarray(G @ G.T)
    upper = np.triu(A, 1)
    assert cholesky_lower_in_place(A, block=block) == 0
    assert np.allclose(np.tril(A), linalg.cholesky(G @ G.T, lower=True), rtol=0, atol=1e-10)
    assert np.array_equal(np.triu(A, 1), upper)  # the other triangle is not touched
    # a matrix that is not positive definite reports the failing pivot, as LAPACK's info
    B = np.asfortranarray(np.diag(np.r_[np.ones(n // 2), -1.0, np.ones(n - n // 2 - 1)]))
    assert cholesky_lower_in_place(B, block=block) == n // 2 + 1
    with pytest.raises(ValueError, match="Fortran"):
        cholesky_lower_in_place(np.ones((3, 4)), block=block)


@pytest.mark.parametrize("top_gap", [1e-1, 1e-6, 0.0])
def test_block_lanczos_top_eigenvalue(top_gap):
    # a known spectrum: a top eigenvalue separated by top_gap (0: a double top) from a
    # second, the rest spread close below; single-vector blocks, so the basis has to grow
    # past its first allocation of 32 columns
    from lpkernel.metrics._eigen import BlockLanczos, top_eigenvalue

    rng = np.random.default_rng(15)
    n = 400
    spectrum = np.sort(rng.uniform(-1.0, 1.9, size=n))
    spectrum[-1] = 2.0
    spectrum[-2] = 2.0 - top_gap
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    A = (Q * spectrum) @ Q.T
    theta, residual = top_eigenvalue(lambda V: A @ V, n, block_size=4, tol=1e-12)
    assert abs(theta - 2.0) < 1e-10
    assert np.linalg.eigvalsh(A).max() - theta < 1e-10
    solver = BlockLanczos(n, block_size=1, tol=1e-12)
    while solver.pending() is not None:
        solver.advance(A @ solver.pending())
    assert solver.converged and solver.basis.shape[1] > 32
    assert abs(solver.theta - 2.0) < 1e-10


def test_gil_free_blas_wrappers_match_numpy():
    from lpkernel.metrics._linalg import gemm, gram_lower, product, triangular_in_place

    rng = np.random.default_rng(16)
    A = np.asfortranarray(rng.normal(size=(9, 6)))
    B = np.asfortranarray(rng.normal(size=(6, 4)))
    C = np.asfortranarray(rng.normal(size=(9, 4)))
    assert np.allclose(gemm(A, B), A @ B, rtol=0, atol=1e-13)
    assert np.allclose(gemm(A, C, transpose_a=True), A.T @ C, rtol=0, atol=1e-13)
    assert gemm(A, C, transpose_a=True).flags.f_contiguous
    assert np.array_equal(gemm(A[:, :0], np.zeros((0, 3), order="F")), np.zeros((9, 3)))
    assert np.allclose(product(np.ascontiguousarray(A), B), A @ B, rtol=0, atol=1e-13)
    assert np.allclose(gram_lower(A), np.tril(A @ A.T), rtol=0, atol=1e-13)
    L = np.asfortranarray(np.tril(rng.normal(size=(9, 9))) + 4 * np.eye(9))
    lower = np.tril(L)
    L[np.triu_indices(9, 1)] = 1e6  # the strict upper triangle is never read
    for solve in (False, True):
        for transpose in (False, True):
            op = lower.T if transpose else lower
            expected = np.linalg.solve(op, C) if solve else op @ C
            out = triangular_in_place(L, C.copy(order="F"), solve=solve, transpose=transpose)
            assert np.allclose(out, expected, rtol=0, atol=1e-12), (solve, transpose)
    with pytest.raises(ValueError, match="Fortran"):
        gemm(np.ascontiguousarray(A), B)
    with pytest.raises(ValueError, match="shapes"):
        gemm(A, C)
    with pytest.raises(ValueError, match="read-only"):
        frozen = C.copy(order="F")
        frozen.flags.writeable = False
        triangular_in_place(L, frozen, solve=True, transpose=False)


@pytest.mark.parametrize("threads, plan", [(1, (1, 1)), (2, (2, 1)), (4, (2, 2))])
def test_blas_plan_follows_the_blas_thread_limit(threads, plan):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads, user_api="blas"):
        assert _spectral._blas_plan() == plan


@pytest.mark.parametrize("plan", [(1, 1), (2, 1)])
def test_serial_and_threaded_lanczos_runs_agree(monkeypatch, plan):
    # the two Lanczos runs, one after the other on one worker or at once on two, give
    # the brute-force values (n > DENSE_MAX_ROWS, so "auto" takes the Lanczos path)
    monkeypatch.setattr(_spectral, "_blas_plan", lambda: plan)
    rng = np.random.default_rng(17)
    X = rng.normal(size=(300, 4))
    Z = random_fourier(X, 120, 0.5, seed=3)
    for lam in (1e-3, 0.3):
        reference = brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, lam)
        assert_close(spectral_approximation_error(X, features=Z, gamma=0.5, lam=lam), reference)


def test_failing_lanczos_run_stops_both(monkeypatch):
    # an error in one thread's products (here the solve with the m x m Gram factor, which
    # only the C^-1 run makes, on the worker thread too) reaches the caller
    from lpkernel.metrics._linalg import triangular_in_place

    def broken(L, B, **kwargs):
        if L.shape[0] == 40:
            raise RuntimeError("Gram solve broke")
        return triangular_in_place(L, B, **kwargs)

    monkeypatch.setattr(_spectral, "_blas_plan", lambda: (2, 1))
    monkeypatch.setattr(_spectral, "triangular_in_place", broken)
    rng = np.random.default_rng(18)
    X = rng.normal(size=(300, 3))
    Z = random_fourier(X, 40, 0.5, seed=4)
    with pytest.raises(RuntimeError, match="Gram solve broke"):
        deltas_by("lanczos", X, Z, 1e-3)


def test_together_runs_all_tasks_and_raises_the_first_error():
    from concurrent.futures import ThreadPoolExecutor

    done = []

    def task(value):
        def run():
            done.append(value)
            if value == "bad":
                raise KeyError(value)
            return value
        return run

    with ThreadPoolExecutor(1) as pool:
        for executor in (None, pool):
            done.clear()
            assert _spectral._together(executor, [task(1), task(2), task(3)]) == [1, 2, 3]
            assert sorted(done) == [1, 2, 3]
            done.clear()
            with pytest.raises(KeyError):
                _spectral._together(executor, [task(1), task("bad"), task(3)])
            # on the pool, the others finish before the error is raised: nothing is left running
            assert sorted(map(str, done)) == (["1", "bad"] if executor is None else
                                              ["1", "3", "bad"])


def test_inverse_lanczos_tolerance_is_on_delta1():
    # C^-1's top theta only enters as Delta1 = 1 - 1/theta: its tolerance scales with
    # theta^2, which saves steps and still gives Delta1 to 1e-9
    from lpkernel.metrics._eigen import BlockLanczos

    rng = np.random.default_rng(19)
    n = 400
    spectrum = np.sort(rng.uniform(0.5, 40.0, size=n))
    spectrum[-1] = 50.0
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    A = (Q * spectrum) @ Q.T
    runs = []
    for kind in (BlockLanczos, _spectral._InverseLanczos):
        solver = kind(n, block_size=2, tol=1e-9, atol=1e-9)
        while solver.pending() is not None:
            solver.advance(A @ solver.pending())
        assert solver.converged
        runs.append(solver)
    plain, inverse = runs
    assert abs((1 - 1 / inverse.theta) - (1 - 1 / 50.0)) <= 1e-9
    assert abs(plain.theta - 50.0) <= 1e-9 * 50
    assert inverse.k < plain.k
    assert inverse._tolerance() == pytest.approx(1e-9 * 50.0 * 50.0, rel=1e-6)


@pytest.mark.parametrize("n, block", [(37, 8), (300, 64), (301, 128)])
def test_blocked_cholesky_on_two_threads_is_the_same(n, block):
    # the panel halves and trailing-update groups may run at once: same bits as in order
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from lpkernel.metrics._linalg import cholesky_lower_in_place, gram_lower

    rng = np.random.default_rng(n)
    G = rng.normal(size=(n, n + 3))
    A = np.asfortranarray(G @ G.T)
    serial = A.copy(order="F")
    assert cholesky_lower_in_place(serial, block=block) == 0
    calls = []

    def run(pool, tasks):
        calls.append(len(tasks))
        return _spectral._together(pool, tasks)

    with ThreadPoolExecutor(1) as pool:
        assert cholesky_lower_in_place(A, block=block, run=partial(run, pool)) == 0
    assert np.array_equal(A, serial)
    assert max(calls) == 2  # work really was split in two
    # the Gram matrix's two halves (lower-left block; the two diagonal triangles)
    Zt = np.asfortranarray(rng.normal(size=(n, 11)))
    with ThreadPoolExecutor(1) as pool:
        threaded = gram_lower(Zt, run=partial(run, pool))
    assert np.array_equal(threaded, gram_lower(Zt))
    assert np.allclose(threaded, np.tril(Zt @ Zt.T), rtol=0, atol=1e-12)
    assert not np.triu(threaded, 1).any()


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
def test_kernel_fill_on_two_threads_is_the_same(monkeypatch, kernel):
    # rbf is written in place (its own chunks), the others through the kernel function
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from sklearn.metrics.pairwise import laplacian_kernel

    rng = np.random.default_rng(20)
    X = rng.normal(size=(90, 3))
    monkeypatch.setattr(_inputs, "KERNEL_CHUNK_BYTES", 8 * 4 * 90 * 7)
    monkeypatch.setattr(_inputs, "FILL_CHUNK_BYTES", 8 * 90 * 7)
    problem = _inputs.resolve_problem(X, None, np.ones((90, 2)), kernel, 0.5, None, None, None)
    reference = {"rbf": rbf_kernel, "laplacian": laplacian_kernel}[kernel](X, gamma=0.5)
    serial, threaded = np.empty((90, 90)), np.full((90, 90), np.nan)
    norm = problem.fill(serial)
    with ThreadPoolExecutor(1) as pool:
        assert problem.fill(threaded, partial(_spectral._together, pool)) == norm
    assert np.array_equal(serial, threaded)
    assert np.allclose(serial, reference, rtol=0, atol=1e-12)
    assert norm == pytest.approx(reference.sum(axis=1).max(), rel=1e-14)
    assert np.array_equal(np.diag(serial), np.ones(90))


def test_rbf_fill_matches_scikit_learn_on_wide_scales():
    # the in-place rbf fill against sklearn's rbf_kernel: far points (exp of large negative
    # numbers), near duplicates (distances at the rounding level, clipped at 0), a diagonal of 1
    rng = np.random.default_rng(21)
    X = np.vstack([rng.normal(scale=10.0, size=(40, 5)), rng.normal(size=(40, 5))])
    X[60:] = X[40:60] + 1e-9
    problem = _inputs.resolve_problem(X, None, np.ones((80, 1)), "rbf", 0.3, None, None, None)
    K = np.empty((80, 80))
    norm = problem.fill(K)
    expected = rbf_kernel(X, gamma=0.3)
    # an error e in the squared distance d2 (about eps * (|x|^2 + |y|^2)) moves exp(-gamma d2)
    # by gamma * e * exp(-gamma d2) <= gamma * e
    scale = np.add.outer((X**2).sum(1), (X**2).sum(1))
    assert np.all(np.abs(K - expected) <= 0.3 * 8 * np.finfo(float).eps * scale + 1e-15)
    assert np.array_equal(np.diag(K), np.ones(80)) and np.all(K >= 0) and np.all(K <= 1)
    assert norm == pytest.approx(expected.sum(axis=1).max(), rel=1e-12)


@pytest.mark.parametrize("plan", [(1, 1), (2, 1)])
def test_short_blocks_and_a_lone_run_give_the_definition(monkeypatch, plan):
    # blocks of 7: the RFF runs end after different numbers of steps (the longer one runs
    # alone, its products cut in two column halves); Nystroem's Delta2 run ends with a short
    # block of 5 at its budget of 75 vectors; with a budget of 17, both runs end with a short
    # block of 3 at once (a gap in the columns they share). Converged or by the dense fallback,
    # the values are the definition's.
    from lpkernel.metrics import _eigen

    monkeypatch.setattr(_spectral, "_blas_plan", lambda: plan)
    monkeypatch.setattr(_spectral, "LANCZOS_BLOCK", 7)
    steps = []
    advance = _eigen.BlockLanczos.advance

    def spy(self, image):
        steps.append((type(self).__name__, image.shape[1]))
        return advance(self, image)

    monkeypatch.setattr(_eigen.BlockLanczos, "advance", spy)
    rng = np.random.default_rng(23)
    X = rng.normal(size=(300, 4))
    rff, lam_rff = random_fourier(X, 60, 0.5, seed=5), 1e-3
    nystroem = Nystroem(gamma=0.5, n_components=60, random_state=0).fit_transform(X)

    def check(Z, lam):
        steps.clear()
        assert_close(deltas_by("lanczos", X, Z, lam), brute_force_deltas(rbf_kernel(X, gamma=0.5), Z, lam))
        return {name: [width for n, width in steps if n == name] for name, _ in steps}

    runs = check(rff, lam_rff)
    assert len(runs["BlockLanczos"]) != len(runs["_InverseLanczos"])
    assert check(nystroem, 1e-2)["BlockLanczos"][-1] == 5
    options = _spectral._lanczos_options
    monkeypatch.setattr(_spectral, "_lanczos_options",
                        lambda n, tol, seed: (options(n, tol, seed)[0],
                                              {**options(n, tol, seed)[1], "max_dim": 17}))
    runs = check(rff, lam_rff)
    assert runs["BlockLanczos"] == runs["_InverseLanczos"] == [7, 7, 3]


def test_overlapped_lift_is_the_plain_product_and_survives_a_failing_solve():
    # Z @ P with the C^-1 run's columns solved first, on two threads; an error in the solve
    # reaches the caller and does not leave the other thread waiting
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(24)
    n, m = 50, 9
    Zt = np.asfortranarray(rng.normal(size=(m, n)))
    P = np.asfortranarray(rng.normal(size=(m, 6)))
    G = rng.normal(size=(m, m))
    G = G @ G.T + m * np.eye(m)

    def solve(block):
        block[...] = np.linalg.solve(G, block)

    expected = P.copy()
    expected[:, 3:] = np.linalg.solve(G, P[:, 3:])
    out = np.full((n, 6), np.nan, order="F")
    with ThreadPoolExecutor(1) as pool:
        _spectral._lift_overlapped(pool, Zt, P, out, solve, 3)
        assert np.allclose(out, Zt.T @ expected, rtol=0, atol=1e-12)

        def broken(block):
            raise RuntimeError("solve broke")

        with pytest.raises(RuntimeError, match="solve broke"):
            _spectral._lift_overlapped(pool, Zt, P.copy(order="F"), out, broken, 3)
