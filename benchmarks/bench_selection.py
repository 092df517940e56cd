"""Supervised random-feature selection against plain random features (May et al.).

For D in {256, 1024}: test error of D selected features (ranked by the default
one-pass SGD fit, by the closed-form ridge fit, ``solver="ridge"``, and by the ridge fit
with a fifth of the rows held out to pick the best iteration's pool,
``validation_fraction=0.2``), and of D, 3D and 5D random features, all with the same
downstream learner (scikit-learn's RidgeClassifier on ijcnn1, Ridge on abalone; inputs
standardized for abalone's regression). Also the cost
of each selection in multiples of one plain fit (random features + ridge).

Every figure is the mean over ``--seeds`` random states (features and selection both
drawn anew), with the spread (standard deviation) beside it: at D = 1024 on ijcnn1 the
differences between methods are a few test rows, the size of one seed's luck.

Run: ``python benchmarks/bench_selection.py`` (about a quarter of an hour on one core). "cost x" is
sgd/ridge/ridge-val selection time over the plain fit of D random features.
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.preprocessing import StandardScaler

from lpkernel import RandomFeatureSelector, RandomFourierFeatures
from lpkernel.datasets import load_abalone, load_ijcnn1


def fit_score(transformer, learner, X_train, y_train, X_test, y_test, classify):
    start = time.perf_counter()
    Z_train = transformer.fit_transform(X_train, y_train)
    model = learner.fit(Z_train, y_train)
    seconds = time.perf_counter() - start
    prediction = model.predict(transformer.transform(X_test))
    if classify:
        return 100 * np.mean(prediction != y_test), seconds
    return float(np.sqrt(np.mean((prediction - y_test) ** 2))), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--n-iter", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    X_train, X_test, y_train, y_test = load_ijcnn1(return_X_y=True)
    A_train, A_test, b_train, b_test = load_abalone(return_X_y=True)
    scaler = StandardScaler().fit(A_train)
    A_train, A_test = scaler.transform(A_train), scaler.transform(A_test)
    problems = [
        ("ijcnn1", "test error %", X_train, y_train, X_test, y_test, True, 1.0,
         lambda: RidgeClassifier(alpha=0.01)),
        ("abalone", "test RMSE", A_train, b_train, A_test, b_test, False, 0.1,
         lambda: Ridge(alpha=0.01)),
    ]
    print(f"mean ± standard deviation over random_state in {args.seeds}")
    print(f"{'data':<8}{'D':>6}  {'metric':<13}{'sel sgd':>13}{'sel ridge':>13}{'ridge val':>13}"
          f"{'random D':>13}{'random 3D':>13}{'random 5D':>13}{'sgd s':>7}{'ridge s':>8}{'val s':>7}"
          f"{'plain s':>8}{'cost x':>10}")
    for name, metric, Xtr, ytr, Xte, yte, classify, gamma, learner in problems:
        for D in args.sizes:
            scores, seconds = {}, {}
            for seed in args.seeds:
                transformers = {key: RandomFeatureSelector(D, gamma=gamma, n_iter=args.n_iter,
                                                           solver=solver, validation_fraction=fraction,
                                                           random_state=seed)
                                for key, solver, fraction in [("sgd", "sgd", None), ("ridge", "ridge", None),
                                                              ("val", "ridge", 0.2)]}
                transformers.update({factor: RandomFourierFeatures(factor * D, gamma=gamma,
                                                                   random_state=seed)
                                     for factor in (1, 3, 5)})
                for key, transformer in transformers.items():
                    score, elapsed = fit_score(transformer, learner(), Xtr, ytr, Xte, yte, classify)
                    scores.setdefault(key, []).append(score)
                    seconds.setdefault(key, []).append(elapsed)
            cells = "".join(f"{np.mean(scores[key]):>7.3f}±{np.std(scores[key]):<5.3f}"
                            for key in ("sgd", "ridge", "val", 1, 3, 5))
            sgd_s, ridge_s, val_s, plain_s = (np.mean(seconds[key]) for key in ("sgd", "ridge", "val", 1))
            cost = f"{sgd_s / plain_s:.0f}/{ridge_s / plain_s:.0f}/{val_s / plain_s:.0f}"
            print(f"{name:<8}{D:>6}  {metric:<13}{cells}{sgd_s:>7.1f}{ridge_s:>8.1f}{val_s:>7.1f}"
                  f"{plain_s:>8.2f}{cost:>10}", flush=True)

if __name__ == "__main__":
    main()
