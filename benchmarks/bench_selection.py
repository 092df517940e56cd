"""Supervised random-feature selection against plain random features (May et al.).

For D in {256, 1024}: test error of D selected features (ranked by the default
one-pass SGD fit and by the closed-form ridge fit, ``solver="ridge"``), and of D, 3D
and 5D random features, all with the same downstream learner (scikit-learn's RidgeClassifier on
ijcnn1, Ridge on abalone; inputs standardized for abalone's regression). Also the cost
of each selection in multiples of one plain fit (random features + ridge).

Run: ``python benchmarks/bench_selection.py`` (a few minutes on 2 cores). "cost x" is
sgd/ridge selection time over the plain fit of D random features.
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
    print(f"{'data':<8}{'D':>6}  {'metric':<13}{'sel sgd':>9}{'sel ridge':>10}{'random D':>10}"
          f"{'random 3D':>10}{'random 5D':>10}{'sgd s':>7}{'ridge s':>8}{'plain s':>8}{'cost x':>12}")
    for name, metric, Xtr, ytr, Xte, yte, classify, gamma, learner in problems:
        for D in args.sizes:
            selected, select_s = {}, {}
            for solver in ("sgd", "ridge"):
                selector = RandomFeatureSelector(D, gamma=gamma, n_iter=args.n_iter, solver=solver,
                                                 random_state=0)
                selected[solver], select_s[solver] = fit_score(selector, learner(), Xtr, ytr, Xte, yte,
                                                               classify)
            scores = {}
            for factor in (1, 3, 5):
                rff = RandomFourierFeatures(factor * D, gamma=gamma, random_state=0)
                scores[factor], seconds = fit_score(rff, learner(), Xtr, ytr, Xte, yte, classify)
                if factor == 1:
                    plain_s = seconds
            cost = f"{select_s['sgd'] / plain_s:.0f}/{select_s['ridge'] / plain_s:.0f}"
            print(f"{name:<8}{D:>6}  {metric:<13}{selected['sgd']:>9.3f}{selected['ridge']:>10.3f}"
                  f"{scores[1]:>10.3f}{scores[3]:>10.3f}{scores[5]:>10.3f}{select_s['sgd']:>7.1f}"
                  f"{select_s['ridge']:>8.1f}{plain_s:>8.2f}{cost:>12}", flush=True)


if __name__ == "__main__":
    main()
