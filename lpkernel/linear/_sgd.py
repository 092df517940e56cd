"""Minibatch SGD learners on packed low-precision features with the heldout schedule (DESIGN §7)."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .._validation import check_int, check_option, check_real
from ._base import (
    check_features,
    check_y_given,
    dense_rows,
    features_dtype,
    iter_slices,
    rows_per_chunk,
)
from ._minibatch import BACKENDS, SOLVERS, init_weights, sgd_pass, svrg_pass
from ._schedule import HalvingSchedule

_SHARED_PARAMETERS = """
    rank : int, default=None
        With a value r, the weights are a linear bottleneck W = U V with U of
        shape (n_features, r) and V (r, n_outputs), Glorot-initialized
        (Sainath et al. 2013); None fits W directly (initialized to zero).
    alpha : float >= 0, default=1e-4
        L2 penalty: the objective adds (alpha/2) times the squared norm of W
        (of U and V with a bottleneck) to the mean loss per row.
    solver : {"adam", "sgd", "svrg"}, default="adam"
        Adam (Kingma & Ba 2015), plain minibatch SGD, or SVRG (Johnson & Zhang
        2013: one full gradient per epoch, variance-reduced steps; the solver
        of ``model_bits``). Random features are ill-conditioned, so plain SGD
        needs far more epochs than Adam or SVRG.
    learning_rate : float > 0, default=0.01
        The initial step size; the heldout schedule halves it. SGD and SVRG
        usually need a larger one (around 1 for RFF, whose rows have norm ~1).
    batch_size : int, default=256
    max_iter : int, default=50
        The most epochs (passes over the training rows).
    validation_fraction : float in (0, 1) or None, default=0.1
        The fraction of the training rows held out for the schedule when no
        ``eval_set`` is given to ``fit``. None trains ``max_iter`` epochs at
        the constant ``learning_rate``.
    min_improvement : float in [0, 1), default=0.01
        After each epoch, a relative improvement of the heldout metric below
        this halves the learning rate, and a worse metric reverts the epoch
        (see :class:`HalvingSchedule`).
    max_halvings : int, default=5
        Training stops once the learning rate has been halved this many times.
    model_bits : int in [2, 16] or None, default=None
        Low-precision weights in the LM-HALP style (De Sa et al. 2018): each
        epoch the weights become a full-precision center, its full gradient is
        computed once, and SVRG steps update b-bit integer offsets around it
        (rounded stochastically). Needs ``solver="svrg"``. The fitted ``coef_``
        is center + offsets, as floats.
    fit_intercept : bool, default=True
    backend : {"numpy", "torch"}, default="numpy"
        NumPy (with the Numba dequantization) or torch, if installed.
    device : str, default=None
        The torch device ("cpu", "cuda", "cuda:1", ...); only with backend="torch".
    chunk_size : int, default=None
        Rows dequantized at a time for the heldout metric, the full gradient
        and prediction (default: 8 MiB of floats).
    random_state : int, RandomState instance or None, default=None
        Seeds the heldout split, the initial weights, the minibatch order and
        the rounding of low-precision weights.
    verbose : int, default=0
        Print one line per epoch when > 0."""

_SHARED_ATTRIBUTES = """
    intercept_ : ndarray of shape (n_outputs,)
    factors_ : tuple of ndarray (U, V)
        The bottleneck factors (only with ``rank``).
    history_ : list of dict
        One entry per epoch: ``epoch``, ``learning_rate`` (used in the epoch),
        ``train_objective`` (mean minibatch objective) and, with heldout data,
        the heldout metrics and the schedule's ``action`` ("accept", "halve"
        or "revert").
    learning_rate_ : float
        The learning rate after the last epoch (``partial_fit`` continues with it).
    n_halvings_ : int
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings."""

_SHARED_REFERENCES = """
    .. [1] A. May et al., "Kernel Approximation Methods for Speech Recognition",
       JMLR 20(59), 2019 (heldout halving schedule, ERP, bottleneck on RFF).
    .. [2] C. De Sa, M. Leszczynski, J. Zhang, A. Marzoev, C. Aberger, K. Olukotun
       and C. Ré, "High-Accuracy Low-Precision Training", arXiv:1803.03383, 2018.
    .. [3] T. Sainath et al., "Low-Rank Matrix Factorization for Deep Neural Network
       Training with High-Dimensional Output Targets", ICASSP 2013."""


