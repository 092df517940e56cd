"""The behaviour of lpkernel/memory.py: memory figures (DESIGN §8) and budget grids."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from lpkernel import Quantizer, RandomFourierFeatures
from lpkernel.memory import (
    FeatureMemory,
    budget_bits_per_row,
    budget_candidates,
    budget_param_grid,
    feature_memory,
)

N, D = 60, 3


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture
def X(rng):
    return rng.normal(size=(N, D))


# -- random Fourier features ---------------------------------------------------------------
@pytest.mark.parametrize("sampling", ["iid", "orthogonal", "qmc"])
def test_dense_frequency_maps_count_md_plus_m(X, sampling):
    m = 10
    rff = RandomFourierFeatures(n_components=m, sampling=sampling, random_state=0).fit(X)
    assert feature_memory(rff, N) == (32 * (m * D + m), 32 * N * m, N, m)


@pytest.mark.parametrize("n_bits", [1, 2, 4, 8, 16])
def test_lp_rff_features_take_b_bits(X, n_bits):
    rff = RandomFourierFeatures(n_components=16, n_bits=n_bits, random_state=0).fit(X)
    memory = feature_memory(rff, N)
    assert memory.map_bits == 32 * (16 * D + 16)
    assert memory.feature_bits == n_bits * N * 16
    # the packed codes hold exactly that (16 * b is a multiple of 8)
    packed = rff.set_params(output="packed").transform(X)
    assert packed.codes.nbytes * 8 == memory.feature_bits


def test_sincos_stores_half_the_frequencies(X):
    # m = 11: 5 sin/cos pairs plus one phase-shifted cos -> 6 frequencies, 6 offsets
    rff = RandomFourierFeatures(n_components=11, features="sincos", random_state=0).fit(X)
    assert feature_memory(rff, N).map_bits == 32 * (6 * D + 6)


def test_circulant_map_is_linear_in_m(X):
    # 10 frequencies in ceil(10 / 3) = 4 circulant blocks of d = 3: a vector and signs each
    rff = RandomFourierFeatures(n_components=10, sampling="circulant", random_state=0).fit(X)
    assert feature_memory(rff, N).map_bits == 32 * (4 * 3 + 4 * 3 + 10)


def test_structured_map_is_linear_in_m(X):
    # d = 3 pads to the minimum block p = 64; 10 frequencies need 1 block of 3 sign vectors
    # of length 64, plus 10 scales and 10 offsets; 100 frequencies need 2 blocks
    rff = RandomFourierFeatures(n_components=10, sampling="structured", random_state=0).fit(X)
    assert feature_memory(rff, N).map_bits == 32 * (3 * 64 + 10 + 10)
    rff = RandomFourierFeatures(n_components=100, sampling="structured", random_state=0).fit(X)
    assert feature_memory(rff, N).map_bits == 32 * (2 * 3 * 64 + 100 + 100)


# -- scikit-learn maps -----------------------------------------------------------------
def test_rbf_sampler(X):
    sampler = RBFSampler(n_components=7, random_state=0).fit(X)
    assert feature_memory(sampler, N) == (32 * (7 * D + 7), 32 * N * 7, N, 7)


def test_sklearn_nystroem(X):
    nystroem = Nystroem(n_components=8, random_state=0).fit(X)
    assert feature_memory(nystroem, N) == (32 * (8 * D + 8 * 8), 32 * N * 8, N, 8)


class NystroemLike(TransformerMixin, BaseEstimator):
    """lpkernel's Nystroem keeps scikit-learn's attributes; it may drop eigenvalues (m' < m)."""

    def fit(self, X, y=None):
        self.components_ = X[:5]
        self.normalization_ = np.ones((5, 4))  # 5 landmarks, 4 eigenvalues kept
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X @ self.components_.T @ self.normalization_


def test_any_map_with_nystroem_attributes_counts_kept_columns(X):
    memory = feature_memory(NystroemLike().fit(X), N)
    assert memory == (32 * (5 * D + 5 * 4), 32 * N * 4, N, 4)


# -- Quantizer -------------------------------------------------------------------------------
M = 8


@pytest.fixture
def Z(rng):
    return rng.normal(size=(N, M))


@pytest.mark.parametrize("params, map_numbers", [
    ({}, M),  # one range per column
    ({"per_feature": False}, 1),
    ({"rotate": "orthogonal"}, M * M + M),
    ({"rotate": "hadamard"}, M + M),  # m = 8 is a power of two: one round of signs
    ({"rotate": "hadamard", "per_feature": False}, M + 1),
])
def test_quantizer_counts_ranges_and_rotation(Z, params, map_numbers):
    quantizer = Quantizer(n_bits=2, random_state=0, **params).fit(Z)
    assert feature_memory(quantizer, N) == (32 * map_numbers, 2 * N * M, N, M)


def test_quantizer_hadamard_rounds_for_other_widths(rng):
    # m = 6 is not a power of two: two rounds of 6 signs and a 6-permutation
    quantizer = Quantizer(n_bits=4, rotate="hadamard", random_state=0).fit(rng.normal(size=(N, 6)))
    assert feature_memory(quantizer, N).map_bits == 32 * (2 * 6 + 2 * 6 + 6)


def test_full_precision_quantizer_counts_only_its_rotation(Z):
    quantizer = Quantizer(n_bits=32, rotate="orthogonal", random_state=0).fit(Z)
    assert feature_memory(quantizer, N) == (32 * M * M, 32 * N * M, N, M)
    assert feature_memory(quantizer, N, float_bits=64).feature_bits == 64 * N * M


# -- pipelines -------------------------------------------------------------------------------
def test_pipeline_adds_maps_and_keeps_the_last_features(X, rng):
    y = rng.integers(0, 2, size=N)
    pipeline = make_pipeline(StandardScaler(), Nystroem(n_components=8, random_state=0),
                             Quantizer(n_bits=4, rotate="hadamard", random_state=0),
                             RidgeClassifier()).fit(X, y)
    scaler = 2 * D  # mean_ and scale_
    nystroem = 8 * D + 8 * 8
    quantizer = 8 + 8  # ranges and signs
    assert feature_memory(pipeline, N) == (32 * (scaler + nystroem + quantizer), 4 * N * 8, N, 8)


def test_pipeline_of_lp_rff_and_a_model(X, rng):
    pipeline = make_pipeline(RandomFourierFeatures(n_components=16, n_bits=2, random_state=0),
                             Ridge()).fit(X, rng.normal(size=N))
    memory = feature_memory(pipeline, N)
    assert memory == (32 * (16 * D + 16), 2 * N * 16, N, 16)
    # nested pipelines count the same
    nested = make_pipeline(make_pipeline(StandardScaler(), pipeline.steps[0][1]), Ridge())
    nested.fit(X, rng.normal(size=N))
    assert feature_memory(nested, N).map_bits == memory.map_bits + 32 * 2 * D


def test_feature_memory_record_views():
    memory = FeatureMemory(map_bits=8 * 2**20, feature_bits=3 * 8 * 2**20, n_samples=2**20,
                           n_features_out=3)
    assert memory.total_bits == 4 * 8 * 2**20
    assert (memory.map_bytes, memory.feature_bytes, memory.total_bytes) == (2**20, 3 * 2**20,
                                                                           4 * 2**20)
    assert (memory.map_mib, memory.feature_mib, memory.total_mib) == (1.0, 3.0, 4.0)
    assert memory.feature_bits_per_row == 24.0


# -- errors ------------------------------------------------------------------------------------
def test_unfitted_and_unsupported_estimators_raise(X):
    with pytest.raises(NotFittedError):
        feature_memory(RandomFourierFeatures(), N)
    with pytest.raises(TypeError, match="no accounting rule for PCA"):
        feature_memory(PCA(2).fit(X), N)
    with pytest.raises(TypeError, match="no accounting rule for PCA"):
        feature_memory(make_pipeline(PCA(2), Quantizer(), Ridge()), N)
    with pytest.raises(ValueError, match="no feature map"):
        feature_memory(make_pipeline(Ridge()), N)
    fitted = RandomFourierFeatures(n_components=4).fit(X)
    with pytest.raises(ValueError, match="n_samples"):
        feature_memory(fitted, -1)
    with pytest.raises(ValueError, match="float_bits"):
        feature_memory(fitted, N, float_bits=8)


# -- budgets -------------------------------------------------------------------------------------
def test_budget_bits_per_row():
    assert budget_bits_per_row(1, n_samples=2**20) == 8.0
    assert budget_bits_per_row(256, n_samples=39992) == pytest.approx(256 * 2**23 / 39992)
    with pytest.raises(ValueError, match="n_samples"):
        budget_bits_per_row(1, n_samples=0)


def test_budget_param_grid_has_m_equal_budget_over_b():
    grid = budget_param_grid([64, 100], n_bits=(1, 4, 32), prefix="rff__")
    assert grid == [
        {"rff__n_components": [64], "rff__n_bits": [1]},
        {"rff__n_components": [16], "rff__n_bits": [4]},
        {"rff__n_components": [2], "rff__n_bits": [32]},
        {"rff__n_components": [100], "rff__n_bits": [1]},
        {"rff__n_components": [25], "rff__n_bits": [4]},
        {"rff__n_components": [3], "rff__n_bits": [32]},
    ]


def test_budget_param_grid_names_and_limits():
    grid = budget_param_grid(64, n_bits=(2, 8, 32), n_components_param="nystroem__n_components",
                             n_bits_param="quantizer__n_bits", max_components=16)
    assert grid == [{"nystroem__n_components": [8], "quantizer__n_bits": [8]},
                    {"nystroem__n_components": [2], "quantizer__n_bits": [32]}]
    # b = 32 gives m = 0 at a budget of 16 bits: that width is skipped
    assert budget_candidates([16], n_bits=(4, 32)) == [(16.0, 4, 4)]


@pytest.mark.parametrize("kwargs, message", [
    ({"budgets": [8], "n_bits": (16, 32)}, "fits no configuration"),
    ({"budgets": [], "n_bits": (4,)}, "at least one budget"),
    ({"budgets": [-4], "n_bits": (4,)}, "budget"),
    ({"budgets": [64], "n_bits": (3,)}, "n_bits must be one of"),
    ({"budgets": [64], "n_bits": ()}, "at least one bit width"),
    ({"budgets": [64], "n_bits": (4,), "prefix": 1}, "prefix"),
])
def test_budget_param_grid_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        budget_param_grid(**kwargs)


def test_grid_search_candidates_fit_their_budget(X, rng):
    y = X[:, 0] + 0.1 * rng.normal(size=N)
    model = make_pipeline(RandomFourierFeatures(random_state=0), Ridge())
    budgets = [48, 96]
    grid = budget_param_grid(budgets, n_bits=(1, 2, 4, 8, 16, 32),
                             prefix="randomfourierfeatures__")
    search = GridSearchCV(model, grid, cv=2).fit(X, y)
    for params, triple in zip(search.cv_results_["params"], budget_candidates(budgets),
                              strict=True):
        fitted = model.set_params(**params).fit(X, y)
        memory = feature_memory(fitted, N)
        budget, m, b = triple
        assert memory.feature_bits_per_row == m * b <= budget
