"""Turn the metrics' inputs (data + feature map, features, or a precomputed kernel) into
an exact kernel on a sample of rows and its float64 feature matrix Z."""

import numpy as np
from scipy import sparse
from sklearn.utils import check_array, check_random_state

from .._validation import check_int, check_real

#: Bytes of kernel rows computed at once when a kernel matrix is filled in chunks.
KERNEL_CHUNK_BYTES = 64 * 2**20
#: Bytes of kernel rows per chunk when the rbf kernel is written straight into the matrix
#: (several passes over each chunk: it should stay in the core's cache).
FILL_CHUNK_BYTES = 2**20


def check_lam(lam):
    """The ridge parameter must be a finite real > 0: (K + lam I) has to be invertible."""
    return check_real(lam, "lam", low=0.0)


def _is_feature_map(step):
    from sklearn.kernel_approximation import Nystroem, RBFSampler

    if isinstance(step, (RBFSampler, Nystroem)):
        return True
    # lpkernel's maps (and scikit-learn-style ones) name their kernel in ``kernel``
    return hasattr(step, "transform") and hasattr(step, "kernel") and not hasattr(step, "predict")


def _is_pure_transformer(step):
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return True
    return hasattr(step, "transform") and not any(
        hasattr(step, name) for name in ("predict", "predict_proba", "decision_function")
    )


