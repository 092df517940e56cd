"""One pass of minibatch SGD / Adam / low-precision SVRG for a linear model on row features.

The core that the SGD estimators run once per epoch, and that supervised
random-feature selection (DESIGN §6) runs once per iteration: a softmax or
squared-loss linear model ``scores = Z @ W + b``, optionally with a rank-r
bottleneck ``W = U @ V``, trained over given rows of given features
(:class:`~lpkernel.PackedFeatures`, dense or CSR), dequantizing only one
minibatch at a time. The arithmetic is written once against a small array
backend (NumPy here, torch in :mod:`lpkernel.linear._torch`).

Objective, for n rows, c outputs and the L2 penalty alpha::

    softmax:  (1/n) Σ_i [logsumexp(s_i) - s_i,y_i]     + (alpha/2) Σ_k ||F_k||²
    squared:  (1/n) Σ_i (1/2) ||s_i - y_i||²           + (alpha/2) Σ_k ||F_k||²

with s_i = z_i W + b and F_k the factors (W, or U and V); b is not penalized.
"""

import math
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from ._base import dense_rows, features_dtype, iter_slices, rows_per_chunk
from ._halp import code_dtype, code_range, offset_scale, round_offsets

LOSSES = ("softmax", "squared")
SOLVERS = ("sgd", "adam", "svrg")
BACKENDS = ("numpy", "torch")
_ADAM_BETA1, _ADAM_BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8


class LinearWeights(NamedTuple):
    """Weights of a linear model with c outputs: ``scores = Z @ coef + intercept``.

    Attributes
    ----------
    factors : tuple of ndarray
        ``(W,)`` with W of shape (m, c), or ``(U, V)`` with U (m, r) and V (r, c)
        for a rank-r bottleneck W = U V.
    intercept : ndarray of shape (c,)
    """

    factors: tuple
    intercept: np.ndarray

    @property
    def coef(self):
        """The full (m, c) weight matrix (U @ V with a bottleneck)."""
        if len(self.factors) == 1:
            return self.factors[0]
        return self.factors[0] @ self.factors[1]

    def copy(self):
        return LinearWeights(tuple(f.copy() for f in self.factors), self.intercept.copy())


def init_weights(n_features, n_outputs, rank=None, *, dtype=np.float64, random_state=None):
    """Initial weights: zeros without a bottleneck; Glorot-uniform U and V with one.

    Glorot & Bengio (2010): entries uniform on ±sqrt(6 / (fan_in + fan_out)).
    Zeros would be a saddle of the bottleneck (U = V = 0 has zero gradient).
    """
    rng = check_random_state(random_state)
    intercept = np.zeros(n_outputs, dtype=dtype)
    if rank is None:
        return LinearWeights((np.zeros((n_features, n_outputs), dtype=dtype),), intercept)
    factors = []
    for fan_in, fan_out in ((n_features, rank), (rank, n_outputs)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        factors.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype))
    return LinearWeights(tuple(factors), intercept)


class NumpyOps:
    """The array backend over NumPy (BLAS for products; Numba dequantizes and rounds)."""

    name = "numpy"

    def __init__(self, dtype, device=None):
        if device not in (None, "cpu"):
            raise ValueError(f"backend='numpy' runs on the CPU; got device={device!r}. "
                             "Use backend='torch' for other devices.")
        self.dtype = np.dtype(dtype)

    def asarray(self, a):
        return np.ascontiguousarray(a, dtype=self.dtype)

    def parameter(self, a):
        """A private copy, updated in place by the steps."""
        return np.array(a, dtype=self.dtype, order="C", copy=True)

    def labels(self, y):
        return np.asarray(y, dtype=np.intp)

    def numpy(self, a):
        return a

    def zeros_like(self, a):
        return np.zeros_like(a)

    exp = staticmethod(np.exp)
    sqrt = staticmethod(np.sqrt)

    def logsumexp(self, S):
        top = S.max(axis=1)
        return top + np.log(np.exp(S - top[:, None]).sum(axis=1))

    def take(self, S, y):
        return S[np.arange(y.shape[0]), y]

    def subtract_one_hot(self, P, y):
        P[np.arange(y.shape[0]), y] -= 1.0

    def round_offsets(self, values, scale, n_bits, key):
        low, high = code_range(n_bits)
        codes = np.empty(values.shape, dtype=code_dtype(n_bits))
        round_offsets(np.ascontiguousarray(values).reshape(-1), 1.0 / scale, low, high,
                      np.uint64(key), codes.reshape(-1))
        return codes

    def dequantize_offsets(self, codes, scale):
        return codes.astype(self.dtype) * self.dtype.type(scale)


