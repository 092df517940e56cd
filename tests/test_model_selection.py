"""The behaviour of lpkernel/model_selection: MemoryBudgetSearchCV."""

import subprocess
import sys

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LinearRegression, Ridge, RidgeClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from lpkernel import Quantizer, RandomFourierFeatures
from lpkernel.memory import feature_memory
from lpkernel.model_selection import MemoryBudgetSearchCV
from lpkernel.model_selection._budget_search import FRONTIER_FIELDS, frontier_table

D = 4


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture
def linear_problem():
    """y = X w exactly, with X of rank D = 4 in the cube [-1, 1]^D."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(150, D))
    return X, X @ rng.normal(size=D)


def nystroem_model():
    """Linear-kernel Nyström, quantized on a fixed range, then least squares.

    With landmarks C, the map is z(x) = M^T x with M = C^T (C C^T)^{-1/2}, whose
    columns have norm <= 1; so |z_j(x)| <= ||x|| <= sqrt(D) = 2 and the fixed
    range clip=2 never clips, in any fold. m >= D landmarks span X exactly.
    """
    return make_pipeline(Nystroem(kernel="linear", random_state=0),
                         Quantizer(rounding="nearest", clip=2.0, random_state=0),
                         LinearRegression())


def test_finds_the_known_best_configuration(linear_problem):
    """At budget B the best is m = D features at b = B / D bits.

    Fewer features (higher b) lose a direction of X; more (lower b) only add
    rounding error on a coarser grid. So the right answer is known exactly.
    """
    X, y = linear_problem
    budgets = [16, 32, 64]
    search = MemoryBudgetSearchCV(nystroem_model(), budgets, cv=3).fit(X, y)
    frontier = search.frontier_
    np.testing.assert_array_equal(frontier["budget_bits_per_row"], budgets)
    np.testing.assert_array_equal(frontier["n_components"], [D, D, D])
    np.testing.assert_array_equal(frontier["n_bits"], [4, 8, 16])
    # the overall best is the finest grid, refit on all data
    assert search.best_params_ == {"nystroem__n_components": D, "quantizer__n_bits": 16}
    assert search.best_estimator_.named_steps["quantizer"].n_bits == 16
    assert search.score(X, y) > 0.999999
    np.testing.assert_allclose(search.predict(X), search.best_estimator_.predict(X))


def test_cv_results_carry_budget_and_measured_memory(linear_problem):
    X, y = linear_problem
    search = MemoryBudgetSearchCV(nystroem_model(), [32], n_bits=(1, 4, 32), cv=3).fit(X, y)
    results = search.cv_results_
    np.testing.assert_array_equal(results["budget_bits_per_row"], [32, 32, 32])
    np.testing.assert_array_equal(results["n_components"], [32, 8, 1])
    np.testing.assert_array_equal(results["n_bits"], [1, 4, 32])
    np.testing.assert_array_equal(results["feature_bits_per_row"], [32, 32, 32])
    # Nyström map 32 (m d + m^2) plus one 32-bit range per column (none at full precision)
    np.testing.assert_array_equal(results["map_bits"],
                                  [32 * (32 * D + 32 * 32 + 32), 32 * (8 * D + 64 + 8),
                                   32 * (1 * D + 1)])
    assert not any("memory" in key for key in results)
    assert len(results["mean_test_score"]) == len(results["params"]) == 3


def test_measured_memory_shows_nystroem_capped_by_fold_size(rng):
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1)
    model = make_pipeline(Nystroem(random_state=0), Ridge())
    with pytest.warns(UserWarning, match="n_components > n_samples"):
        search = MemoryBudgetSearchCV(model, [32 * 40], n_bits=(32,), cv=3).fit(X, y)
    # 40 landmarks requested, a training fold has only 20 rows: 20 features are kept
    assert search.cv_results_["feature_bits_per_row"][0] == 32 * 20


def test_extra_param_grid_is_crossed_with_each_candidate(rng):
    X = rng.uniform(-1, 1, size=(90, 2))
    y = np.sin(3 * X[:, 0])
    model = make_pipeline(RandomFourierFeatures(gamma=1.0, random_state=0), Ridge())
    search = MemoryBudgetSearchCV(model, [64, 256], n_bits=(4, 32),
                                  param_grid={"ridge__alpha": [1e-3, 1e3]}, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 2 * 2 * 2
    # a huge ridge penalty can never be the best
    assert all(p["ridge__alpha"] == 1e-3 for p in search.frontier_["params"])
    assert np.all(search.cv_results_["feature_bits_per_row"]
                  <= search.cv_results_["budget_bits_per_row"])


def test_parallel_search_gives_the_same_results(linear_problem):
    X, y = linear_problem
    one = MemoryBudgetSearchCV(nystroem_model(), [32], cv=3).fit(X, y)
    # threads: the same joblib path as processes, without starting interpreters
    with parallel_config(backend="threading"):
        two = MemoryBudgetSearchCV(nystroem_model(), [32], cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  two.cv_results_["mean_test_score"])


def test_classifier_search_predicts_and_reports_classes(rng):
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.4).astype(int)
    model = make_pipeline(RandomFourierFeatures(gamma=0.5, random_state=0),
                          RidgeClassifier(alpha=1e-2))
    search = MemoryBudgetSearchCV(model, [128, 512], n_bits=(2, 8, 32), cv=3)
    search.fit(X, y, ridgeclassifier__sample_weight=np.ones(120))
    np.testing.assert_array_equal(search.classes_, [0, 1])
    assert search.score(X, y) > 0.85
    assert search.decision_function(X).shape == (120,)
    assert not hasattr(search, "predict_proba")
    assert search.n_features_in_ == 2


def test_frontier_is_a_record_array_without_pandas(monkeypatch):
    rows = [(16.0, 4, 4, 0.9, 0.01, 16.0, 640.0, 2, {"a": 1}),
            (32.0, 4, 8, 0.99, 0.001, 32.0, 640.0, 8, {"a": 2})]
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    frontier = frontier_table(rows)
    assert isinstance(frontier, np.recarray)
    assert frontier.dtype.names == FRONTIER_FIELDS
    np.testing.assert_array_equal(frontier.n_bits, [4, 8])
    np.testing.assert_array_equal(frontier["mean_test_score"], [0.9, 0.99])
    assert frontier["params"][1] == {"a": 2}


def test_frontier_is_a_dataframe_with_pandas(linear_problem):
    pd = pytest.importorskip("pandas")
    X, y = linear_problem
    search = MemoryBudgetSearchCV(nystroem_model(), [16], n_bits=(4, 8), cv=3).fit(X, y)
    assert isinstance(search.frontier_, pd.DataFrame)
    row = search.frontier_.iloc[0]
    assert row["mean_test_score"] == search.cv_results_["mean_test_score"][row["candidate_index"]]


def test_plot_frontier_draws_each_width_and_the_frontier(linear_problem):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = linear_problem
    search = MemoryBudgetSearchCV(nystroem_model(), [16, 32], n_bits=(2, 4, 8), cv=3).fit(X, y)
    fig, ax = plt.subplots()
    assert search.plot_frontier(ax=ax) is ax
    lines = ax.get_lines()
    assert len(lines) == 3 + 1  # one per bit width, then the frontier
    np.testing.assert_array_equal(lines[-1].get_ydata(),
                                  search.frontier_["mean_test_score"])
    plt.close(fig)


def test_importing_the_search_does_not_import_matplotlib():
    code = ("import sys, lpkernel.model_selection, lpkernel.memory; "
            "assert 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_verbose_reports_progress(linear_problem, capsys):
    X, y = linear_problem
    MemoryBudgetSearchCV(nystroem_model(), [16, 32], n_bits=(4, 8), cv=3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "2 budgets, 4 candidates" in out
    assert "budget (bits/row)" in out


def test_without_refit_there_is_no_best_estimator(linear_problem):
    X, y = linear_problem
    search = MemoryBudgetSearchCV(nystroem_model(), [16], n_bits=(4,), cv=3, refit=False)
    search.fit(X, y)
    assert search.best_params_ == {"nystroem__n_components": D, "quantizer__n_bits": 4}
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError, match="refit=False"):
        search.predict(X)


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("estimator, kwargs, error, message", [
    (nystroem_model(), {"budgets": []}, ValueError, "at least one budget"),
    (nystroem_model(), {"budgets": [16], "n_bits": (5,)}, ValueError, "n_bits must be one of"),
    (nystroem_model(), {"budgets": [1], "n_bits": (4, 8)}, ValueError, "fits no configuration"),
    (nystroem_model(), {"budgets": [16], "scoring": {"a": "r2"}}, ValueError, "one metric"),
    (nystroem_model(), {"budgets": [16], "verbose": -1}, ValueError, "verbose"),
    (nystroem_model(), {"budgets": [16], "refit": "score"}, ValueError, "refit"),
    (nystroem_model(), {"budgets": [16], "param_grid": {"quantizer__n_bits": [2]}},
     ValueError, "must not set"),
    (nystroem_model(), {"budgets": [16], "n_bits_param": "quantizer__bits"}, ValueError,
     "not a parameter"),
    (make_pipeline(Nystroem(), Ridge()), {"budgets": [64], "n_bits": (4, 32)}, ValueError,
     "no n_bits parameter"),
    (make_pipeline(PCA(), Quantizer(), Ridge()), {"budgets": [64]}, TypeError,
     "no accounting rule for PCA"),
    (make_pipeline(RandomFourierFeatures(), Quantizer(), Ridge()), {"budgets": [64]}, ValueError,
     "several 'n_bits' parameters"),
    (make_pipeline(Quantizer(), Ridge()), {"budgets": [64]}, ValueError,
     "no n_components parameter"),
])
def test_bad_settings_raise_clear_errors(linear_problem, estimator, kwargs, error, message):
    X, y = linear_problem
    with pytest.raises(error, match=message):
        MemoryBudgetSearchCV(estimator, cv=2, **kwargs).fit(X, y)


def test_full_precision_search_needs_no_bits_parameter(linear_problem):
    X, y = linear_problem
    model = make_pipeline(Nystroem(kernel="linear", random_state=0), LinearRegression())
    search = MemoryBudgetSearchCV(model, [32 * 2, 32 * 4], n_bits=(32,), cv=3).fit(X, y)
    np.testing.assert_array_equal(search.frontier_["n_components"], [2, 4])
    fitted = search.best_estimator_
    assert feature_memory(fitted, len(X)).feature_bits_per_row == 32 * 4
