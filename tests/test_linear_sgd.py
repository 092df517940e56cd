"""KernelSGDClassifier / KernelSGDRegressor, the halving schedule and the minibatch core."""

import importlib
import math
import pickle
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.utils import check_random_state

from lpkernel import PackedFeatures, RandomFourierFeatures
from lpkernel.linear import (
    HalvingSchedule,
    KernelSGDClassifier,
    KernelSGDRegressor,
    LowPrecisionRidge,
)
from lpkernel.linear._halp import round_offsets
from lpkernel.linear._minibatch import init_weights, sgd_pass, svrg_pass

# many tests train a few epochs on purpose; the warning is tested where it matters
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# -- reference objective (plain NumPy; the formula of lpkernel.linear._minibatch) --------
def objective(coef, intercept, X, y, alpha, loss):
    """Mean loss + (alpha/2)||W||² for W = coef.T (c x m rows per class/target)."""
    Z = np.asarray(X, dtype=np.float64)
    W = np.atleast_2d(coef).T.astype(np.float64)
    scores = Z @ W + intercept
    if loss == "softmax":
        data = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), y])
    else:
        data = 0.5 * np.mean(np.sum((scores - y.reshape(len(y), -1)) ** 2, axis=1))
    return data + 0.5 * alpha * np.sum(W * W)


