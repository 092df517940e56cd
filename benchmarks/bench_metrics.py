"""Speed and usefulness of lpkernel.metrics.spectral_approximation_error (issue 4, DESIGN §5).

1. Speed against the definition: at n = 4,000 ijcnn1 rows (rbf, m = 2,048 RFF),
   the brute-force reference (two full symmetric eigendecompositions, as in
   DESIGN §5) against lpkernel (one Cholesky + block Lanczos), same run, same
   values. Median wall and CPU time of 3 runs after a warm-up, and the peak
   memory traced by tracemalloc (NumPy's arrays; BLAS work space is not traced).
2. Scale: n = 20,000 rows, lpkernel only (the reference would need about
   125x the time of the n = 4,000 one).
3. The scientific check of Zhang et al. (2019): over RFF, LP-RFF (n_bits 1-8) and
   Nyström (scikit-learn's Nystroem) at several m, the Spearman rank correlation
   of 1/(1 - Delta1), of Delta2 and of the Frobenius error ||K - K~||_F with the
   test error of a ridge classifier trained on the same features.

The ridge classifier minimizes ||y - Z w||^2 + alpha ||w||^2 on N training rows,
i.e. it uses (Z Z^T + alpha I): its lam is alpha. The metrics are computed on a
sample of s of those rows, where the kernel is s/N times as large, so they use
lam = alpha * s / N (the same lam / n).

Run: ``python benchmarks/bench_metrics.py`` (a few minutes on 2 cores, more when
the machine is shared), or ``--quick`` for a small smoke run.
"""

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np
from scipy.stats import spearmanr
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics.pairwise import rbf_kernel

from lpkernel import RandomFourierFeatures
from lpkernel.datasets import load_ijcnn1
from lpkernel.metrics import kernel_approximation_error, spectral_approximation_error

GAMMA = 1.0  # rbf bandwidth, as in benchmarks/bench_frontier.py
ALPHA = 0.01  # ridge penalty on the sum of squares, on N_TRAIN rows
N_TRAIN = 10_000


def brute_force_deltas(X, Z, lam):
    """The definition: M = (K + lam I)^-1/2 (Z Z^T - K) (K + lam I)^-1/2, all its eigenvalues."""
    K = rbf_kernel(X, gamma=GAMMA)
    values, vectors = np.linalg.eigh(K + lam * np.eye(K.shape[0]))
    inverse_root = (vectors / np.sqrt(values)) @ vectors.T
    M = inverse_root @ (Z @ Z.T - K) @ inverse_root
    spectrum = np.linalg.eigvalsh((M + M.T) / 2)
    return -spectrum[0], spectrum[-1]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(func, repeats=1):
    """(result, median wall s, median cpu s, peak traced MiB) of func() over repeats."""
    walls, cpus, peak = [], [], 0.0
    for _ in range(repeats):
        tracemalloc.start()
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = func()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
        peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return result, float(np.median(walls)), float(np.median(cpus)), peak


def speed(X_train, n, m, lams, with_reference, repeats):
    rows = []
    X = X_train[:n]
    rff = RandomFourierFeatures(n_components=m, gamma=GAMMA, random_state=0).fit(X)
    Z = rff.transform(X).astype(np.float64)
    # both get the same Z; a warm-up on a small problem first (imports, thread pools)
    spectral_approximation_error(X[:400], features=Z[:400], gamma=GAMMA, lam=lams[0])
    if with_reference:
        brute_force_deltas(X[:400], Z[:400], lams[0])
    for lam in lams:
        ours, wall, cpu, peak = measure(
            lambda lam=lam: spectral_approximation_error(X, features=Z, gamma=GAMMA, lam=lam),
            repeats)
        row = {"n": n, "m": m, "lam": lam, "ours": ours, "wall": wall, "cpu": cpu, "peak": peak}
        if with_reference:
            ref, ref_wall, ref_cpu, ref_peak = measure(
                lambda lam=lam: brute_force_deltas(X, Z, lam), repeats)
            row.update(ref=ref, ref_wall=ref_wall, ref_cpu=ref_cpu, ref_peak=ref_peak)
        rows.append(row)
        print_speed_row(row)
    return rows


def print_speed_row(row):
    d1, d2 = row["ours"]
    line = (f"{row['n']:>6} {row['m']:>5} {row['lam']:>7.3g} {d1:>14.10f} {d2:>14.10f} "
            f"{row['wall']:>8.2f} {row['cpu']:>8.2f} {row['peak']:>8.0f}")
    if "ref" in row:
        error = max(abs(a - b) for a, b in zip(row["ours"], row["ref"], strict=True))
        line += (f" {row['ref_wall']:>8.2f} {row['ref_cpu']:>8.2f} {row['ref_peak']:>8.0f} "
                 f"{row['ref_wall'] / row['wall']:>6.1f}x {row['ref_cpu'] / row['cpu']:>6.1f}x "
                 f"{error:>9.1e}")
    print(line, flush=True)


