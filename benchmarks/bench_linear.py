"""Learners on packed low-precision features against scikit-learn, on ijcnn1.

Ridge: scikit-learn's RBFSampler (float32) + RidgeClassifier against LP-RFF
(4-bit, packed) + LowPrecisionRidgeClassifier, both with m random features and
the same alpha; also 8-bit and 4-bit nearest rounding, and lpkernel's float32 features
of the same frequencies, so the cost of the quantization alone can be read off.
SGD: KernelSGDClassifier on float32 RFF against the same frequencies stored in 8
bits (packed), and SVRG with full-precision weights against LM-HALP 8-bit weights.

Every case runs in its own subprocess, which reports its own peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) so the numbers do not mix; the
table prints time, test accuracy, peak memory and the ratios to the reference.

Usage::

    python benchmarks/bench_linear.py                    # m = 16,384, everything
    python benchmarks/bench_linear.py --n-components 2048 --only ridge
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

GAMMA = 1.0  # ijcnn1's features lie in [-1, 1]; 1.0 is near the best bandwidth there


def _peak_rss_mb():
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load():
    from lpkernel.datasets import load_ijcnn1

    return load_ijcnn1(return_X_y=True, dtype=np.float32)


def case_sklearn_ridge(args):
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import RidgeClassifier

    X_train, X_test, y_train, y_test = _load()
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    sampler = RBFSampler(gamma=GAMMA, n_components=args.n_components, random_state=0)
    Z_train = sampler.fit_transform(X_train)
    model = RidgeClassifier(alpha=args.alpha).fit(Z_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = model.score(sampler.transform(X_test), y_test)
    predict_s = time.perf_counter() - start
    return dict(fit_s=fit_s, predict_s=predict_s, accuracy=accuracy, baseline_mb=baseline,
                feature_mb=Z_train.nbytes / 2**20)


def case_lp_ridge(args, n_bits=4, rounding="stochastic"):
    """lpkernel RFF (packed b-bit, or float32 dense with ``n_bits=None``) + LowPrecisionRidgeClassifier.

    The same random_state draws the same frequencies for every n_bits, so these rows differ
    from each other only by the quantization.
    """
    from lpkernel import RandomFourierFeatures
    from lpkernel.linear import LowPrecisionRidgeClassifier

    X_train, X_test, y_train, y_test = _load()
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    rff = RandomFourierFeatures(args.n_components, gamma=GAMMA, n_bits=n_bits, rounding=rounding,
                                output="dense" if n_bits is None else "packed", random_state=0)
    P_train = rff.fit_transform(X_train)
    model = LowPrecisionRidgeClassifier(alpha=args.alpha).fit(P_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = model.score(rff.transform(X_test), y_test)
    predict_s = time.perf_counter() - start
    return dict(fit_s=fit_s, predict_s=predict_s, accuracy=accuracy, baseline_mb=baseline,
                feature_mb=P_train.nbytes / 2**20)


def _sgd_case(args, n_bits, **params):
    from lpkernel import RandomFourierFeatures
    from lpkernel.linear import KernelSGDClassifier

    X_train, X_test, y_train, y_test = _load()
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    rff = RandomFourierFeatures(args.n_components, gamma=GAMMA, n_bits=n_bits,
                                output="dense" if n_bits is None else "packed", random_state=0)
    Z_train = rff.fit_transform(X_train)
    model = KernelSGDClassifier(alpha=args.sgd_alpha, max_iter=args.sgd_epochs,
                                max_halvings=args.max_halvings, random_state=0, **params)
    with warnings.catch_warnings():  # a capped epoch budget is the point here
        warnings.simplefilter("ignore")
        model.fit(Z_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = model.score(rff.transform(X_test), y_test)
    predict_s = time.perf_counter() - start
    return dict(fit_s=fit_s, predict_s=predict_s, accuracy=accuracy, baseline_mb=baseline,
                feature_mb=Z_train.nbytes / 2**20, epochs=model.n_iter_)


CASES = {
    "sklearn_ridge": ("ridge", "RBFSampler f32 + RidgeClassifier", case_sklearn_ridge),
    "lp_ridge": ("ridge", "LP-RFF 4-bit packed + LowPrecisionRidgeClassifier", case_lp_ridge),
    "lp_ridge_8bit": ("ridge", "LP-RFF 8-bit packed + LowPrecisionRidgeClassifier",
                      lambda a: case_lp_ridge(a, n_bits=8)),
    "lp_ridge_nearest": ("ridge", "LP-RFF 4-bit nearest, packed + LowPrecisionRidgeCl.",
                         lambda a: case_lp_ridge(a, n_bits=4, rounding="nearest")),
    "fp_ridge_same": ("ridge", "lpkernel RFF f32, same freqs + LowPrecisionRidgeCl.",
                      lambda a: case_lp_ridge(a, n_bits=None)),
    "sgd_fp": ("sgd", "Adam, float32 RFF",
               lambda a: _sgd_case(a, None, solver="adam", learning_rate=a.adam_rate)),
    "sgd_8bit": ("sgd", "Adam, 8-bit packed RFF",
                 lambda a: _sgd_case(a, 8, solver="adam", learning_rate=a.adam_rate)),
    "svrg_fp": ("sgd", "SVRG, 8-bit packed RFF, float weights",
                lambda a: _sgd_case(a, 8, solver="svrg", learning_rate=a.svrg_rate)),
    "svrg_halp8": ("sgd", "SVRG, 8-bit packed RFF, model_bits=8",
                   lambda a: _sgd_case(a, 8, solver="svrg", model_bits=8,
                                       learning_rate=a.svrg_rate)),
}
# the reference each row is compared with
REFERENCE = {"lp_ridge": "sklearn_ridge", "lp_ridge_8bit": "sklearn_ridge",
             "lp_ridge_nearest": "sklearn_ridge", "fp_ridge_same": "sklearn_ridge",
             "sgd_8bit": "sgd_fp", "svrg_halp8": "svrg_fp"}


def run_case(name, argv):
    command = [sys.executable, __file__, "--case", name, *argv]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"case {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(title, rows):
    print(f"\n{title}")
    header = (f"{'case':<52} {'fit s':>8} {'pred s':>7} {'test acc':>9} {'peak MB':>8} "
              f"{'feat MB':>8} {'time x':>7} {'mem x':>6} {'Δacc pt':>8}")
    print(header)
    print("-" * len(header))
    for name, result in rows:
        reference = dict(rows).get(REFERENCE.get(name))
        if reference is None:
            ratios = f"{'':>7} {'':>6} {'':>8}"
        else:
            ratios = (f"{result['fit_s'] / reference['fit_s']:>7.2f} "
                      f"{result['peak_mb'] / reference['peak_mb']:>6.3f} "
                      f"{100 * (result['accuracy'] - reference['accuracy']):>+8.2f}")
        label = CASES[name][1] + (f" ({result['epochs']} ep)" if "epochs" in result else "")
        print(f"{label:<52} {result['fit_s']:>8.1f} {result['predict_s']:>7.1f} "
              f"{100 * result['accuracy']:>8.2f}% {result['peak_mb']:>8.0f} "
              f"{result['feature_mb']:>8.0f} {ratios}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-components", type=int, default=16384)
    parser.add_argument("--alpha", type=float, default=1e-3, help="ridge alpha (both sides)")
    parser.add_argument("--sgd-alpha", type=float, default=1e-6)
    parser.add_argument("--sgd-epochs", type=int, default=12)
    parser.add_argument("--max-halvings", type=int, default=3)
    parser.add_argument("--adam-rate", type=float, default=0.01)
    # SVRG tolerates large steps on RFF (rows of norm ~1, most curvature tiny)
    parser.add_argument("--svrg-rate", type=float, default=64.0)
    parser.add_argument("--only", choices=["ridge", "sgd"], default=None)
    parser.add_argument("--case", choices=sorted(CASES), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        result = CASES[args.case][2](args)
        result["peak_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return
    argv = sys.argv[1:]
    print(f"ijcnn1 (39,992 train / 9,998 test rows, 22 features), m = {args.n_components}, "
          f"gamma = {GAMMA}. Each case runs in its own process; 'peak MB' is its max RSS "
          "(Python, libraries and data included: see 'base MB'); ratios are to the reference "
          "(sklearn for ridge, float32 features for Adam, float weights for SVRG).")
    for group, title in (("ridge", f"Closed-form ridge, alpha = {args.alpha}"),
                         ("sgd", f"Minibatch learners, alpha = {args.sgd_alpha}, at most "
                                 f"{args.sgd_epochs} epochs")):
        if args.only not in (None, group):
            continue
        rows = []
        for name, (case_group, _, _) in CASES.items():
            if case_group == group:
                rows.append((name, run_case(name, argv)))
        print_table(title, rows)
        print("base MB (after imports and data): "
              + ", ".join(f"{name} {r['baseline_mb']:.0f}" for name, r in rows))


if __name__ == "__main__":
    main()
