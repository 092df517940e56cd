"""Which kernel approximation wins at a memory budget, on your data?

Grid-searches (n_components, n_bits) at equal training-feature memory with
MemoryBudgetSearchCV, for LP-RFF and for Nyström + Quantizer (rotated), on a
subsample of the bundled ijcnn1 data, prints each frontier, checks the winners
with the (Delta1, Delta2) spectral approximation error, and draws the frontiers
if matplotlib is installed.

Run: ``python examples/memory_budget_frontier.py`` (about a minute on 2 cores).
"""

import numpy as np
from sklearn.pipeline import make_pipeline

from lpkernel import Nystroem, Quantizer, RandomFourierFeatures
from lpkernel.datasets import load_ijcnn1
from lpkernel.linear import LowPrecisionRidgeClassifier
from lpkernel.metrics import spectral_approximation_error
from lpkernel.model_selection import MemoryBudgetSearchCV

X_train, X_test, y_train, y_test = load_ijcnn1(return_X_y=True, dtype=np.float32)
X_train, y_train = X_train[:6000], y_train[:6000]
budgets = [1024, 4096]  # bits of training features per row
candidates = {
    "LP-RFF": (
        make_pipeline(RandomFourierFeatures(gamma=1.0, random_state=0),
                      LowPrecisionRidgeClassifier(alpha=0.01)),
        {"n_components_param": "randomfourierfeatures__n_components",
         "n_bits_param": "randomfourierfeatures__n_bits"},
    ),
    "Nystroem + rotated Quantizer": (
        make_pipeline(Nystroem(gamma=1.0, random_state=0),
                      Quantizer(rotate="hadamard", random_state=0),
                      LowPrecisionRidgeClassifier(alpha=0.01)),
        {"n_components_param": "nystroem__n_components", "n_bits_param": "quantizer__n_bits"},
    ),
}
searches = {}
for name, (model, params) in candidates.items():
    search = MemoryBudgetSearchCV(model, budgets, n_bits=(2, 4, 8, 16), cv=3, max_components=1024,
                                  **params).fit(X_train, y_train)
    searches[name] = search
    print(f"\n{name}: best per budget (cross-validated accuracy), test accuracy of the refit model")
    print(search.frontier_[["budget_bits_per_row", "n_components", "n_bits", "mean_test_score"]])
    print("test accuracy:", round(search.score(X_test, y_test), 4))
    feature_map = search.best_estimator_[:-1]
    delta1, delta2 = spectral_approximation_error(X_train[:1000], feature_map, kernel="rbf",
                                                  gamma=1.0, lam=1.0)
    print(f"spectral error of the winner on 1,000 rows: delta1={delta1:.3f}, delta2={delta2:.3f}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\nmatplotlib is not installed: no plot")
else:
    fig, ax = plt.subplots()
    for search in searches.values():
        search.plot_frontier(ax=ax)
    ax.legend(list(searches))
    fig.savefig("memory_budget_frontier.png", dpi=120)
    print("\nwrote memory_budget_frontier.png")
