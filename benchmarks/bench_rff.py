"""Time and peak memory of LP-RFF against scikit-learn's RBFSampler and a bare GEMM.

One run on the same data: n = 50,000 rows, d = 22 and d = 90, m = 4,096 features,
float32. Each transform is timed as the median of ``--repeats`` calls after a
warm-up; peak memory is the largest extra allocation during one call (tracemalloc,
which sees NumPy's buffers). Then, in fresh processes, the cost of ``import
lpkernel`` and of the first transform with the Numba cache warm.

Run: ``python benchmarks/bench_rff.py`` (about a minute on 2 cores).
"""

import argparse
import statistics
import subprocess
import sys
import time
import tracemalloc
from functools import partial

import numpy as np
from sklearn.kernel_approximation import RBFSampler

from lpkernel import RandomFourierFeatures


def measure(func, repeats):
    func()  # warm-up: compilation, page faults
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    result = func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak, result


def output_bytes(result):
    return result.nbytes


def fresh_process_seconds(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--n-components", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=-1, help="lpkernel threads (default: all cores)")
    args = parser.parse_args()
    n, m = args.n_samples, args.n_components
    rng = np.random.default_rng(0)
    print(f"n={n}, m={m}, float32, lpkernel n_jobs={args.n_jobs}; median of {args.repeats} runs\n")
    header = (f"{'d':>3}  {'method':<26}{'time s':>8}{'/RBFSampler':>12}{'/GEMM':>7}"
              f"{'peak MiB':>10}{'output MiB':>11}")
    print(header)
    print("-" * len(header))
    for d in (22, 90):
        X = rng.normal(size=(n, d)).astype(np.float32)
        W = rng.normal(size=(d, m)).astype(np.float32)
        rbf = RBFSampler(n_components=m, gamma=1.0 / d, random_state=0).fit(X)
        methods = {
            "sklearn RBFSampler": partial(rbf.transform, X),
            "bare GEMM X @ W": partial(np.matmul, X, W),
        }
        for label, n_bits, output in [("lpkernel RFF dense", None, "dense"),
                                      ("LP-RFF 4-bit packed", 4, "packed"),
                                      ("LP-RFF 8-bit dense", 8, "dense")]:
            est = RandomFourierFeatures(m, gamma=1.0 / d, n_bits=n_bits, output=output,
                                        n_jobs=args.n_jobs, random_state=0).fit(X)
            methods[label] = partial(est.transform, X)
        rows = {label: measure(func, args.repeats) for label, func in methods.items()}
        base, gemm = rows["sklearn RBFSampler"][0], rows["bare GEMM X @ W"][0]
        for label, (seconds, peak, result) in rows.items():
            print(f"{d:>3}  {label:<26}{seconds:>8.3f}{seconds / base:>12.2f}{seconds / gemm:>7.2f}"
                  f"{peak / 2**20:>10.1f}{output_bytes(result) / 2**20:>11.1f}")
        print()
    import_s = fresh_process_seconds(
        "import time; t = time.perf_counter(); import lpkernel; print(time.perf_counter() - t)")
    estimator_s = fresh_process_seconds(
        "import time; t = time.perf_counter(); from lpkernel import RandomFourierFeatures; "
        "print(time.perf_counter() - t)")
    first = ("import time, numpy as np; t = time.perf_counter(); "
             "from lpkernel import RandomFourierFeatures; "
             "X = np.random.default_rng(0).normal(size=(1000, 22)).astype(np.float32); "
             "RandomFourierFeatures(4096, n_bits=4, output='packed', random_state=0).fit(X).transform(X); "
             "print(time.perf_counter() - t)")
    fresh_process_seconds(first)  # fills the Numba cache if it is cold
    first_s = fresh_process_seconds(first)
    print(f"fresh process: import lpkernel {import_s:.3f} s; "
          f"from lpkernel import RandomFourierFeatures {estimator_s:.3f} s; "
          f"import + first packed transform (warm Numba cache) {first_s:.3f} s")


if __name__ == "__main__":
    main()