@contextmanager
def _blas_context(ops):
    """One BLAS thread for the NumPy backend's minibatch products, and quiet overflow.

    The products are thin (B x m times m x c): threads cost more than they save
    there, and on a loaded machine OpenBLAS's threads made them 20-40x slower
    (measured). A diverging step overflows; callers see it as a non-finite
    objective (the schedule reverts it), so NumPy's warnings would only be noise.
    """
    if ops.name != "numpy":
        yield
        return
    with threadpool_limits(1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        yield


def get_ops(backend, device, dtype):
    """The array backend named ``backend`` (torch is imported only when asked for)."""
    if backend == "numpy":
        return NumpyOps(dtype, device)
    if backend == "torch":
        from ._torch import TorchOps

        return TorchOps(dtype, device)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")


def objective_and_gradient(ops, Z, T, params, loss, alpha, fit_intercept):
    """Minibatch objective and its gradient for ``params = [*factors, intercept]``.

    ``Z`` (B, m) and ``params`` are backend arrays; ``T`` holds class indices
    (softmax) or (B, c) targets (squared). Returns (float value, list of grads).
    """
    factors, intercept = params[:-1], params[-1]
    batch = Z.shape[0]
    if len(factors) == 1:
        S = Z @ factors[0]
    else:
        H = Z @ factors[0]
        S = H @ factors[1]
    S += intercept
    if loss == "softmax":
        lse = ops.logsumexp(S)
        value = float((lse - ops.take(S, T)).sum()) / batch
        dS = ops.exp(S - lse[:, None])
        ops.subtract_one_hot(dS, T)
    else:
        dS = S - T
        value = 0.5 * float((dS * dS).sum()) / batch
    dS *= 1.0 / batch
    value += 0.5 * alpha * sum(float((f * f).sum()) for f in factors)
    if len(factors) == 1:
        grads = [Z.T @ dS + alpha * factors[0]]
    else:
        U, V = factors
        grads = [Z.T @ (dS @ V.T) + alpha * U, H.T @ dS + alpha * V]
    grads.append(dS.sum(0) if fit_intercept else ops.zeros_like(intercept))
    return value, grads


def _batches(rows, batch_size, rng, shuffle):
    order = rng.permutation(rows) if shuffle else np.asarray(rows)
    for start in range(0, order.shape[0], batch_size):
        yield order[start:start + batch_size]


def _targets(ops, targets, batch, loss):
    return ops.labels(targets[batch]) if loss == "softmax" else ops.asarray(targets[batch])


def _check_pass_args(X, targets, rows, loss, solver, batch_size):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
    if solver not in ("sgd", "adam"):
        raise ValueError(f"sgd_pass runs solver 'sgd' or 'adam', got {solver!r} "
                         "(SVRG is svrg_pass).")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows, dtype=np.intp)
    if rows.ndim != 1 or rows.shape[0] == 0:
        raise ValueError("rows must be a non-empty 1-D array of row indices.")
    if len(targets) != X.shape[0]:
        raise ValueError(f"targets has {len(targets)} rows, X has {X.shape[0]}.")
    return rows