def _document(cls):
    cls.__doc__ = (cls.__doc__.replace("    {shared_parameters}", _SHARED_PARAMETERS.strip("\n"))
                   .replace("    {shared_attributes}", _SHARED_ATTRIBUTES.strip("\n"))
                   .replace("    {shared_references}", _SHARED_REFERENCES.strip("\n")))
    return cls


class _BaseKernelSGD(BaseEstimator):
    """Training loop shared by the classifier and the regressor."""

    _loss = None
    _heldout_metrics = ()

    def _validate_params(self):
        check_int(self.rank, "rank", low=1, allow_none=True)
        check_real(self.alpha, "alpha", low=0.0, low_inclusive=True)
        check_option(self.solver, "solver", SOLVERS)
        check_real(self.learning_rate, "learning_rate", low=0.0)
        check_int(self.batch_size, "batch_size", low=1)
        check_int(self.max_iter, "max_iter", low=1)
        if self.validation_fraction is not None:
            check_real(self.validation_fraction, "validation_fraction", low=0.0, high=1.0)
            if self.validation_fraction >= 1.0:
                raise ValueError("validation_fraction must be < 1, got "
                                 f"{self.validation_fraction}.")
        check_real(self.min_improvement, "min_improvement", low=0.0, low_inclusive=True,
                   high=1.0)
        check_int(self.max_halvings, "max_halvings", low=1)
        check_option(self.heldout_metric, "heldout_metric", self._heldout_metrics)
        check_int(self.model_bits, "model_bits", low=2, high=16, allow_none=True)
        if self.model_bits is not None and self.solver != "svrg":
            raise ValueError("model_bits (low-precision weights, trained by HALP's SVRG) needs "
                             f"solver='svrg', got solver={self.solver!r}.")
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be a bool, got {self.fit_intercept!r}.")
        check_option(self.backend, "backend", BACKENDS)
        if self.device is not None and not isinstance(self.device, str):
            raise ValueError(f"device must be a string such as 'cpu' or 'cuda', "
                             f"got {self.device!r}.")
        if self.backend == "numpy" and self.device not in (None, "cpu"):
            raise ValueError(f"device={self.device!r} needs backend='torch'.")
        check_int(self.chunk_size, "chunk_size", low=1, allow_none=True)
        check_int(self.verbose, "verbose", low=0)

    # -- one epoch ------------------------------------------------------------
    def _epoch(self, X, targets, rows, weights, learning_rate, state, rng):
        """One pass over ``rows``; returns (weights, optimizer state, mean objective)."""
        common = dict(loss=self._loss, alpha=self.alpha, learning_rate=learning_rate,
                      batch_size=self.batch_size, fit_intercept=self.fit_intercept,
                      random_state=rng, backend=self.backend, device=self.device)
        if self.solver == "svrg":
            weights, _, objective = svrg_pass(X, targets, rows, weights, n_bits=self.model_bits,
                                              chunk_size=self.chunk_size, **common)
            return weights, None, objective
        return sgd_pass(X, targets, rows, weights, solver=self.solver, state=state, **common)

    def _scores_rows(self, X, rows, coef, intercept):
        """Scores of ``rows`` of X (all rows if None), dequantizing chunk by chunk."""
        dtype = features_dtype(X)
        rows = np.arange(X.shape[0]) if rows is None else rows
        chunk = rows_per_chunk(X.shape[1], dtype, self.chunk_size)
        scores = np.empty((rows.shape[0], coef.shape[1]), dtype=dtype)
        # weights of a diverged epoch overflow here; the schedule then reverts them
        with np.errstate(over="ignore", invalid="ignore"):
            for part in iter_slices(rows.shape[0], chunk):
                np.matmul(dense_rows(X, rows[part], dtype), coef.astype(dtype, copy=False),
                          out=scores[part])
            scores += intercept.astype(dtype)
        return scores

    def _train(self, X, targets, n_outputs, heldout):
        """The fit loop: epochs, the heldout schedule, history; sets the fitted attributes."""
        rng = check_random_state(self.random_state)
        dtype = features_dtype(X)
        if heldout == "split":
            n = X.shape[0]
            n_heldout = max(1, int(round(self.validation_fraction * n)))
            if n - n_heldout < 1:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves no training rows "
                    f"from n_samples={n}; give more samples, an eval_set, or "
                    "validation_fraction=None."
                )
            order = rng.permutation(n)
            train_rows = np.sort(order[n_heldout:])
            heldout = (X, targets, np.sort(order[:n_heldout]))
        else:
            train_rows = np.arange(X.shape[0])
        weights = init_weights(X.shape[1], n_outputs, self.rank, dtype=dtype, random_state=rng)
        schedule = None
        if heldout is not None:
            schedule = HalvingSchedule(self.learning_rate, min_improvement=self.min_improvement,
                                       max_halvings=self.max_halvings)
        learning_rate, state, history = float(self.learning_rate), None, []
        stopped = False
        for epoch in range(1, self.max_iter + 1):
            new_weights, new_state, objective = self._epoch(X, targets, train_rows, weights,
                                                            learning_rate, state, rng)
            entry = {"epoch": epoch, "learning_rate": learning_rate,
                     "train_objective": objective}
            if schedule is None:
                if not np.isfinite(objective):
                    raise ValueError(
                        f"SGD diverged (non-finite objective) in epoch {epoch}; lower "
                        f"learning_rate (now {learning_rate}) or use heldout data."
                    )
                weights, state = new_weights, new_state
            else:
                X_heldout, targets_heldout, rows_heldout = heldout
                scores = self._scores_rows(X_heldout, rows_heldout, new_weights.coef,
                                           new_weights.intercept)
                with np.errstate(over="ignore", invalid="ignore"):  # a diverged epoch
                    metrics = self._metrics(scores, targets_heldout[rows_heldout])
                entry.update({f"heldout_{name}": value for name, value in metrics.items()})
                decision = schedule.update(metrics[self.heldout_metric])
                entry["action"] = decision.action
                if decision.action != "revert":
                    weights, state = new_weights, new_state
                learning_rate, stopped = decision.learning_rate, decision.stop
            history.append(entry)
            if self.verbose:
                print(", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in entry.items()))
            if stopped:
                break
        if schedule is not None and not stopped:
            warnings.warn(
                f"Stopped after max_iter={self.max_iter} epochs before the learning rate was "
                f"halved max_halvings={self.max_halvings} times; increase max_iter.",
                ConvergenceWarning, stacklevel=3,
            )
        self._set_weights(weights)
        self.history_ = history
        self.learning_rate_ = learning_rate
        self.n_halvings_ = 0 if schedule is None else schedule.n_halvings
        self.n_iter_ = len(history)
        self._optimizer_state = state
        return self

    def _partial_train(self, X, targets, n_outputs):
        """One epoch over all rows of X at ``learning_rate_``, from the current weights."""
        dtype = features_dtype(X)
        if not hasattr(self, "_weights"):
            self._partial_rng = check_random_state(self.random_state)
            self._set_weights(init_weights(X.shape[1], n_outputs, self.rank, dtype=dtype,
                                           random_state=self._partial_rng))
            self.learning_rate_ = float(self.learning_rate)
            self.history_, self.n_iter_, self.n_halvings_ = [], 0, 0
            self._optimizer_state = None
        elif not hasattr(self, "_partial_rng"):
            self._partial_rng = check_random_state(self.random_state)
        weights, state, objective = self._epoch(X, targets, np.arange(X.shape[0]), self._weights,
                                                self.learning_rate_, self._optimizer_state,
                                                self._partial_rng)
        if not np.isfinite(objective):
            raise ValueError("SGD diverged (non-finite objective) in partial_fit; lower "
                             f"learning_rate (now {self.learning_rate_}).")
        self._set_weights(weights)
        self._optimizer_state = state
        self.n_iter_ += 1
        self.history_.append({"epoch": self.n_iter_, "learning_rate": self.learning_rate_,
                              "train_objective": objective})
        return self

    def _set_weights(self, weights):
        self._weights = weights
        self.coef_ = self._public_coef(weights.coef.T)
        self.intercept_ = weights.intercept
        if len(weights.factors) == 2:
            self.factors_ = weights.factors
        else:
            self.__dict__.pop("factors_", None)

    def _resolve_heldout(self, eval_set, encode):
        """``eval_set`` validated and encoded, "split", or None (no heldout data)."""
        if eval_set is not None:
            if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
                raise ValueError("eval_set must be a pair (X_heldout, y_heldout).")
            X_heldout = check_features(self, eval_set[0], reset=False)
            targets = encode(eval_set[1])
            check_consistent_length(X_heldout, targets)
            return X_heldout, targets, np.arange(X_heldout.shape[0])
        return None if self.validation_fraction is None else "split"

    def _raw_scores(self, X):
        check_is_fitted(self)
        X = check_features(self, X, reset=False)
        return self._scores_rows(X, None, self._weights.coef, self._weights.intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


@_document
class KernelSGDClassifier(ClassifierMixin, _BaseKernelSGD):
    """Softmax regression trained by minibatch SGD on packed (or dense) features.

    Trains a linear softmax classifier on random features such as LP-RFF
    directly from :class:`~lpkernel.PackedFeatures`, dequantizing one
    minibatch at a time (the Numba kernel), so the float feature matrix is
    never built. Follows the recipe of the kernel acoustic models of May et
    al. (2019): minibatch SGD with L2, an optional linear bottleneck, and a
    heldout schedule that halves the learning rate when the heldout metric
    improves by less than 1 % and reverts an epoch that made it worse,
    stopping after ``max_halvings`` halvings. Optionally the weights are kept
    in low precision during training (LM-HALP, De Sa et al. 2018).

    The objective is the mean cross-entropy plus (alpha/2)||W||² (the formula
    in :mod:`lpkernel.linear._minibatch`).

    Parameters
    ----------
    heldout_metric : {"cross_entropy", "erp", "error"}, default="cross_entropy"
        The heldout metric the schedule watches: the cross-entropy CE = -mean
        log p(y|x); ERP = CE + the mean entropy of p(.|x) (entropy-regularized
        log loss); or the error rate.
    {shared_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (n_classes, n_features)
        The full weights W transposed (U V with a bottleneck); one row per class.
    {shared_attributes}

    See Also
    --------
    LowPrecisionRidgeClassifier : the closed-form alternative.
    sklearn.linear_model.SGDClassifier : SGD on a float matrix, without the schedule.

    References
    ----------
    {shared_references}

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.linear import KernelSGDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2))
    >>> y = (np.hypot(X[:, 0], X[:, 1]) > 1.2).astype(int)
    >>> P = RandomFourierFeatures(256, gamma=1.0, n_bits=8, output="packed",
    ...                           random_state=0).fit_transform(X)
    >>> model = KernelSGDClassifier(learning_rate=0.1, random_state=0).fit(P, y)
    >>> bool(model.score(P, y) > 0.9), model.predict_proba(P[:2]).shape
    (True, (2, 2))
    >>> model.history_[0]["action"]
    'accept'
    """

    _loss = "softmax"
    _heldout_metrics = ("cross_entropy", "erp", "error")

    def __init__(self, *, heldout_metric="cross_entropy", rank=None, alpha=1e-4, solver="adam",
                 learning_rate=0.01, batch_size=256, max_iter=50, validation_fraction=0.1,
                 min_improvement=0.01, max_halvings=5, model_bits=None, fit_intercept=True,
                 backend="numpy", device=None, chunk_size=None, random_state=None, verbose=0):
        self.heldout_metric = heldout_metric
        self.rank = rank
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.min_improvement = min_improvement
        self.max_halvings = max_halvings
        self.model_bits = model_bits
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.device = device
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.verbose = verbose

    def _check_y(self, y):
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        check_classification_targets(y)
        return y

    def _encode(self, y):
        """Class indices of labels y (labels unseen in fit raise)."""
        y = self._check_y(y)
        indices = np.searchsorted(self.classes_, y)
        indices = np.minimum(indices, len(self.classes_) - 1)
        unknown = self.classes_[indices] != y
        if np.any(unknown):
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unknown])!r}.")
        return indices

    @staticmethod
    def _metrics(scores, labels):
        top = scores.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
        log_proba = scores - log_norm[:, None]
        cross_entropy = float(-log_proba[np.arange(labels.shape[0]), labels].mean())
        entropy = float(-(np.exp(log_proba) * log_proba).sum(axis=1).mean())
        error = float((scores.argmax(axis=1) != labels).mean())
        return {"cross_entropy": cross_entropy, "entropy": entropy,
                "erp": cross_entropy + entropy, "error": error}

    def fit(self, X, y, eval_set=None):
        """Train with the heldout halving schedule.

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        eval_set : (X_heldout, y_heldout), default=None
            Heldout data for the schedule; by default ``validation_fraction``
            of the rows are held out.

        Returns
        -------
        self : KernelSGDClassifier
        """
        self._validate_params()
        check_y_given(self, y)
        X = check_features(self, X, reset=True)
        y = self._check_y(y)
        check_consistent_length(X, y)
        self.classes_, targets = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("KernelSGDClassifier needs samples of at least 2 classes; the data "
                             f"contain only one class: {self.classes_[0]!r}.")
        heldout = self._resolve_heldout(eval_set, self._encode)
        return self._train(X, targets, len(self.classes_), heldout)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) at the current learning rate, without the schedule.

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,)
            All the classes; required on the first call.

        Returns
        -------
        self : KernelSGDClassifier
        """
        first = not hasattr(self, "_weights")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit.")
            classes = np.unique(self._check_y(classes))
            if len(classes) < 2:
                raise ValueError("KernelSGDClassifier needs at least 2 classes, got "
                                 f"{classes!r}.")
        X = check_features(self, X, reset=first)
        if first:
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first call "
                             f"{self.classes_!r}.")
        targets = self._encode(y)
        check_consistent_length(X, targets)
        return self._partial_train(X, targets, len(self.classes_))

    def _public_coef(self, coef):
        return coef

    def decision_function(self, X):
        """Class scores: (n_samples,) as s_1 - s_0 for two classes, else (n_samples, n_classes)."""
        scores = self._raw_scores(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def predict_log_proba(self, X):
        """Log of the softmax probabilities, shape (n_samples, n_classes)."""
        scores = self._raw_scores(X)
        top = scores.max(axis=1, keepdims=True)
        return scores - (top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True)))

    def predict_proba(self, X):
        """Softmax probabilities, shape (n_samples, n_classes)."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """The most probable class of each row."""
        scores = self._raw_scores(X)
        return self.classes_[scores.argmax(axis=1)]


@_document
class KernelSGDRegressor(MultiOutputMixin, RegressorMixin, _BaseKernelSGD):
    """Least-squares regression trained by minibatch SGD on packed (or dense) features.

    The regression counterpart of :class:`KernelSGDClassifier`: squared loss
    (1/2)||s - y||² per row plus (alpha/2)||W||², trained from
    :class:`~lpkernel.PackedFeatures` one minibatch at a time, with the same
    heldout halving schedule, bottleneck and low-precision options. With
    ``alpha`` = a and n rows its minimizer is :class:`LowPrecisionRidge` with
    ``alpha = n * a``.

    Parameters
    ----------
    heldout_metric : {"mse"}, default="mse"
        The heldout mean squared error drives the schedule.
    {shared_parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    {shared_attributes}

    See Also
    --------
    LowPrecisionRidge : the closed-form solution of the same objective.

    References
    ----------
    {shared_references}

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.linear import KernelSGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(800, 1))
    >>> y = np.sin(2 * X[:, 0])
    >>> P = RandomFourierFeatures(256, gamma=1.0, n_bits=8, output="packed",
    ...                           random_state=0).fit_transform(X)
    >>> model = KernelSGDRegressor(alpha=1e-6, learning_rate=0.1, random_state=0).fit(P, y)
    >>> bool(model.score(P, y) > 0.9)
    True
    """

    _loss = "squared"
    _heldout_metrics = ("mse",)

    def __init__(self, *, heldout_metric="mse", rank=None, alpha=1e-4, solver="adam",
                 learning_rate=0.01, batch_size=256, max_iter=50, validation_fraction=0.1,
                 min_improvement=0.01, max_halvings=5, model_bits=None, fit_intercept=True,
                 backend="numpy", device=None, chunk_size=None, random_state=None, verbose=0):
        self.heldout_metric = heldout_metric
        self.rank = rank
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.min_improvement = min_improvement
        self.max_halvings = max_halvings
        self.model_bits = model_bits
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.device = device
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.verbose = verbose

    def _targets(self, X, y):
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        return (y.reshape(-1, 1) if y.ndim == 1 else y).astype(features_dtype(X)), y.ndim

    @staticmethod
    def _metrics(scores, targets):
        return {"mse": float(((scores - targets) ** 2).mean())}

    def fit(self, X, y, eval_set=None):
        """Train with the heldout halving schedule.

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        eval_set : (X_heldout, y_heldout), default=None
            Heldout data for the schedule; by default ``validation_fraction``
            of the rows are held out.

        Returns
        -------
        self : KernelSGDRegressor
        """
        self._validate_params()
        check_y_given(self, y)
        X = check_features(self, X, reset=True)
        targets, self._y_ndim = self._targets(X, y)
        check_consistent_length(X, targets)

        def encode(y_heldout):
            encoded, ndim = self._targets(X, y_heldout)
            if encoded.shape[1] != targets.shape[1]:
                raise ValueError(f"eval_set y has {encoded.shape[1]} targets, y has "
                                 f"{targets.shape[1]}.")
            return encoded

        heldout = self._resolve_heldout(eval_set, encode)
        return self._train(X, targets, targets.shape[1], heldout)

    def partial_fit(self, X, y):
        """One epoch over (X, y) at the current learning rate, without the schedule.

        Parameters
        ----------
        X : PackedFeatures, {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : KernelSGDRegressor
        """
        first = not hasattr(self, "_weights")
        if first:
            self._validate_params()
        X = check_features(self, X, reset=first)
        targets, ndim = self._targets(X, y)
        check_consistent_length(X, targets)
        if first:
            self._y_ndim = ndim
        elif targets.shape[1] != self._weights.intercept.shape[0]:
            raise ValueError(f"y has {targets.shape[1]} targets; the model was started with "
                             f"{self._weights.intercept.shape[0]}.")
        return self._partial_train(X, targets, targets.shape[1])

    def _public_coef(self, coef):
        return coef[0] if self._y_ndim == 1 else coef

    def predict(self, X):
        """Predicted targets, (n_samples,) or (n_samples, n_targets) as y in fit."""
        scores = self._raw_scores(X)
        return scores[:, 0] if self._y_ndim == 1 else scores
