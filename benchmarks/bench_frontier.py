"""Memory-versus-accuracy frontier on ijcnn1 (issue 3, DESIGN §8).

For budgets of 1 to 256 MiB of *training features* (39,992 rows), every method
gets m = B / b features of b bits (B in bits per training row):

* RFF: lpkernel RandomFourierFeatures, full precision (32 bits);
* LP-RFF: the same map with n_bits = 1, 2, 4, 8 (Zhang et al., AISTATS 2019);
* Nyström: scikit-learn's Nystroem (lpkernel's is built on another branch), full
  precision, and stored by lpkernel.Quantizer at 2, 4, 8 bits (adaptive range),
  without and with a Hadamard rotation.

Each configuration trains a ridge classifier (closed form on the Gram matrix;
checked against scikit-learn's RidgeClassifier in the same run) and reports the
test error. Memory figures come from lpkernel.memory.feature_memory. Then:

* LP-RFF's memory compression at matched test error against full-precision RFF
  and against full-precision Nyström (the LP-RFF paper reports 2.9-10.3x and
  51-462x on its data sets);
* the rotation gain of the Quantizer at 2 and 4 bits.

Run: ``python benchmarks/bench_frontier.py`` (about 10 minutes on 2 cores), or
``--quick`` for a small smoke run. Options: ``--max-components``, ``--budgets``.
"""

import argparse
import math
import resource
import sys
import time

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import RidgeClassifier
from sklearn.pipeline import make_pipeline

from lpkernel import Quantizer, RandomFourierFeatures
from lpkernel.datasets import load_ijcnn1
from lpkernel.memory import budget_bits_per_row, feature_memory

GAMMA = 1.0  # rbf bandwidth; close to gamma="scale" (0.70) on ijcnn1
ALPHA = 0.1  # ridge penalty on the sum of squares
LP_BITS = (1, 2, 4, 8)
QUANTIZER_BITS = (2, 4, 8)


def ridge_error(Z_train, y_train, Z_test, y_test, alpha=ALPHA):
    """Test error of a ridge classifier with intercept, from the m x m Gram matrix.

    Same model as RidgeClassifier(alpha, solver="cholesky") for labels -1/+1:
    w = (Zc^T Zc + alpha I)^{-1} Zc^T yc with centered Z and y. One SYRK-sized
    product and one Cholesky, which is what makes m in the thousands affordable.
    """
    n = Z_train.shape[0]
    mean = Z_train.mean(axis=0, dtype=np.float64)
    gram = (Z_train.T @ Z_train).astype(np.float64) - n * np.outer(mean, mean)
    gram[np.diag_indices_from(gram)] += alpha
    y_mean = y_train.mean()
    rhs = (Z_train.T @ (y_train - y_mean).astype(Z_train.dtype)).astype(np.float64)
    weights = cho_solve(cho_factor(gram), rhs)
    scores = Z_test.astype(np.float64) @ weights + (y_mean - mean @ weights)
    return float(np.mean(np.where(scores > 0, 1.0, -1.0) != y_test))


def check_ridge(X_train, X_test, y_train, y_test):
    """The closed form against scikit-learn's RidgeClassifier on one small configuration."""
    rff = RandomFourierFeatures(n_components=256, gamma=GAMMA, random_state=0)
    Z_train, Z_test = rff.fit_transform(X_train), rff.transform(X_test)
    ours = ridge_error(Z_train, y_train, Z_test, y_test)
    sklearn = RidgeClassifier(alpha=ALPHA, solver="cholesky").fit(Z_train.astype(np.float64),
                                                                  y_train)
    theirs = 1.0 - sklearn.score(Z_test.astype(np.float64), y_test)
    return ours, theirs


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Frontier:
    """Collects (method, budget) -> (m, b, test error, feature MiB, map MiB)."""

    def __init__(self):
        self.rows = {}

    def add(self, method, budget_mib, m, n_bits, error, memory):
        self.rows[(method, budget_mib)] = (m, n_bits, error, memory.feature_mib, memory.map_mib)

    def get(self, method, budget_mib):
        return self.rows.get((method, budget_mib))


def plan(budgets_mib, n_train, max_components, methods):
    """(method, budget MiB, m, b) to run, and what the cap on m left out."""
    todo, capped = [], []
    for method, n_bits in methods:
        for mib in budgets_mib:
            m = int(math.floor(budget_bits_per_row(mib, n_train) / n_bits + 1e-9))
            if m < 1:
                continue
            (capped if m > max_components else todo).append((method, mib, m, n_bits))
    return todo, capped


def run_rff(todo, data, frontier, log):
    X_train, X_test, y_train, y_test = data
    for method, mib, m, n_bits in sorted((t for t in todo if "RFF" in t[0]), key=lambda t: t[2]):
        start = time.perf_counter()
        rff = RandomFourierFeatures(n_components=m, gamma=GAMMA, n_bits=n_bits, random_state=0)
        Z_train, Z_test = rff.fit_transform(X_train), rff.transform(X_test)
        error = ridge_error(Z_train, y_train, Z_test, y_test)
        memory = feature_memory(rff, len(X_train))
        frontier.add(method, mib, m, n_bits, error, memory)
        log(f"{method:>16} {mib:>6g} MiB  m={m:>6d}  error={100 * error:6.2f} %  "
            f"({time.perf_counter() - start:5.1f} s)")


