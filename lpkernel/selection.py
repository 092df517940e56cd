"""Supervised random-feature selection (May et al.; DESIGN §6)."""

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _sampling
from ._progress import ProgressBar
from ._validation import check_int, check_n_jobs, check_option, check_real, seed_from
from .random_features import OUTPUT_TYPES, fourier_features, resolve_gamma, resolve_n_bits


class RandomFeatureSelector(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Random Fourier features chosen by a linear model: grow a pool, keep the strongest.

    Random features are cheap to draw but most contribute little. ``fit`` runs
    the iterative selection of May et al. (DESIGN §6): over ``n_iter``
    iterations it tops the pool up to ``n_components`` fresh random features,
    trains a linear model on the pool with one pass of minibatch SGD over
    ``subsample`` random rows (softmax for classification, squared loss for
    regression), and keeps the ``t * n_components / n_iter`` features whose
    weight rows have the largest squared norm sum_c W_jc^2. ``transform`` is
    then the random Fourier map restricted to the selected features, in full or
    low precision like :class:`lpkernel.RandomFourierFeatures`.

    Parameters
    ----------
    n_components : int, default=1000
        D, the number of features selected.
    kernel : {"rbf", "laplacian", "matern", "sparse_rbf"}, default="rbf"
        The kernel whose spectral density the candidates are drawn from.
    gamma : "scale", "median" or float > 0, default="scale"
    kernel_params : dict, default=None
        As for :class:`lpkernel.RandomFourierFeatures`.
    n_iter : int, default=50
        T, the number of grow-and-prune iterations; ``min(n_iter, n_components)``
        are run, so that every iteration keeps at least one more feature.
    subsample : int, default=None
        R, rows per iteration; default ``min(n_samples, max(10 * n_components, 1000))``.
    batch_size : int, default=250
        Minibatch size of the SGD pass.
    learning_rate : float, default=1.0
        SGD step size. The features have squared norm about 1 per row, so
        steps near 1 are stable for both losses.
    bottleneck_rank : int, default=None
        Train W = U V with rank r and rank the rows of W.
    n_bits : {None, 1, 2, 4, 8, 16, 32}, default=None
        Storage precision of ``transform`` (LP-RFF).
    output : {"dense", "packed"}, default="dense"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Draw a progress bar on stderr when > 0.
    n_jobs : int, default=None
        Threads for the feature transform.

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features, n_components)
        The selected frequencies, as columns.
    random_offset_ : ndarray of shape (n_components,)
        Their phases.
    feature_birth_iteration_ : ndarray of shape (n_components,)
        The iteration (1-based) in which each selected feature was drawn.
    selection_history_ : dict of ndarrays, one entry per iteration
        ``iteration``, ``loss`` (the mean SGD objective of the pass), ``n_drawn``
        (features drawn that iteration), ``n_kept`` and ``n_kept_from_earlier``
        (how many of the kept features were drawn in an earlier iteration).
    gamma_ : float
    classes_ : ndarray
        Class labels (classification only).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    lpkernel.RandomFourierFeatures : the unselected map.

    References
    ----------
    .. [1] A. May, A. Bagheri Garakani, Z. Lu, D. Guo, K. Liu, A. Bellet, L. Fan,
       M. Collins, D. Hsu, B. Kingsbury, M. Picheny and F. Sha, "Kernel Approximation
       Methods for Speech Recognition", JMLR 20(59), 2019, §4 (feature selection).

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFeatureSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-np.pi, np.pi, size=(2000, 1))
    >>> y = (np.cos(6 * X[:, 0]) > 0).astype(int)
    >>> selector = RandomFeatureSelector(n_components=20, n_iter=10, gamma=10.0,
    ...                                  random_state=0).fit(X, y)
    >>> selector.transform(X).shape
    (2000, 20)
    >>> bool(np.median(np.abs(selector.random_weights_)) > 4)  # near the signal's frequency 6
    True
    """

    def __init__(self, n_components=1000, *, kernel="rbf", gamma="scale", kernel_params=None,
                 n_iter=50, subsample=None, batch_size=250, learning_rate=1.0,
                 bottleneck_rank=None, n_bits=None, output="dense", random_state=None,
                 verbose=0, n_jobs=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.kernel_params = kernel_params
        self.n_iter = n_iter
        self.subsample = subsample
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.bottleneck_rank = bottleneck_rank
        self.n_bits = n_bits
        self.output = output
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    def _validate_params(self):
        check_int(self.n_components, "n_components", low=1)
        params = _sampling.resolve_kernel_params(self.kernel, self.kernel_params)
        check_int(self.n_iter, "n_iter", low=1)
        check_int(self.subsample, "subsample", low=1, allow_none=True)
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.learning_rate, "learning_rate", low=0.0)
        check_int(self.bottleneck_rank, "bottleneck_rank", low=1, allow_none=True)
        n_bits = resolve_n_bits(self.n_bits)
        check_option(self.output, "output", OUTPUT_TYPES)
        if self.output == "packed" and n_bits == 0:
            raise ValueError("output='packed' stores b-bit codes: set n_bits to one of (1, 2, 4, 8, 16).")
        check_int(self.verbose, "verbose", low=0)
        check_n_jobs(self.n_jobs)
        return params, n_bits

    def fit(self, X, y):
        """Select ``n_components`` random features for predicting y from X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (softmax model) or real targets (squared loss).

        Returns
        -------
        self : RandomFeatureSelector
        """
        from .linear._minibatch import LinearWeights, init_weights, sgd_pass

        params, _ = self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             y_numeric=False)
        targets, loss, n_outputs = self._targets(y)
        rng = check_random_state(self.random_state)
        n, d = X.shape
        D, T = self.n_components, min(self.n_iter, self.n_components)
        rows_per_iter = min(n, self.subsample or max(10 * D, 1000))
        self.gamma_ = resolve_gamma(self.gamma, X, self.kernel, rng)
        n_jobs = check_n_jobs(self.n_jobs)
        weights = np.empty((d, 0))
        offsets = np.empty(0)
        birth = np.empty(0, dtype=np.intp)
        history = {key: np.zeros(T, dtype=np.intp if key != "loss" else np.float64)
                   for key in ("iteration", "loss", "n_drawn", "n_kept", "n_kept_from_earlier")}
        progress = ProgressBar(T, type(self).__name__, enabled=self.verbose > 0)
        model = None
        for t in range(1, T + 1):
            n_new = D - weights.shape[1]
            drawn = _sampling.draw_frequencies(self.kernel, params, self.gamma_, d, n_new, "iid", rng)
            weights = np.hstack([weights, drawn["weights"]])
            offsets = np.concatenate([offsets, rng.uniform(0.0, 2.0 * np.pi, size=n_new)])
            birth = np.concatenate([birth, np.full(n_new, t)])
            rows = np.sort(rng.choice(n, size=rows_per_iter, replace=False))
            W = weights.astype(X.dtype)
            Z = fourier_features(X[rows], lambda block, W=W: block @ W, offsets, D, n_bits=0,
                                 stochastic=False, packed=False, seed=np.uint64(0), n_jobs=n_jobs)
            # warm start: kept features keep their weight rows, new ones start fresh
            fresh = init_weights(n_new, n_outputs, self.bottleneck_rank, dtype=Z.dtype, random_state=rng)
            if model is None:
                start = fresh
            else:
                rows_first = np.vstack([model.factors[0], fresh.factors[0]]).astype(Z.dtype)
                start = LinearWeights((rows_first, *model.factors[1:]), model.intercept)
            model, _, objective = sgd_pass(Z, targets[rows], None, start, loss=loss,
                                           learning_rate=self.learning_rate,
                                           batch_size=self.batch_size, solver="sgd",
                                           random_state=rng)
            # rank features by the squared norm of their weight rows (rows of U V with a bottleneck)
            strength = np.square(model.coef).sum(axis=1)
            n_keep = (t * D) // T
            keep = np.sort(np.argsort(-strength, kind="stable")[:n_keep])
            history["iteration"][t - 1] = t
            history["loss"][t - 1] = objective
            history["n_drawn"][t - 1] = n_new
            history["n_kept"][t - 1] = n_keep
            history["n_kept_from_earlier"][t - 1] = int((birth[keep] < t).sum())
            weights, offsets, birth = weights[:, keep], offsets[keep], birth[keep]
            model = LinearWeights((model.factors[0][keep], *model.factors[1:]), model.intercept)
            progress.update(t, f"loss={objective:.4f}")
        self.random_weights_ = weights
        self.random_offset_ = offsets
        self.feature_birth_iteration_ = birth
        self.selection_history_ = history
        self._noise_seed = seed_from(rng)
        self._n_features_out = D
        return self

    def _targets(self, y):
        """Targets for the SGD pass: class indices (softmax) or standardized values (squared)."""
        kind = type_of_target(y, raise_unknown=True)
        if kind in ("continuous", "continuous-multioutput"):
            for name in ("classes_",):
                self.__dict__.pop(name, None)
            Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
            scale = Y.std(axis=0)
            Y = (Y - Y.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
            return Y, "squared", Y.shape[1]
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"y must hold class labels or real targets, got {kind} targets.")
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return encoder.transform(y), "softmax", len(self.classes_)

    def transform(self, X):
        """The random Fourier features of X for the selected frequencies.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components) or PackedFeatures
        """
        check_is_fitted(self)
        _, n_bits = self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        W = np.ascontiguousarray(self.random_weights_, dtype=X.dtype)
        return fourier_features(X, lambda block: block @ W, self.random_offset_, self.n_components,
                                n_bits=n_bits, stochastic=True, packed=self.output == "packed",
                                seed=self._noise_seed, n_jobs=check_n_jobs(self.n_jobs))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
