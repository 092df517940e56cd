"""lpkernel's main job: LP-RFF against full-precision RFF on the bundled ijcnn1 data.

``python -m lpkernel`` fits a ridge classifier on random Fourier features of
several sizes and precisions and prints, per configuration, the memory its
training features take and its test accuracy. Low-precision features stay packed
(b bits each) all the way through training: the ridge model reads them directly.
Configurations in one block take the same memory: more features at fewer bits, or
fewer at more (Zhang et al., AISTATS 2019). ``--quick`` runs a smaller version.
"""

import argparse
import time

import numpy as np


def run(budgets_kib_per_row, bits, gamma, alpha, quick, random_state=0, out=print):
    from lpkernel import RandomFourierFeatures
    from lpkernel.datasets import load_ijcnn1
    from lpkernel.linear import LowPrecisionRidgeClassifier

    X_train, X_test, y_train, y_test = load_ijcnn1(return_X_y=True, dtype=np.float32)
    if quick:
        X_train, y_train = X_train[:8000], y_train[:8000]
    n = X_train.shape[0]
    out(f"ijcnn1: {n} training rows, {X_test.shape[0]} test rows, {X_train.shape[1]} features; "
        f"rbf kernel, gamma={gamma}, ridge alpha={alpha}")
    header = (f"{'bits/row':>9} {'n_bits':>6} {'m':>6} {'train features':>15} {'test acc':>9} "
              f"{'seconds':>8}")
    out(header)
    out("-" * len(header))
    results = []
    for budget in budgets_kib_per_row:
        bits_per_row = int(budget * 8 * 1024)
        for b in bits:
            m = bits_per_row // b
            start = time.perf_counter()
            rff = RandomFourierFeatures(m, gamma=gamma, n_bits=None if b == 32 else b,
                                        output="dense" if b == 32 else "packed",
                                        n_jobs=-1, random_state=random_state)
            Z_train = rff.fit_transform(X_train)
            clf = LowPrecisionRidgeClassifier(alpha=alpha).fit(Z_train, y_train)
            accuracy = clf.score(rff.transform(X_test), y_test)
            seconds = time.perf_counter() - start
            feature_mib = n * m * b / 8 / 2**20
            results.append((bits_per_row, b, m, feature_mib, accuracy))
            out(f"{bits_per_row:>9} {b:>6} {m:>6} {feature_mib:>11.1f} MiB {accuracy:>9.4f} "
                f"{seconds:>8.1f}")
        out("")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lpkernel", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8,000 training rows, one budget")
    parser.add_argument("--gamma", type=float, default=1.0, help="rbf bandwidth (default 1.0)")
    parser.add_argument("--alpha", type=float, default=0.01, help="ridge penalty (default 0.01)")
    args = parser.parse_args(argv)
    budgets = [1.0] if args.quick else [0.5, 1.0]  # KiB of training features per row
    bits = (32, 8, 4, 2) if args.quick else (32, 16, 8, 4, 2)
    run(budgets, bits, args.gamma, args.alpha, args.quick)


if __name__ == "__main__":
    main()