def run_nystroem(todo, data, frontier, log, deadline):
    X_train, X_test, y_train, y_test = data
    jobs = [t for t in todo if t[0].startswith("Nystr")]
    skipped = []
    for m in sorted({t[2] for t in jobs}):
        if time.perf_counter() > deadline:
            skipped += [t for t in jobs if t[2] == m]
            continue
        start = time.perf_counter()
        nystroem = Nystroem(n_components=m, gamma=GAMMA, random_state=0).fit(X_train)
        Z_train, Z_test = nystroem.transform(X_train), nystroem.transform(X_test)
        log(f"{'Nystroem map':>16}            m={m:>6d}  ({time.perf_counter() - start:5.1f} s)")
        for method, mib, _, n_bits in (t for t in jobs if t[2] == m):
            start = time.perf_counter()
            if n_bits == 32:
                Q_train, Q_test, fitted = Z_train, Z_test, nystroem
            else:
                rotate = "hadamard" if "rot" in method else None
                quantizer = Quantizer(n_bits=n_bits, clip="adaptive", rotate=rotate,
                                      random_state=0).fit(Z_train)
                Q_train, Q_test = quantizer.transform(Z_train), quantizer.transform(Z_test)
                fitted = make_pipeline(nystroem, quantizer)
            error = ridge_error(Q_train, y_train, Q_test, y_test)
            frontier.add(method, mib, m, n_bits, error, feature_memory(fitted, len(X_train)))
            log(f"{method:>16} {mib:>6g} MiB  m={m:>6d}  error={100 * error:6.2f} %  "
                f"({time.perf_counter() - start:5.1f} s)")
            del Q_train, Q_test
        del Z_train, Z_test
    return skipped


def best_curve(frontier, methods, budgets_mib):
    """Per budget: (feature MiB, error, method) of the best of ``methods``, as a running best."""
    curve = []
    for mib in budgets_mib:
        entries = [(frontier.get(name, mib), name) for name in methods]
        entries = [(row[3], row[2], name) for row, name in entries if row is not None]
        if entries:
            curve.append(min(entries, key=lambda e: e[1]))
    # running best: a larger budget can always fall back on a smaller configuration
    running = []
    for memory, error, name in curve:
        if running and running[-1][1] <= error:
            running.append((memory, running[-1][1], running[-1][2]))
        else:
            running.append((memory, error, name))
    return running


def memory_to_reach(curve, target):
    """Feature MiB at which a running-best curve first reaches ``target`` error.

    Linear in log(memory) between the two bracketing budgets. Returns (MiB,
    exact?); (smallest MiB, False) when the curve already beats the target at
    its smallest budget (an upper bound on the memory needed), None if never.
    """
    for i, (memory, error, _) in enumerate(curve):
        if error <= target:
            if i == 0:
                return memory, False
            prev_memory, prev_error, _ = curve[i - 1]
            t = (prev_error - target) / (prev_error - error)
            return math.exp(math.log(prev_memory) + t * (math.log(memory)
                                                         - math.log(prev_memory))), True
    return None


