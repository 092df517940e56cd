"""lpkernel.Nystroem against scikit-learn's Nystroem on ijcnn1's training rows.

1. Fit + transform of the 39,992 training rows (rbf kernel) by scikit-learn's
   Nystroem and by lpkernel's Nystroem with uniform landmarks (the same
   landmarks), at m = 1,024 and 4,096: seconds, peak memory and their ratios.
2. The cost of ``sampling="kmeans"`` and ``sampling="rls"`` against
   ``"uniform"``: fit seconds, fit + transform seconds, and the ratios.

Both tables also give the kernel approximation error on 2,000 held-out rows,
||K - Z Z^T||_F / ||K||_F (computed after the timing, not timed), so a speed-up
cannot come from a worse map.

Every case runs in its own subprocess and reports its own peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the run, minus the same
figure after loading the data), so the numbers do not mix. ``--repeats N``
keeps the fastest of N runs per case: on a shared machine, the least disturbed.

Usage::

    python benchmarks/bench_nystroem.py                       # float32, m = 1,024 and 4,096
    python benchmarks/bench_nystroem.py --dtypes float32 float64
    python benchmarks/bench_nystroem.py --components 1024 --skip-sampling
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_ERROR_ROWS = 2_000


def _peak_rss_mib():
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case):
    """One fit + transform, in this process; returns the measured figures."""
    from sklearn.metrics.pairwise import rbf_kernel

    from lpkernel.datasets import load_ijcnn1

    dtype = np.dtype(case["dtype"]).type
    X_train, X_test, _, _ = load_ijcnn1(return_X_y=True, dtype=dtype)
    if case["library"] == "sklearn":
        from sklearn.kernel_approximation import Nystroem

        estimator = Nystroem(n_components=case["m"], gamma=case["gamma"], random_state=0,
                             n_jobs=case["n_jobs"])
    else:
        from lpkernel import Nystroem

        estimator = Nystroem(case["m"], gamma=case["gamma"], sampling=case["sampling"],
                             random_state=0, n_jobs=case["n_jobs"])
    baseline = _peak_rss_mib()
    start = time.perf_counter()
    estimator.fit(X_train)
    fitted = time.perf_counter()
    Z_train = estimator.transform(X_train)
    done = time.perf_counter()
    peak = _peak_rss_mib() - baseline
    assert Z_train.shape == (X_train.shape[0], case["m"]) and Z_train.dtype == dtype
    del Z_train
    rows = X_test[:N_ERROR_ROWS]
    K = rbf_kernel(rows.astype(np.float64), gamma=case["gamma"])
    Z = estimator.transform(rows).astype(np.float64)
    error = np.linalg.norm(K - Z @ Z.T) / np.linalg.norm(K)
    return dict(fit_s=fitted - start, total_s=done - start, peak_mib=peak, error=float(error),
                dropped=getattr(estimator, "n_dropped_eigenvalues_", None))


def measure(case, repeats=1):
    """The fastest of ``repeats`` runs of one case (each in a fresh interpreter, so its
    peak memory is its own): on a shared machine, the least disturbed run."""
    runs = [measure_once(case) for _ in range(repeats)]
    best = min(runs, key=lambda run: run["total_s"])
    return dict(best, fit_s=min(run["fit_s"] for run in runs),
                peak_mib=max(run["peak_mib"] for run in runs))


def measure_once(case):
    # the child imports lpkernel from this checkout, installed or not
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))
    result = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)],
                            capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def print_table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtypes", nargs="+", default=["float32"],
                        choices=["float32", "float64"])
    parser.add_argument("--components", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--gamma", type=float, default=1.0,
                        help="rbf bandwidth; ijcnn1's features lie in [-1, 1] (default 1.0)")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per case; the table shows the fastest (default 1)")
    parser.add_argument("--skip-sampling", action="store_true",
                        help="only the comparison with scikit-learn")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return

    import sklearn

    print(f"ijcnn1 training rows (39,992 x 22), rbf gamma={args.gamma}, n_jobs={args.n_jobs}, "
          f"{os.cpu_count()} CPUs, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"kernel error on {N_ERROR_ROWS:,} test rows; fastest of {args.repeats} run(s) per case")
    uniform = {}
    rows = []
    for dtype in args.dtypes:
        for m in args.components:
            base = dict(dtype=dtype, m=m, gamma=args.gamma, n_jobs=args.n_jobs)
            sk = measure(dict(base, library="sklearn"), args.repeats)
            lp = measure(dict(base, library="lpkernel", sampling="uniform"), args.repeats)
            uniform[dtype, m] = lp
            rows.append([dtype, m, f"{sk['total_s']:.2f}", f"{lp['total_s']:.2f}",
                         f"{lp['total_s'] / sk['total_s']:.2f}x",
                         f"{sk['fit_s']:.2f}", f"{lp['fit_s']:.2f}",
                         f"{sk['peak_mib']:.0f}", f"{lp['peak_mib']:.0f}",
                         f"{lp['peak_mib'] / sk['peak_mib']:.2f}x",
                         f"{sk['error']:.2e}", f"{lp['error']:.2e}", lp["dropped"]])
    print_table("1. fit + transform, scikit-learn Nystroem vs lpkernel Nystroem(uniform)",
                ["dtype", "m", "sk s", "lp s", "lp/sk time", "sk fit s", "lp fit s",
                 "sk peak MiB", "lp peak MiB", "lp/sk mem", "sk error", "lp error",
                 "dropped"], rows)
    if args.skip_sampling:
        return
    rows = []
    dtype = args.dtypes[0]
    for m in args.components:
        ref = uniform[dtype, m]
        for sampling in ("uniform", "kmeans", "rls"):
            result = ref if sampling == "uniform" else measure(
                dict(dtype=dtype, m=m, gamma=args.gamma, n_jobs=args.n_jobs,
                     library="lpkernel", sampling=sampling), args.repeats)
            rows.append([dtype, m, sampling, f"{result['fit_s']:.2f}",
                         f"{result['fit_s'] / ref['fit_s']:.2f}x", f"{result['total_s']:.2f}",
                         f"{result['total_s'] / ref['total_s']:.2f}x",
                         f"{result['peak_mib']:.0f}", f"{result['error']:.2e}"])
    print_table("2. landmark sampling cost in lpkernel (ratios to uniform)",
                ["dtype", "m", "sampling", "fit s", "fit ratio", "fit+transform s",
                 "total ratio", "peak MiB", "kernel error"], rows)


if __name__ == "__main__":
    main()