def configurations(quick):
    """(name, m, bits, fitted-map factory) triples: RFF, LP-RFF, Nystroem."""
    rff_m = (64, 256, 1024) if quick else (64, 128, 256, 512, 1024, 2048, 4096)
    lp_m = (256, 1024) if quick else (256, 1024, 4096)
    lp_bits = (1, 4) if quick else (1, 2, 4, 8)
    nys_m = (64, 256) if quick else (32, 64, 128, 256, 512, 1024)
    out = [("RFF", m, 32, lambda m=m: RandomFourierFeatures(m, gamma=GAMMA, random_state=0))
           for m in rff_m]
    out += [("LP-RFF", m, b, lambda m=m, b=b: RandomFourierFeatures(m, gamma=GAMMA, n_bits=b,
                                                                    random_state=0))
            for b in lp_bits for m in lp_m]
    out += [("Nystroem", m, 32, lambda m=m: Nystroem(gamma=GAMMA, n_components=m,
                                                     random_state=0))
            for m in nys_m]
    return out


def scientific_check(X_train, y_train, X_test, y_test, n_train, n_metric, quick):
    X, y = X_train[:n_train], y_train[:n_train]
    sample = np.random.default_rng(0).choice(n_train, size=n_metric, replace=False)
    lam = ALPHA * n_metric / n_train
    print(f"\n3. Scientific check: ridge classifier (alpha={ALPHA}) on {n_train} ijcnn1 rows, "
          f"test error on {len(y_test)}; metrics on {n_metric} of the training rows, "
          f"lam = {lam:g}")
    print(f"{'method':>9} {'m':>5} {'bits':>4} {'test err':>9} {'1/(1-D1)':>10} {'Delta2':>10} "
          f"{'||K-K~||_F':>11} {'metric s':>8}")
    results = []
    for name, m, bits, factory in configurations(quick):
        feature_map = factory().fit(X)
        Z, Z_test = feature_map.transform(X), feature_map.transform(X_test)
        model = RidgeClassifier(alpha=ALPHA).fit(Z, y)
        error = 1.0 - model.score(Z_test, y_test)
        start = time.perf_counter()
        delta1, delta2 = spectral_approximation_error(X[sample], feature_map, lam=lam)
        frobenius = kernel_approximation_error(X[sample], feature_map)
        seconds = time.perf_counter() - start
        results.append((error, 1.0 / (1.0 - delta1), delta2, frobenius))
        print(f"{name:>9} {m:>5} {bits:>4} {error:>9.4f} {1 / (1 - delta1):>10.1f} "
              f"{delta2:>10.3f} {frobenius:>11.2f} {seconds:>8.1f}", flush=True)
    errors, inv_d1, delta2s, fros = (np.array(column) for column in zip(*results, strict=True))
    print(f"\nSpearman rank correlation with the test error over {len(results)} configurations:")
    for label, values in (("1/(1-Delta1)", inv_d1), ("Delta2", delta2s),
                          ("||K-K~||_F", fros)):
        rho, p_value = spearmanr(values, errors)
        print(f"  {label:<13} rho = {rho:+.3f}  (p = {p_value:.1e})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args(argv)
    quick = args.quick
    X_train, X_test, y_train, y_test = load_ijcnn1(return_X_y=True)
    n_small, m = (1000, 512) if quick else (4000, 2048)
    n_large = 3000 if quick else 20_000
    n_train = 3000 if quick else N_TRAIN

    header = (f"{'n':>6} {'m':>5} {'lam':>7} {'Delta1':>14} {'Delta2':>14} {'wall s':>8} "
              f"{'cpu s':>8} {'peak MiB':>8}")
    print(f"1. Speed against the definition (ijcnn1, rbf gamma={GAMMA}, RFF m={m})")
    print(header + f" {'ref wall':>8} {'ref cpu':>8} {'ref MiB':>8} {'wall':>7} {'cpu':>7} "
                   f"{'max |diff|':>9}")
    print("(ref: the definition, two full eigendecompositions; the two x columns are ref / ours)")
    speed(X_train, n_small, m, (ALPHA * n_small / N_TRAIN, 1.0), with_reference=True,
          repeats=1 if quick else 3)
    print(f"\n2. Scale (lpkernel only, lam = alpha * n / N = {ALPHA * n_large / N_TRAIN:g})")
    print(header)
    speed(X_train, n_large, m, (ALPHA * n_large / N_TRAIN,), with_reference=False, repeats=1)
    scientific_check(X_train, y_train, X_test, y_test, n_train, 500 if quick else 2000, quick)
    print(f"\npeak RSS of the whole run: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