def sgd_pass(X, targets, rows, weights, *, loss="softmax", alpha=0.0, learning_rate=0.01,
             batch_size=256, solver="sgd", state=None, fit_intercept=True, random_state=None,
             shuffle=True, backend="numpy", device=None, dtype=None):
    """One pass of minibatch SGD (or Adam) over ``rows`` of X; returns the new weights.

    Parameters
    ----------
    X : PackedFeatures, ndarray or CSR matrix of shape (n_samples, m)
        Read one minibatch at a time (packed rows dequantized by the Numba kernel).
    targets : ndarray
        Class indices in [0, c) of shape (n_samples,) for ``loss="softmax"``;
        float targets of shape (n_samples, c) for ``loss="squared"``.
    rows : int array or None
        The rows to visit (None: all), each once, in an order shuffled by
        ``random_state`` (or as given if ``shuffle=False``).
    weights : LinearWeights
        Starting weights (:func:`init_weights`); not modified.
    loss : {"softmax", "squared"}
    alpha : float, the L2 penalty (objective in the module docstring).
    learning_rate : float, the step size.
    batch_size : int
    solver : {"sgd", "adam"}
        (SVRG is :func:`svrg_pass`.)
    state : dict or None
        Adam's moments from a previous pass (None starts fresh).
    fit_intercept : bool
        False keeps the intercept fixed.
    random_state : int, RandomState or None
    shuffle : bool
    backend : {"numpy", "torch"}
    device : str or None, the torch device ("cpu", "cuda", ...).
    dtype : float dtype, default=X's.

    Returns
    -------
    weights : LinearWeights (NumPy arrays)
    state : dict or None
        The optimizer state to pass to the next call.
    mean_objective : float
        The minibatch objectives averaged over the rows visited.
    """
    rows = _check_pass_args(X, targets, rows, loss, solver, batch_size)
    rng = check_random_state(random_state)
    dtype = features_dtype(X) if dtype is None else np.dtype(dtype)
    ops = get_ops(backend, device, dtype)
    params = [ops.parameter(p) for p in (*weights.factors, weights.intercept)]
    first = second = None
    step = 0
    if solver == "adam":
        if state is None:
            arrays = (*weights.factors, weights.intercept)
            state = {"step": 0, "first": [np.zeros_like(a) for a in arrays],
                     "second": [np.zeros_like(a) for a in arrays]}
        first = [ops.parameter(a) for a in state["first"]]
        second = [ops.parameter(a) for a in state["second"]]
        step = state["step"]
    with _blas_context(ops):
        step, total = _sgd_steps(ops, X, targets, rows, params, first, second, step, loss=loss,
                                 alpha=alpha, learning_rate=learning_rate,
                                 batch_size=batch_size, solver=solver,
                                 fit_intercept=fit_intercept, rng=rng, shuffle=shuffle,
                                 dtype=dtype)
    if solver == "adam":
        state = {"step": step, "first": [ops.numpy(a) for a in first],
                 "second": [ops.numpy(a) for a in second]}
    arrays = [ops.numpy(p) for p in params]
    return LinearWeights(tuple(arrays[:-1]), arrays[-1]), state, total / rows.shape[0]


def _sgd_steps(ops, X, targets, rows, params, first, second, step, *, loss, alpha,
               learning_rate, batch_size, solver, fit_intercept, rng, shuffle, dtype):
    """The minibatch loop of :func:`sgd_pass`, updating ``params`` (and moments) in place."""
    total = 0.0
    for batch in _batches(rows, batch_size, rng, shuffle):
        Z = ops.asarray(dense_rows(X, batch, dtype))
        value, grads = objective_and_gradient(ops, Z, _targets(ops, targets, batch, loss), params,
                                              loss, alpha, fit_intercept)
        total += value * batch.shape[0]
        if solver == "sgd":
            for p, g in zip(params, grads, strict=True):
                p -= learning_rate * g
        else:  # Kingma & Ba (2015), Algorithm 1, with bias-corrected step size
            step += 1
            size = learning_rate * math.sqrt(1 - _ADAM_BETA2**step) / (1 - _ADAM_BETA1**step)
            for p, g, m1, m2 in zip(params, grads, first, second, strict=True):
                m1 *= _ADAM_BETA1
                m1 += (1 - _ADAM_BETA1) * g
                m2 *= _ADAM_BETA2
                m2 += (1 - _ADAM_BETA2) * (g * g)
                p -= size * m1 / (ops.sqrt(m2) + _ADAM_EPS)
    return step, total


def full_gradient(ops, X, targets, rows, params, *, loss, alpha, fit_intercept, dtype,
                  chunk_size=None):
    """The gradient of the objective over all ``rows``, accumulated chunk by chunk."""
    chunk = rows_per_chunk(X.shape[1], dtype, chunk_size)
    total = None
    for part in iter_slices(rows.shape[0], chunk):
        batch = rows[part]
        Z = ops.asarray(dense_rows(X, batch, dtype))
        _, grads = objective_and_gradient(ops, Z, _targets(ops, targets, batch, loss), params,
                                          loss, alpha, fit_intercept)
        share = batch.shape[0] / rows.shape[0]
        if total is None:
            total = [g * share for g in grads]
        else:
            for t, g in zip(total, grads, strict=True):
                t += g * share
    return total