def compression_table(frontier, budgets_mib, reference, lp_methods, trivial_error):
    lp_curve = best_curve(frontier, lp_methods, budgets_mib)
    lines, ratios = [], []
    for mib in budgets_mib:
        row = frontier.get(reference, mib)
        if row is None:
            continue
        m, _, error, feature_mib, map_mib = row
        if error >= trivial_error - 0.001:  # no better than always predicting the majority
            lines.append(f"  {reference} {mib:>5g} MiB (m={m}, error {100 * error:.2f} %): "
                         "no better than the majority class, not matched")
            continue
        reached = memory_to_reach(lp_curve, error)
        if reached is None:
            lines.append(f"  {reference} {mib:>5g} MiB (m={m}, error {100 * error:.2f} %): "
                         "LP-RFF never reaches this error within the budgets run")
            continue
        lp_mib, exact = reached
        ratio = feature_mib / lp_mib
        ratios.append((ratio, exact))
        lines.append(f"  {reference} {mib:>5g} MiB (m={m}, error {100 * error:.2f} %): LP-RFF "
                     f"needs {'' if exact else '<= '}{lp_mib:.3g} MiB -> "
                     f"{'' if exact else '>= '}{ratio:.1f}x less")
    return lines, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", type=float, nargs="+",
                        default=[1, 2, 4, 8, 16, 32, 64, 128, 256],
                        help="training-feature budgets in MiB")
    parser.add_argument("--max-components", type=int, default=4096)
    parser.add_argument("--time-limit", type=float, default=540.0,
                        help="seconds after which remaining Nystroem sizes are skipped")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.budgets, args.max_components = [1, 4], 512
    t0 = time.perf_counter()
    deadline = t0 + args.time_limit

    def log(line):
        print(f"[{time.perf_counter() - t0:6.1f} s] {line}", flush=True)

    data = load_ijcnn1(return_X_y=True, dtype=np.float32)
    X_train, X_test, y_train, y_test = data
    n_train = len(X_train)
    print(f"ijcnn1: {n_train} training rows, {len(X_test)} test rows, d = {X_train.shape[1]}; "
          f"rbf gamma = {GAMMA}, ridge alpha = {ALPHA}")
    print(f"budgets (MiB of training features): {args.budgets}; 1 MiB = "
          f"{budget_bits_per_row(1, n_train):.1f} bits per training row")
    trivial_error = float(np.mean(y_test != (1.0 if np.mean(y_train) > 0 else -1.0)))
    print(f"majority-class test error: {100 * trivial_error:.2f} %")
    ours, theirs = check_ridge(*data)
    print(f"ridge check (RFF m=256): closed form {100 * ours:.3f} % vs scikit-learn "
          f"RidgeClassifier {100 * theirs:.3f} % test error")

    rff_methods = [("RFF fp32", 32)] + [(f"LP-RFF b={b}", b) for b in LP_BITS]
    ny_methods = [("Nystroem fp32", 32)] + [
        (f"Nystroem q{b}{rot}", b) for b in QUANTIZER_BITS for rot in ("", " rot")
    ]
    todo, capped = plan(args.budgets, n_train, args.max_components, rff_methods + ny_methods)
    frontier = Frontier()
    run_rff(todo, data, frontier, log)
    skipped = run_nystroem(todo, data, frontier, log, deadline)

    # -- tables -------------------------------------------------------------------------
    methods = [name for name, _ in rff_methods + ny_methods]
    width = 15
    print("\nTest error % (m features) per training-feature budget; '-' = not run (see notes)")
    for family in ([name for name, _ in rff_methods], [name for name, _ in ny_methods]):
        print(f"{'budget MiB':>10} | " + " | ".join(f"{name:>{width}}" for name in family))
        for mib in args.budgets:
            cells = []
            for name in family:
                row = frontier.get(name, mib)
                cells.append(f"{'-':>{width}}" if row is None
                             else f"{100 * row[2]:6.2f} ({row[0]:>5d})".rjust(width))
            print(f"{mib:>10g} | " + " | ".join(cells))
        print()

    print("Map memory (MiB) at the largest budget run, per method:")
    for name in methods:
        rows = [(mib, frontier.get(name, mib)) for mib in args.budgets if frontier.get(name, mib)]
        if rows:
            mib, row = rows[-1]
            print(f"  {name:>16}: {row[4]:8.3f} MiB map, {row[3]:8.2f} MiB features "
                  f"(budget {mib:g} MiB, m = {row[0]})")

    lp_methods = [f"LP-RFF b={b}" for b in LP_BITS]
    print("\nLP-RFF (best of b = 1, 2, 4, 8 at each budget) memory compression at matched test "
          "error; memory = training features, interpolated in log(memory) between budgets")
    for reference in ("RFF fp32", "Nystroem fp32"):
        lines, ratios = compression_table(frontier, args.budgets, reference, lp_methods,
                                          trivial_error)
        print(f" vs {reference}:")
        print("\n".join(lines))
        exact = [r for r, e in ratios if e]
        if ratios:
            low = min(r for r, _ in ratios)
            high = max(r for r, _ in ratios)
            print(f"  range {low:.1f}x - {high:.1f}x over {len(ratios)} matched points "
                  f"({len(exact)} interpolated, {len(ratios) - len(exact)} lower bounds)")

    print("\nRotation gain of the Quantizer on Nyström features (test error %, adaptive range):")
    print(f"{'budget MiB':>10} | {'2 bit':>8} {'2 bit rot':>10} | {'4 bit':>8} {'4 bit rot':>10}")
    for mib in args.budgets:
        cells = []
        for b in (2, 4):
            plain, rotated = frontier.get(f"Nystroem q{b}", mib), frontier.get(
                f"Nystroem q{b} rot", mib)
            cells.append(f"{'-':>8} {'-':>10}" if plain is None or rotated is None else
                         f"{100 * plain[2]:8.2f} {100 * rotated[2]:10.2f}")
        print(f"{mib:>10g} | " + " | ".join(cells))

    print("\nNotes:")
    if capped:
        print(f"  m > {args.max_components} not run (--max-components; at m = 4096 the n x m "
              f"float32 features take {n_train * 4096 * 4 / 2**30:.2f} GiB and the Gram matrix "
              f"n m^2 = {n_train * 4096 ** 2:.1e} flops, tens of seconds per fit on 2 cores, "
              "more than a ~10-minute run allows): "
              + ", ".join(f"{name} @ {mib:g} MiB (m={m})" for name, mib, m, _ in capped))
    if skipped:
        print("  skipped for the time limit: "
              + ", ".join(f"{name} @ {mib:g} MiB (m={m})" for name, mib, m, _ in skipped))
    print(f"  total {time.perf_counter() - t0:.0f} s, peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