def blobs(n=300, n_classes=3, m=8, seed=0, spread=1.0):
    """Classes at the vertices of a regular polygon in the first two of m features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    angles = 2 * np.pi * y / n_classes
    X = rng.normal(scale=spread, size=(n, m))
    X[:, 0] += 2.5 * np.cos(angles)
    X[:, 1] += 2.5 * np.sin(angles)
    return X, y


@pytest.fixture(scope="module")
def packed():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = (np.hypot(X[:, 0], X[:, 1]) > 1.2).astype(int)
    P = RandomFourierFeatures(64, gamma=1.0, n_bits=8, output="packed",
                              random_state=0).fit_transform(X)
    return P, y


# -- the schedule -----------------------------------------------------------------------
def test_schedule_follows_the_rule_on_a_scripted_sequence():
    schedule = HalvingSchedule(0.8, min_improvement=0.01, max_halvings=4)
    script = [
        # metric, expected action, expected learning rate after, reference after
        (1.00, "accept", 0.8, 1.00),     # first epoch sets the reference
        (0.90, "accept", 0.8, 0.90),     # 10 % better
        (0.895, "halve", 0.4, 0.895),    # 0.56 % better: keep, halve
        (0.95, "revert", 0.2, 0.895),    # worse: revert, halve, reference stays
        (0.80, "accept", 0.2, 0.80),     # 10.6 % better than the kept 0.895
        (0.80, "halve", 0.1, 0.80),      # no change is not progress
        (0.792, "accept", 0.1, 0.792),   # exactly 1 % better counts as progress
        (math.nan, "revert", 0.05, 0.792),  # divergence counts as worse
    ]
    for step, (metric, action, rate, reference) in enumerate(script):
        decision = schedule.update(metric)
        assert decision.action == action, step
        assert decision.learning_rate == rate, step
        assert schedule.reference == reference, step
        assert decision.stop is (schedule.n_halvings >= 4), step
    assert schedule.n_halvings == 4
    assert decision.stop


def test_schedule_reverts_a_diverged_first_epoch():
    schedule = HalvingSchedule(1.0, max_halvings=1)
    decision = schedule.update(math.inf)
    assert decision == ("revert", 0.5, True)
    assert schedule.reference is None


@pytest.mark.parametrize("bad", [{"learning_rate": 0.0}, {"max_halvings": 0},
                                 {"min_improvement": 1.5}])
def test_schedule_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        HalvingSchedule(**{"learning_rate": 1.0, **bad})


def test_estimator_applies_the_schedule_to_its_weights(packed, monkeypatch):
    P, y = packed
    script = iter([0.50, 0.40, 0.45, 0.399, 0.30, 0.31, 0.29])
    monkeypatch.setattr(KernelSGDClassifier, "_metrics",
                        staticmethod(lambda scores, labels: {"cross_entropy": next(script)}))
    seen = []
    original = KernelSGDClassifier._epoch

    def recording_epoch(self, X, targets, rows, weights, learning_rate, state, rng):
        result = original(self, X, targets, rows, weights, learning_rate, state, rng)
        seen.append((weights.coef.copy(), learning_rate, result[0].coef.copy()))
        return result

    monkeypatch.setattr(KernelSGDClassifier, "_epoch", recording_epoch)
    model = KernelSGDClassifier(learning_rate=0.1, max_halvings=3, max_iter=10,
                                random_state=0).fit(P, y)
    actions = [h["action"] for h in model.history_]
    # 0.45 worse -> revert; 0.399 < 1 % -> halve; 0.31 worse -> revert (3rd halving: stop)
    assert actions == ["accept", "accept", "revert", "halve", "accept", "revert"]
    assert [h["learning_rate"] for h in model.history_] == [0.1, 0.1, 0.1, 0.05, 0.025, 0.025]
    assert model.learning_rate_ == 0.0125 and model.n_halvings_ == 3 and model.n_iter_ == 6
    # the epoch after a revert starts from the weights kept before it
    assert_array_equal(seen[3][0], seen[1][2])
    assert_array_equal(seen[4][0], seen[3][2])
    # the final model is the last kept epoch (epoch 5), not the reverted epoch 6
    assert_array_equal(model.coef_, seen[4][2].T)


# -- gradients and convergence to the closed form ------------------------------------------
@pytest.mark.parametrize("loss", ["softmax", "squared"])
@pytest.mark.parametrize("rank", [None, 2])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gradient_matches_finite_differences(loss, rank, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    from lpkernel.linear._minibatch import get_ops, objective_and_gradient

    rng = np.random.default_rng(8)
    Z = rng.normal(size=(12, 5))
    T = rng.integers(0, 3, size=12) if loss == "softmax" else rng.normal(size=(12, 3))
    weights = init_weights(5, 3, rank, random_state=1)
    params = [rng.normal(size=f.shape) for f in weights.factors] + [rng.normal(size=3)]
    ops = get_ops(backend, None, np.float64)

    def value_and_grads(arrays):
        targets = ops.labels(T) if loss == "softmax" else ops.asarray(T)
        value, grads = objective_and_gradient(ops, ops.asarray(Z), targets,
                                              [ops.parameter(a) for a in arrays], loss, 0.3,
                                              True)
        return value, [ops.numpy(g) for g in grads]

    value, grads = value_and_grads(params)
    coef = params[0] if rank is None else params[0] @ params[1]
    reference = objective(coef.T, params[-1], Z, T, 0.0, loss) + 0.15 * sum(
        np.sum(p * p) for p in params[:-1])
    assert value == pytest.approx(reference, rel=1e-12)
    step = 1e-6
    for k, p in enumerate(params):
        for index in np.ndindex(p.shape):
            shifted = [a.copy() for a in params]
            shifted[k][index] += step
            up = value_and_grads(shifted)[0]
            shifted[k][index] -= 2 * step
            down = value_and_grads(shifted)[0]
            # central differences: truncation O(step^2) ~ 1e-12, rounding ~ 1e-16 / step
            assert grads[k][index] == pytest.approx((up - down) / (2 * step), abs=1e-7)


def test_sgd_regressor_reaches_the_ridge_optimum():
    rng = np.random.default_rng(2)
    n, m, alpha = 400, 10, 1e-3
    X = rng.normal(size=(n, m))
    y = X @ rng.normal(size=m) + 0.5 * rng.normal(size=n) + 1.0
    # (1/2n)Σ r² + (a/2)||w||²  <=>  Σ r² + n·a·||w||²: ridge with alpha = n·a
    ridge = LowPrecisionRidge(alpha=n * alpha).fit(X, y)
    best = objective(ridge.coef_, ridge.intercept_, X, y, alpha, "squared")
    # SVRG converges linearly at a constant rate on a strongly convex objective: to rounding
    svrg = KernelSGDRegressor(solver="svrg", alpha=alpha, learning_rate=0.1, batch_size=20,
                              max_iter=50, validation_fraction=None, random_state=0).fit(X, y)
    reached = objective(svrg.coef_, svrg.intercept_, X, y, alpha, "squared")
    assert abs(reached - best) < 1e-10 * best
    assert_allclose(svrg.coef_, ridge.coef_, atol=1e-6)
    # SGD and Adam stop at the halving schedule's final rate (lr / 2^8): the minibatch
    # noise there, and the schedule watching the unregularized heldout MSE rather than
    # the objective, leave an excess of order 1e-5 (SGD) to 1e-3 (Adam)
    for solver, rate, tolerance in (("sgd", 0.05, 2e-4), ("adam", 0.05, 3e-3)):
        model = KernelSGDRegressor(solver=solver, alpha=alpha, learning_rate=rate,
                                   batch_size=20, max_iter=200, max_halvings=8,
                                   random_state=0).fit(X, y, eval_set=(X, y))
        reached = objective(model.coef_, model.intercept_, X, y, alpha, "squared")
        assert best - 1e-12 <= reached < best * (1 + tolerance), solver


def test_sgd_classifier_reaches_the_logistic_optimum():
    X, y = blobs(n=300, spread=1.5)
    n, alpha = len(y), 1e-3
    # scikit-learn: C Σ loss + ½||W||²  <=>  mean loss + (alpha/2)||W||² with C = 1/(n·alpha)
    reference = LogisticRegression(C=1.0 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y)
    best = objective(reference.coef_, reference.intercept_, X, y, alpha, "softmax")
    svrg = KernelSGDClassifier(solver="svrg", alpha=alpha, learning_rate=1.0, batch_size=20,
                               max_iter=50, validation_fraction=None, random_state=0).fit(X, y)
    reached = objective(svrg.coef_, svrg.intercept_, X, y, alpha, "softmax")
    assert abs(reached - best) < 1e-9 * best
    adam = KernelSGDClassifier(alpha=alpha, learning_rate=0.05, batch_size=20, max_iter=200,
                               max_halvings=8, random_state=0).fit(X, y, eval_set=(X, y))
    reached = objective(adam.coef_, adam.intercept_, X, y, alpha, "softmax")
    assert best - 1e-9 <= reached < best * (1 + 3e-3)


def test_low_precision_weights_reach_the_optimum():
    X, y = blobs(n=300, spread=1.5)
    n, alpha = len(y), 1e-3
    reference = LogisticRegression(C=1.0 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y)
    best = objective(reference.coef_, reference.intercept_, X, y, alpha, "softmax")
    gaps = {}
    for bits in (4, 8, 16):
        model = KernelSGDClassifier(solver="svrg", model_bits=bits, alpha=alpha,
                                    learning_rate=1.0, batch_size=20, max_iter=50,
                                    validation_fraction=None, random_state=0).fit(X, y)
        gaps[bits] = objective(model.coef_, model.intercept_, X, y, alpha, "softmax") - best
    # bit centering: the grid shrinks with the full gradient, so the error floor falls
    # with the bits (rounding noise variance ∝ δ² ∝ 4^-b) instead of stalling at δ
    assert gaps[16] < 1e-7 * best
    assert gaps[8] < 5e-4 * best
    assert gaps[4] < 2e-2 * best
    assert gaps[16] < gaps[8] < gaps[4]


def test_svrg_pass_keeps_weights_on_a_b_bit_grid(packed):
    P, y = packed
    weights = init_weights(P.shape[1], 2, dtype=np.float64, random_state=0)
    first, _, _ = svrg_pass(P, y, None, weights, learning_rate=1.0, random_state=0)
    low, offsets, _ = svrg_pass(P, y, None, first, n_bits=4, learning_rate=1.0, random_state=0)
    (codes, scale), = offsets
    assert codes.dtype == np.int8
    assert codes.min() >= -8 and codes.max() <= 7 and np.any(codes != 0)
    # the weights are exactly the center plus scale times the integer codes
    assert_allclose(low.coef, first.coef + scale * codes, rtol=0, atol=1e-15)


def test_offset_rounding_is_unbiased_and_stays_on_the_grid():
    values = np.full(20_000, 0.37)
    codes = np.empty(values.shape, dtype=np.int8)
    round_offsets(values, 1.0, -8, 7, np.uint64(12345), codes)
    assert set(np.unique(codes)) == {0, 1}
    # mean of 20,000 Bernoulli(0.37): standard error 0.0034, bound at ~4.4 sigma
    assert abs(codes.mean() - 0.37) < 0.015
    round_offsets(np.array([100.0, -100.0]), 1.0, -8, 7, np.uint64(1), codes[:2])
    assert codes[:2].tolist() == [7, -8]  # saturates at the code range


# -- bottleneck --------------------------------------------------------------------------
def test_full_rank_bottleneck_matches_no_bottleneck():
    X, y = blobs(n=600, n_classes=3, spread=1.0, seed=4)
    X_test, y_test = blobs(n=600, n_classes=3, spread=1.0, seed=5)
    kwargs = dict(learning_rate=0.05, batch_size=32, max_iter=60, random_state=0)
    full = KernelSGDClassifier(**kwargs).fit(X, y).score(X_test, y_test)
    wide = KernelSGDClassifier(rank=3, **kwargs).fit(X, y)
    assert wide.factors_[0].shape == (8, 3) and wide.factors_[1].shape == (3, 3)
    assert_allclose(wide.coef_, (wide.factors_[0] @ wide.factors_[1]).T)
    assert full > 0.9
    assert abs(wide.score(X_test, y_test) - full) <= 0.01
    # rank 1 projects three classes at triangle vertices onto a line: it must lose
    narrow = KernelSGDClassifier(rank=1, **kwargs).fit(X, y).score(X_test, y_test)
    assert narrow < full - 0.1


# -- packed, dense, sparse, torch: the same model ----------------------------------------
@pytest.mark.parametrize("params", [{"solver": "adam"}, {"solver": "sgd", "rank": 2},
                                    {"solver": "svrg", "model_bits": 8}])
def test_packed_and_dense_inputs_give_identical_models(packed, params):
    P, y = packed
    fits = [KernelSGDClassifier(learning_rate=0.1, max_iter=5, random_state=7, **params)
            .fit(X, y) for X in (P, P.to_dense(), sparse.csr_matrix(P.to_dense()))]
    for fit in fits[1:]:
        assert_array_equal(fit.coef_, fits[0].coef_)
        assert_array_equal(fit.intercept_, fits[0].intercept_)
        assert fit.history_ == fits[0].history_


def test_regressor_packed_and_dense_identical():
    rng = np.random.default_rng(6)
    X = rng.uniform(-2, 2, size=(300, 1))
    y = np.c_[np.sin(X[:, 0]), np.cos(X[:, 0])]
    P = RandomFourierFeatures(32, gamma=1.0, n_bits=8, output="packed",
                              random_state=0).fit_transform(X)
    fits = [KernelSGDRegressor(learning_rate=0.05, max_iter=5, random_state=3).fit(Z, y)
            for Z in (P, P.to_dense())]
    assert fits[0].coef_.shape == (2, 32)
    assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].predict(P).shape == (300, 2)


@pytest.mark.parametrize("params", [{"solver": "adam"}, {"solver": "sgd", "rank": 2},
                                    {"solver": "svrg"}])
def test_torch_backend_matches_numpy_backend(packed, params):
    pytest.importorskip("torch")
    P, y = packed
    common = dict(learning_rate=0.1, max_iter=4, random_state=0, **params)
    numpy_model = KernelSGDClassifier(**common).fit(P, y)
    torch_model = KernelSGDClassifier(backend="torch", device="cpu", **common).fit(P, y)
    # the same float64 arithmetic on the same minibatches, up to summation order
    assert_allclose(torch_model.coef_, numpy_model.coef_, rtol=0, atol=1e-10)
    assert_allclose(torch_model.intercept_, numpy_model.intercept_, rtol=0, atol=1e-10)
    assert isinstance(torch_model.coef_, np.ndarray)


def test_torch_backend_low_precision_weights_train(packed):
    pytest.importorskip("torch")
    P, y = packed
    common = dict(solver="svrg", model_bits=8, learning_rate=0.5, max_iter=10, random_state=0)
    numpy_score = KernelSGDClassifier(**common).fit(P, y).score(P, y)
    torch_score = KernelSGDClassifier(backend="torch", **common).fit(P, y).score(P, y)
    # different rounding streams, same algorithm
    assert torch_score > 0.85 and abs(torch_score - numpy_score) < 0.05


def test_torch_rejects_an_unknown_device(packed):
    pytest.importorskip("torch")
    P, y = packed
    with pytest.raises(ValueError, match="torch cannot use device"):
        KernelSGDClassifier(backend="torch", device="not-a-device", max_iter=1).fit(P, y)


def test_missing_torch_gives_a_clear_error(packed, monkeypatch):
    P, y = packed
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "lpkernel.linear._torch", raising=False)
    with pytest.raises(ImportError, match="needs PyTorch"):
        KernelSGDClassifier(backend="torch", max_iter=1).fit(P, y)
    importlib.invalidate_caches()


# -- the reusable core -------------------------------------------------------------------
def test_partial_fit_is_one_sgd_pass(packed):
    P, y = packed
    model = KernelSGDClassifier(solver="sgd", learning_rate=0.3, random_state=0)
    model.partial_fit(P, y, classes=[0, 1])
    rng = check_random_state(0)
    weights = init_weights(P.shape[1], 2, dtype=np.float64, random_state=rng)
    expected, _, _ = sgd_pass(P, y, None, weights, learning_rate=0.3, alpha=1e-4,
                              random_state=rng)
    assert_array_equal(model.coef_, expected.coef.T)
    before = model.history_[-1]["train_objective"]
    model.partial_fit(P, y)
    assert model.n_iter_ == 2 and model.history_[-1]["train_objective"] < before


def test_sgd_pass_visits_only_the_given_rows(packed):
    P, y = packed
    weights = init_weights(P.shape[1], 2, rank=3, dtype=np.float64, random_state=0)
    frozen = weights.copy()
    on_rows, _, _ = sgd_pass(P, y, np.arange(100), weights, learning_rate=0.5, random_state=4)
    on_slice, _, _ = sgd_pass(P[:100], y[:100], None, weights, learning_rate=0.5,
                              random_state=4)
    for a, b in zip(on_rows.factors, on_slice.factors, strict=True):
        assert_array_equal(a, b)
    for a, b in zip(weights.factors, frozen.factors, strict=True):
        assert_array_equal(a, b)  # the input weights are not modified


def test_adam_state_carries_over_between_passes(packed):
    P, y = packed
    weights = init_weights(P.shape[1], 2, dtype=np.float64)
    once, state, _ = sgd_pass(P, y, None, weights, solver="adam", batch_size=400,
                              random_state=0, shuffle=False)
    twice, state, _ = sgd_pass(P, y, None, once, solver="adam", state=state, batch_size=400,
                               random_state=0, shuffle=False)
    assert state["step"] == 2
    both, _, _ = sgd_pass(P[np.r_[np.arange(400), np.arange(400)]],
                          np.r_[y, y], None, weights, solver="adam", batch_size=400,
                          shuffle=False)
    assert_allclose(twice.coef, both.coef, rtol=0, atol=1e-12)


# -- outputs and metrics ---------------------------------------------------------------
def test_probabilities_and_heldout_metrics(packed):
    P, y = packed
    model = KernelSGDClassifier(heldout_metric="erp", learning_rate=0.1, max_iter=3,
                                max_halvings=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model.fit(P[:300], y[:300], eval_set=(P[300:], y[300:]))
    proba = model.predict_proba(P)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(np.log(proba), model.predict_log_proba(P), atol=1e-12)
    scores = model.decision_function(P)
    assert_array_equal(model.predict(P), (scores > 0).astype(int))
    last = model.history_[-1]
    assert last["action"] != "revert"  # so the model is the one the metrics were taken on
    heldout_proba = model.predict_proba(P[300:])
    cross_entropy = log_loss(y[300:], heldout_proba)
    entropy = -np.mean(np.sum(heldout_proba * np.log(heldout_proba), axis=1))
    assert last["heldout_cross_entropy"] == pytest.approx(cross_entropy, rel=1e-10)
    assert last["heldout_erp"] == pytest.approx(cross_entropy + entropy, rel=1e-10)
    assert last["heldout_error"] == pytest.approx(1 - model.score(P[300:], y[300:]))


def test_validation_fraction_holds_out_rows(packed):
    P, y = packed
    model = KernelSGDClassifier(validation_fraction=0.25, learning_rate=0.1, max_iter=2,
                                random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(P, y)
    # 300 training rows at batch size 256: two minibatches per epoch
    assert {"heldout_cross_entropy", "action"} <= model.history_[0].keys()
    no_heldout = KernelSGDClassifier(validation_fraction=None, max_iter=2).fit(P, y)
    assert "action" not in no_heldout.history_[0] and no_heldout.n_iter_ == 2


def test_float32_and_pickle(packed):
    P, y = packed
    P32 = PackedFeatures(P.codes, P.n_bits, P.n_features, P.low, P.step, dtype=np.float32)
    model = KernelSGDClassifier(max_iter=3, validation_fraction=None, random_state=0).fit(P32, y)
    assert model.coef_.dtype == np.float32
    clone = pickle.loads(pickle.dumps(model))
    assert_array_equal(clone.predict_proba(P32), model.predict_proba(P32))


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "match"), [
    ({"rank": 0}, "rank"),
    ({"solver": "lbfgs"}, "solver"),
    ({"learning_rate": -1.0}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"heldout_metric": "mse"}, "heldout_metric"),
    ({"model_bits": 8}, "needs solver='svrg'"),
    ({"solver": "svrg", "model_bits": 1}, "model_bits"),
    ({"backend": "jax"}, "backend"),
    ({"device": "cuda"}, "needs backend='torch'"),
    ({"alpha": -1.0}, "alpha"),
])
def test_bad_parameters_raise(packed, params, match):
    P, y = packed
    with pytest.raises(ValueError, match=match):
        KernelSGDClassifier(**params).fit(P, y)


def test_bad_data_raises(packed):
    P, y = packed
    with pytest.raises(ValueError, match="at least 2 classes"):
        KernelSGDClassifier().fit(P, np.zeros(len(y)))
    with pytest.raises(ValueError, match="n_samples=1"):
        KernelSGDRegressor().fit(P[:1], y[:1])
    with pytest.raises(ValueError, match="pair"):
        KernelSGDClassifier().fit(P, y, eval_set=P)
    with pytest.raises(ValueError, match="not seen in fit"):
        KernelSGDClassifier().fit(P, y, eval_set=(P[:5], np.full(5, 7)))
    with pytest.raises(ValueError, match="classes must be given"):
        KernelSGDClassifier().partial_fit(P, y)
    model = KernelSGDClassifier(max_iter=1, validation_fraction=None).fit(P, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((2, P.shape[1]), np.nan))
    with pytest.raises(ValueError, match="diverged"):
        X = np.random.default_rng(0).normal(scale=100.0, size=(50, 3))
        KernelSGDRegressor(solver="sgd", learning_rate=10.0, validation_fraction=None,
                           batch_size=10).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="targets"):
        KernelSGDRegressor().fit(P, np.c_[y, y], eval_set=(P, y))