def svrg_pass(X, targets, rows, weights, *, n_bits=None, loss="softmax", alpha=0.0,
              learning_rate=0.01, batch_size=256, fit_intercept=True, random_state=None,
              shuffle=True, backend="numpy", device=None, dtype=None, chunk_size=None):
    """One epoch of SVRG, with low-precision offsets when ``n_bits`` is set (HALP).

    SVRG (Johnson & Zhang 2013): the center is ``weights``; its full gradient
    g̃ over ``rows`` is computed once; each step then moves by
    ∇f_B(w) - ∇f_B(center) + g̃. With ``n_bits`` = b this is HALP (De Sa et
    al. 2018, Algorithm 1): the weights are center + δ·q with q b-bit signed
    integers, one grid per factor with spacing from
    :func:`lpkernel.linear._halp.offset_scale`, every step rounded back to the
    grid stochastically (unbiased). The intercept stays in full precision.
    Other arguments are those of :func:`sgd_pass`.

    Returns
    -------
    weights : LinearWeights, center + offsets, as floats.
    offsets : list of (int8/int16 codes, δ) per factor, the low-precision
        state (None in full precision).
    mean_objective : float
    """
    rows = _check_pass_args(X, targets, rows, loss, "sgd", batch_size)
    if n_bits is not None and not 2 <= n_bits <= 16:
        raise ValueError(f"n_bits must be in [2, 16] or None, got {n_bits!r}.")
    rng = check_random_state(random_state)
    dtype = features_dtype(X) if dtype is None else np.dtype(dtype)
    ops = get_ops(backend, device, dtype)
    center = [ops.parameter(p) for p in (*weights.factors, weights.intercept)]
    n_factors = len(center) - 1
    with _blas_context(ops):
        anchor = full_gradient(ops, X, targets, rows, center, loss=loss, alpha=alpha,
                               fit_intercept=fit_intercept, dtype=dtype, chunk_size=chunk_size)
        n_steps = -(-rows.shape[0] // batch_size)
        if n_bits is None:  # full precision: the "codes" are the float offsets themselves
            scales = [1.0] * n_factors

            def quantize(values, scale, key):
                return values

            def dequantize(codes, scale):
                return codes
        else:
            scales = [offset_scale(ops.numpy(g), learning_rate, n_steps, alpha, n_bits)
                      for g in anchor[:n_factors]]

            def quantize(values, scale, key):
                return ops.round_offsets(values, scale, n_bits, key)

            dequantize = ops.dequantize_offsets
        codes = [quantize(ops.zeros_like(c), s, 0)
                 for c, s in zip(center[:n_factors], scales, strict=True)]
        intercept = center[-1] * 1.0
        total = 0.0
        for batch in _batches(rows, batch_size, rng, shuffle):
            Z = ops.asarray(dense_rows(X, batch, dtype))
            T = _targets(ops, targets, batch, loss)
            offsets = [dequantize(q, s) for q, s in zip(codes, scales, strict=True)]
            current = [c + o for c, o in zip(center[:n_factors], offsets, strict=True)]
            value, at_current = objective_and_gradient(ops, Z, T, [*current, intercept], loss,
                                                       alpha, fit_intercept)
            _, at_center = objective_and_gradient(ops, Z, T, center, loss, alpha, fit_intercept)
            total += value * batch.shape[0]
            for k in range(n_factors):
                step = at_current[k] - at_center[k] + anchor[k]
                key = int(rng.randint(0, 2**32 - 1, dtype=np.int64))
                codes[k] = quantize(offsets[k] - learning_rate * step, scales[k], key)
            intercept -= learning_rate * (at_current[-1] - at_center[-1] + anchor[-1])
    factors = tuple(ops.numpy(c + dequantize(q, s))
                    for c, q, s in zip(center[:n_factors], codes, scales, strict=True))
    offsets = None if n_bits is None else [(ops.numpy(q), s)
                                           for q, s in zip(codes, scales, strict=True)]
    return LinearWeights(factors, ops.numpy(intercept)), offsets, total / rows.shape[0]