def split_pipeline(estimator):
    """``(before, feature_map, after)`` for a feature map or a Pipeline that contains one.

    ``before`` maps X to the feature map's input (None if nothing precedes it);
    ``after`` maps the feature map's output to what the next learner sees: the
    transformer steps right after it, such as a Quantizer (None if there are none).
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return None, estimator, None
    steps = [step for _, step in estimator.steps]
    found = [i for i, step in enumerate(steps) if _is_feature_map(step)]
    if not found:
        names = [type(step).__name__ for step in steps]
        raise ValueError(f"The pipeline {names} holds no kernel feature map (a step with a "
                         "`kernel` attribute and `transform`, RBFSampler or Nystroem).")
    i = found[-1]
    j = i + 1
    while j < len(steps) and _is_pure_transformer(steps[j]):
        j += 1
    before = estimator[:i] if i > 0 else None
    after = estimator[i + 1 : j] if j > i + 1 else None
    return before, steps[i], after


def infer_kernel(feature_map):
    """``(kernel, gamma, kernel_params)`` that a fitted feature map approximates."""
    from sklearn.kernel_approximation import Nystroem, RBFSampler

    if isinstance(feature_map, RBFSampler):
        return "rbf", feature_map.gamma, None
    if isinstance(feature_map, Nystroem):
        if feature_map.kernel == "precomputed":
            raise ValueError("Nystroem(kernel='precomputed') has no kernel to evaluate; pass "
                             "features= and a precomputed K (kernel='precomputed') instead.")
        params = dict(feature_map.kernel_params or {})
        if not callable(feature_map.kernel):
            for name in ("degree", "coef0"):
                if getattr(feature_map, name) is not None:
                    params[name] = getattr(feature_map, name)
        return feature_map.kernel, feature_map.gamma, params
    if hasattr(feature_map, "kernel"):
        gamma = getattr(feature_map, "gamma_", getattr(feature_map, "gamma", None))
        return feature_map.kernel, gamma, getattr(feature_map, "kernel_params", None)
    raise ValueError(
        f"Cannot tell which kernel {type(feature_map).__name__} approximates; pass kernel= "
        "(and gamma=, kernel_params=)."
    )


def _dense_float64(Z, name):
    """Features as a C-contiguous float64 array: what a learner sees, exactly."""
    from ..packed import PackedFeatures

    if isinstance(Z, PackedFeatures):
        Z = Z.to_dense(dtype=np.float64)
    elif sparse.issparse(Z):
        Z = Z.toarray()
    Z = check_array(Z, dtype=np.float64, order="C", input_name=name)
    return Z


class KernelProblem:
    """An exact kernel on n rows (evaluated on demand, in row chunks) and features Z (n x m)."""

    def __init__(self, kernel_rows, n, Z, fill_rows=None):
        self._kernel_rows = kernel_rows
        self._fill_rows = fill_rows
        self.n = n
        self.Z = Z

    def rows(self, sl):
        """K[sl, :] as float64."""
        return np.asarray(self._kernel_rows(sl), dtype=np.float64)

    def chunks(self):
        """Row slices whose kernel rows fit KERNEL_CHUNK_BYTES (times a few temporaries)."""
        size = max(1, KERNEL_CHUNK_BYTES // (8 * 4 * max(self.n, 1)))
        return [slice(s, min(s + size, self.n)) for s in range(0, self.n, size)]

    def fill(self, out, run=None):
        """Write K into the n x n float64 array ``out``, chunk by chunk.

        Returns ||K||_inf, the largest absolute row sum: a bound on ||K||_2 that
        sets the rounding-noise floor of the eigensolvers. ``run(tasks)``, when
        given, calls a list of callables, perhaps at once (the chunks are split
        into two halves; each writes its own rows of ``out``).
        """

        def chunk(sl):
            block = self.rows(sl)
            out[sl] = block
            return float(np.abs(block).sum(axis=1).max(initial=0.0))

        chunks = self.chunks()
        if self._fill_rows is not None and out.flags.c_contiguous:
            # in place, in chunks small enough to stay in cache between the passes
            size = max(1, FILL_CHUNK_BYTES // (8 * max(self.n, 1)))
            chunks = [slice(s, min(s + size, self.n)) for s in range(0, self.n, size)]

            def chunk(sl):
                return self._fill_rows(sl, out[sl])
        if run is None or len(chunks) == 1:
            return max((chunk(sl) for sl in chunks), default=0.0)
        half = (len(chunks) + 1) // 2
        groups = [lambda group=group: [chunk(sl) for sl in group]
                  for group in (chunks[:half], chunks[half:])]
        return max((norm for norms in run(groups) for norm in norms), default=0.0)

    def kernel_matrix(self):
        """K, symmetrized (chunked evaluation can differ in the last bit across the diagonal)."""
        K = np.empty((self.n, self.n))
        self.fill(K)
        K += K.T
        K *= 0.5
        return K


def _sample_rows(n, n_samples, random_state):
    check_int(n_samples, "n_samples", low=1, allow_none=True)
    if n_samples is None or n_samples >= n:
        return None
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n, size=n_samples, replace=False))


def _rbf_fill_rows(X, gamma):
    """``fill_rows(sl, out)``: write exp(-gamma ||x_i - x_j||^2) for the rows sl of X into out.

    The squared distances come, as in scikit-learn's ``rbf_kernel``, from
    ||x||^2 + ||y||^2 - 2 x.y (clipped at 0), but written straight into the rows of
    the matrix being filled and exponentiated there: no temporaries, one product
    and a few in-cache passes per chunk. The diagonal is exactly 1. Returns the
    largest row sum (all entries are positive: ||K||_inf).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    scaled = gamma * np.einsum("ij,ij->i", X, X)

    def fill_rows(sl, out):
        np.dot(X[sl], X.T, out=out)
        out *= 2.0 * gamma
        out -= scaled[sl, None]
        out -= scaled[None, :]
        np.minimum(out, 0.0, out=out)
        np.exp(out, out=out)
        rows = np.arange(sl.stop - sl.start)
        out[rows, rows + sl.start] = 1.0
        return float(out.sum(axis=1).max(initial=0.0))

    return fill_rows


def _kernel_function(kernel, gamma, kernel_params, n_features):
    """``(evaluate, gamma)``: evaluate(A, B) gives the kernel between the rows of A and B."""
    from sklearn.metrics.pairwise import pairwise_kernels

    from ..kernels import SHIFT_INVARIANT_KERNELS, shift_invariant_kernel

    if gamma is not None:
        gamma = check_real(gamma, "gamma", low=0.0)
    params = dict(kernel_params or {})
    if isinstance(kernel, str) and kernel in SHIFT_INVARIANT_KERNELS:
        gamma = 1.0 / n_features if gamma is None else gamma
        dense_only = kernel in ("matern", "sparse_rbf")

        def evaluate(A, B):
            if dense_only and sparse.issparse(A):
                A, B = A.toarray(), B.toarray()
            return shift_invariant_kernel(A, B, kernel=kernel, gamma=gamma, kernel_params=params)

        return evaluate, gamma
    if callable(kernel):
        return (lambda A, B: pairwise_kernels(A, B, metric=kernel, **params)), gamma
    from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS

    if not isinstance(kernel, str) or kernel not in PAIRWISE_KERNEL_FUNCTIONS:
        options = sorted({*SHIFT_INVARIANT_KERNELS, *PAIRWISE_KERNEL_FUNCTIONS, "precomputed"})
        raise ValueError(f"kernel must be a callable or one of {options}, got {kernel!r}.")
    if gamma is not None:
        params["gamma"] = gamma
    return (lambda A, B: pairwise_kernels(A, B, metric=kernel, filter_params=True, **params)), gamma


