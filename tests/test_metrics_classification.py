"""lpkernel.metrics: cross-entropy, prediction entropy, ERP and their scorers."""

import math
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_val_score

from lpkernel.metrics import (
    cross_entropy,
    cross_entropy_scorer,
    entropy_regularized_log_loss,
    entropy_regularized_log_loss_scorer,
    prediction_entropy,
    prediction_entropy_scorer,
)


def test_values_checked_by_hand():
    y = ["b", "a", "c"]
    proba = [[0.2, 0.7, 0.1], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0]]
    ce = -(math.log(0.7) + math.log(0.5) + math.log(1.0)) / 3
    ent = (-(0.2 * math.log(0.2) + 0.7 * math.log(0.7) + 0.1 * math.log(0.1))
           - (0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
           + 0.0) / 3  # a one-hot row has entropy 0 (0 log 0 = 0)
    assert abs(cross_entropy(y, proba) - ce) < 1e-15
    assert abs(prediction_entropy(proba) - ent) < 1e-15
    assert abs(entropy_regularized_log_loss(y, proba) - (ce + ent)) < 1e-15
    assert abs(prediction_entropy(np.full((4, 5), 0.2)) - math.log(5)) < 1e-15


def test_binary_one_column_and_weights(rng):
    y = rng.integers(0, 2, size=50) * 2 - 1  # labels -1, +1
    p = rng.uniform(0.05, 0.95, size=50)  # P(+1)
    weights = rng.uniform(0.1, 2.0, size=50)
    two_columns = np.column_stack([1 - p, p])
    assert abs(cross_entropy(y, p) - log_loss(y, p)) < 1e-14
    assert abs(cross_entropy(y, p, sample_weight=weights)
               - log_loss(y, p, sample_weight=weights)) < 1e-14
    assert cross_entropy(y, p) == cross_entropy(y, two_columns)
    expected = np.average(-(p * np.log(p) + (1 - p) * np.log(1 - p)), weights=weights)
    assert abs(prediction_entropy(p, sample_weight=weights) - expected) < 1e-14


def test_multiclass_matches_log_loss_and_labels(rng):
    proba = rng.dirichlet(np.ones(4), size=30)
    y = rng.integers(0, 4, size=30)
    y[:4] = [0, 1, 2, 3]
    assert abs(cross_entropy(y, proba) - log_loss(y, proba)) < 1e-14
    # a class missing from y_true needs labels=, as in scikit-learn
    y_partial = np.where(y == 3, 2, y)
    with pytest.raises(ValueError, match="labels"):
        cross_entropy(y_partial, proba)
    assert abs(cross_entropy(y_partial, proba, labels=[0, 1, 2, 3])
               - log_loss(y_partial, proba, labels=[0, 1, 2, 3])) < 1e-14
    # a zero probability on the true class is clipped, not infinite
    assert np.isfinite(cross_entropy([0, 1], [[1.0, 0.0], [1.0, 0.0]]))


@pytest.mark.parametrize(
    "proba, match",
    [
        ([[0.5, 0.6], [0.5, 0.5]], "sum to 1"),
        ([[1.5, -0.5], [0.5, 0.5]], r"\[0, 1\]"),
        ([[0.5, 0.5], [np.nan, 0.5]], "NaN"),
        ([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], "labels"),
    ],
)
def test_bad_probabilities(proba, match):
    with pytest.raises(ValueError, match=match):
        entropy_regularized_log_loss([0, 1], proba)


def test_scorers_are_negated_losses(rng):
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    model = LogisticRegression().fit(X[:80], y[:80])
    proba = model.predict_proba(X[80:])
    assert cross_entropy_scorer(model, X[80:], y[80:]) == -cross_entropy(y[80:], proba)
    assert prediction_entropy_scorer(model, X[80:], y[80:]) == -prediction_entropy(proba)
    assert (entropy_regularized_log_loss_scorer(model, X[80:], y[80:])
            == -entropy_regularized_log_loss(y[80:], proba))
    scores = cross_val_score(LogisticRegression(), X, y, cv=3,
                             scoring=entropy_regularized_log_loss_scorer)
    assert np.all(scores < 0)
    # lower loss is better: a tiny C (near-uniform predictions) must lose
    search = GridSearchCV(LogisticRegression(), {"C": [1e-6, 1.0]}, cv=3,
                          scoring=pickle.loads(pickle.dumps(cross_entropy_scorer))).fit(X, y)
    assert search.best_params_ == {"C": 1.0}