def resolve_problem(X, feature_map, features, kernel, gamma, kernel_params, n_samples,
                    random_state):
    """Validate the metrics' inputs and return a :class:`KernelProblem`.

    Exactly one of ``feature_map`` (fitted; a Pipeline is split around its feature
    map) and ``features`` (Z itself) must be given. ``kernel="precomputed"`` means X
    is K (n x n) and needs ``features``.
    """
    if (feature_map is None) == (features is None):
        raise ValueError("Pass exactly one of feature_map (a fitted feature map) and "
                         "features (the feature matrix Z).")
    if isinstance(kernel, str) and kernel == "precomputed":
        if feature_map is not None:
            raise ValueError("kernel='precomputed' means X is the kernel matrix K; a feature map "
                             "cannot transform it. Pass features=Z instead.")
        if sparse.issparse(X):
            X = X.toarray()
        K = check_array(X, dtype=np.float64, input_name="X")
        if K.shape[0] != K.shape[1]:
            raise ValueError(f"kernel='precomputed' needs a square X = K, got shape {K.shape}.")
        scale = max(np.abs(K).max(initial=0.0), np.finfo(np.float64).tiny)
        if np.abs(K - K.T).max(initial=0.0) > 1e-10 * scale:
            raise ValueError("kernel='precomputed' needs a symmetric X = K.")
        Z = _checked_features(features, K.shape[0])
        rows = _sample_rows(K.shape[0], n_samples, random_state)
        if rows is not None:
            K, Z = K[np.ix_(rows, rows)], Z[rows]
        return KernelProblem(lambda sl: K[sl], K.shape[0] if rows is None else len(rows),
                             np.ascontiguousarray(Z))

    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X")
    rows = _sample_rows(X.shape[0], n_samples, random_state)
    if features is not None:
        Z = _checked_features(features, X.shape[0])
        if rows is not None:
            X, Z = X[rows], Z[rows]
        kernel_input = X
        if kernel is None:
            kernel = "rbf"
    else:
        if rows is not None:
            X = X[rows]
        before, feature_map, after = split_pipeline(feature_map)
        kernel_input = X if before is None else before.transform(X)
        Z = feature_map.transform(kernel_input)
        if after is not None:
            Z = after.transform(Z)
        Z = _dense_float64(Z, "features")
        if Z.shape[0] != X.shape[0]:
            raise ValueError(f"The feature map returned {Z.shape[0]} rows for {X.shape[0]}.")
        if kernel is None:
            kernel, map_gamma, map_params = infer_kernel(feature_map)
            gamma = map_gamma if gamma is None else gamma
            kernel_params = map_params if kernel_params is None else kernel_params
        elif gamma is None and getattr(feature_map, "kernel", None) == kernel:
            _, gamma, map_params = infer_kernel(feature_map)
            kernel_params = map_params if kernel_params is None else kernel_params
        if isinstance(gamma, str):
            # e.g. RBFSampler(gamma="scale") keeps the value it computed private
            raise ValueError(
                f"{type(feature_map).__name__}(gamma={gamma!r}) does not expose the gamma it "
                "computed from its training data; pass gamma= explicitly."
            )
        kernel_input = check_array(kernel_input, accept_sparse="csr", dtype=None,
                                   input_name="the feature map's input")
    if sparse.issparse(kernel_input):
        kernel_input = kernel_input.astype(np.float64)
    else:
        kernel_input = np.asarray(kernel_input, dtype=np.float64)
    evaluate, gamma = _kernel_function(kernel, gamma, kernel_params, kernel_input.shape[1])
    fill_rows = None
    if isinstance(kernel, str) and kernel == "rbf" and not sparse.issparse(kernel_input):
        fill_rows = _rbf_fill_rows(kernel_input, gamma)
    return KernelProblem(lambda sl: evaluate(kernel_input[sl], kernel_input),
                         kernel_input.shape[0], Z, fill_rows)


def _checked_features(features, n_rows):
    Z = _dense_float64(features, "features")
    if Z.shape[0] != n_rows:
        raise ValueError(f"features has {Z.shape[0]} rows but X has {n_rows}: they must match.")
    return Z

