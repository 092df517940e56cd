"""Search over memory budgets: the best (n_components, n_bits) per budget (DESIGN §8)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..memory import ALL_BITS, _check_bits, budget_candidates, check_supported, feature_memory

_FEATURE_KEY = "memory_feature_bits_per_row"
_MAP_KEY = "memory_map_bits"
FRONTIER_FIELDS = ("budget_bits_per_row", "n_components", "n_bits", "mean_test_score",
                   "std_test_score", "feature_bits_per_row", "map_bits", "candidate_index",
                   "params")


class _ScoreAndMemory:
    """GridSearchCV scoring: the metric, plus the fitted candidate's measured memory.

    One callable returning a dict (rather than a dict of callables), so that
    GridSearchCV can forward ``sample_weight`` to it like to any scorer.
    """

    def __init__(self, scorer):
        self.scorer = scorer

    def __call__(self, estimator, X, y=None, sample_weight=None):
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        memory = feature_memory(estimator, n_samples=1)
        return {"score": self.scorer(estimator, X, y, **kwargs),
                _FEATURE_KEY: memory.feature_bits, _MAP_KEY: memory.map_bits}


def frontier_table(rows):
    """Frontier rows, tuples in FRONTIER_FIELDS order: a DataFrame, or a recarray without pandas."""
    try:
        import pandas as pd
    except ImportError:
        dtype = [("budget_bits_per_row", float), ("n_components", int), ("n_bits", int),
                 ("mean_test_score", float), ("std_test_score", float),
                 ("feature_bits_per_row", float), ("map_bits", float),
                 ("candidate_index", int), ("params", object)]
        return np.rec.array(rows, dtype=dtype)
    return pd.DataFrame(rows, columns=list(FRONTIER_FIELDS))


def _find_param(estimator, explicit, suffix, what):
    """The parameter name of ``estimator`` that sets ``suffix`` (explicit, or the only match)."""
    names = estimator.get_params(deep=True)
    if explicit is not None:
        if explicit not in names:
            raise ValueError(
                f"{what}={explicit!r} is not a parameter of {type(estimator).__name__}."
            )
        return explicit
    found = [k for k in names if k == suffix or k.endswith("__" + suffix)]
    if len(found) > 1:
        raise ValueError(
            f"{type(estimator).__name__} has several {suffix!r} parameters {sorted(found)}; "
            f"name the one to search with {what}=."
        )
    return found[0] if found else None


def _estimator_has(attr):
    """available_if check: the refit best estimator (or, before fit, the estimator) has ``attr``."""

    def check(self):
        target = self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator
        getattr(target, attr)
        return True

    return check


class MemoryBudgetSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated search for the best (n_components, n_bits) at each memory budget.

    For every budget B (bits per training row) and bit width b, the candidate
    with m = floor(B / b) features of b bits is cross-validated (DESIGN §8):
    few precise features against many coarse ones, at equal training-feature
    memory (Zhang et al. 2019). The search runs on
    :class:`~sklearn.model_selection.GridSearchCV` (candidates in parallel with
    joblib); each fitted candidate's memory is measured with
    :func:`lpkernel.memory.feature_memory`.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A model whose feature map :func:`~lpkernel.memory.feature_memory` can
        count, e.g. ``make_pipeline(RandomFourierFeatures(), RidgeClassifier())``
        or ``make_pipeline(Nystroem(), Quantizer(), RidgeClassifier())``.
    budgets : float or sequence of float
        Budgets in bits per training row
        (:func:`lpkernel.memory.budget_bits_per_row` converts MiB for n rows).
    n_bits : sequence of {1, 2, 4, 8, 16, 32}, default=(1, 2, 4, 8, 16, 32)
        Bit widths to try; 32 is full precision. Widths with m < 1 (or m >
        ``max_components``) at a budget are skipped there.
    param_grid : dict or list of dict, default=None
        Further parameters (e.g. ``{"ridgeclassifier__alpha": [0.1, 1.0]}``),
        crossed with every (m, b) candidate.
    scoring : str, callable or None, default=None
        One metric, as in GridSearchCV (None: the estimator's ``score``).
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV (None: 5-fold, stratified for classifiers).
    n_jobs : int, default=None
        Candidates and folds fitted in parallel by joblib.
    verbose : int, default=0
        0 silent; 1 the number of candidates and the frontier at the end; 2 and
        more add GridSearchCV's per-fit progress.
    refit : bool, default=True
        Refit the best candidate over all budgets on the whole data, which enables
        ``predict``, ``score`` etc.
    n_components_param, n_bits_param : str, default=None
        Parameter names that set m and b, e.g. ``"nystroem__n_components"`` and
        ``"quantizer__n_bits"``. By default the only parameter named (or ending
        in ``__``) ``n_components`` / ``n_bits``; with n_bits=(32,) an estimator
        without n_bits is fine.
    max_components : int, default=None
        Leave out candidates with more features (for large budgets at low b).

    Attributes
    ----------
    cv_results_ : dict of ndarray
        GridSearchCV's results (``params``, ``param_*``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, ``split*_test_score``, times),
        plus per candidate: ``budget_bits_per_row`` (its budget),
        ``feature_bits_per_row`` and ``map_bits`` (measured on the fitted
        candidates, mean over folds; Nyström with m above the fold size keeps
        fewer features, and this shows it).
    frontier_ : pandas.DataFrame or numpy.recarray
        One row per budget (ascending) with the best candidate there: fields
        ``budget_bits_per_row, n_components, n_bits, mean_test_score,
        std_test_score, feature_bits_per_row, map_bits, candidate_index``
        (row of cv_results_) and ``params``. A DataFrame when pandas is
        installed, otherwise a numpy record array; both index by field name.
    best_estimator_ : estimator
        The best candidate over all budgets, refit on all data (``refit=True``).
    best_params_ : dict
    best_score_ : float
    best_index_ : int
    scorer_ : callable
    n_splits_ : int
    refit_time_ : float
    search_ : GridSearchCV
        The fitted search underneath.

    See Also
    --------
    lpkernel.memory.budget_param_grid : the same candidates as a plain param grid.
    lpkernel.memory.feature_memory : the memory figures.

    References
    ----------
    .. [1] J. Zhang, A. May, T. Dao and C. Ré, "Low-Precision Random Fourier Features
       for Memory-Constrained Kernel Approximation", AISTATS 2019, arXiv:1811.00155.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.model_selection import MemoryBudgetSearchCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(300, 2))
    >>> y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    >>> model = make_pipeline(RandomFourierFeatures(gamma=0.5, random_state=0), Ridge(alpha=1e-3))
    >>> search = MemoryBudgetSearchCV(model, budgets=[128, 512], n_bits=(2, 8, 32), cv=3).fit(X, y)
    >>> len(search.cv_results_["params"])
    6
    >>> [int(b) for b in search.frontier_["budget_bits_per_row"]]
    [128, 512]
    >>> bool(np.all(search.cv_results_["feature_bits_per_row"]
    ...             <= search.cv_results_["budget_bits_per_row"]))
    True
    >>> bool(search.score(X, y) > 0.9)
    True
    """

    def __init__(self, estimator, budgets, *, n_bits=ALL_BITS, param_grid=None, scoring=None,
                 cv=None, n_jobs=None, verbose=0, refit=True, n_components_param=None,
                 n_bits_param=None, max_components=None):
        self.estimator = estimator
        self.budgets = budgets
        self.n_bits = n_bits
        self.param_grid = param_grid
        self.scoring = scoring
        self.cv = cv
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.n_components_param = n_components_param
        self.n_bits_param = n_bits_param
        self.max_components = max_components

    # -- building the grid -----------------------------------------------------------
    def _candidates(self):
        """Parameter names and the list of (budget, m, b, extra params) candidates."""
        check_supported(self.estimator)
        n_bits = _check_bits(self.n_bits)
        components_param = _find_param(self.estimator, self.n_components_param, "n_components",
                                       "n_components_param")
        if components_param is None:
            raise ValueError(
                f"{type(self.estimator).__name__} has no n_components parameter to search; "
                "name it with n_components_param=."
            )
        bits_param = _find_param(self.estimator, self.n_bits_param, "n_bits", "n_bits_param")
        if bits_param is None and n_bits != (32,):
            raise ValueError(
                f"{type(self.estimator).__name__} has no n_bits parameter, so only n_bits=(32,) "
                f"(full precision) can be searched, got n_bits={n_bits}. Add a Quantizer step "
                "or name the parameter with n_bits_param=."
            )
        budgets = sorted(set(float(b) for b in np.atleast_1d(np.asarray(self.budgets, float))))
        triples = budget_candidates(budgets, n_bits, max_components=self.max_components)
        extras = list(ParameterGrid(self.param_grid)) if self.param_grid else [{}]
        for extra in extras:
            clash = {components_param, bits_param} & set(extra)
            if clash:
                raise ValueError(
                    f"param_grid must not set {sorted(clash)}: the budgets choose them."
                )
        candidates = [(budget, m, b, extra) for budget, m, b in triples for extra in extras]
        return components_param, bits_param, budgets, candidates

    def _check_params(self):
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral) \
                or self.verbose < 0:
            raise ValueError(f"verbose must be an int >= 0, got {self.verbose!r}.")
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError(f"refit must be True or False, got {self.refit!r}.")
        if isinstance(self.scoring, (dict, list, tuple, set)):
            raise ValueError(
                "MemoryBudgetSearchCV ranks candidates by one metric: scoring must be None, "
                f"a string or a callable, got {type(self.scoring).__name__}."
            )

    # -- fit ---------------------------------------------------------------------------
    def fit(self, X, y=None, **fit_params):
        """Cross-validate every candidate of every budget, then refit the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : MemoryBudgetSearchCV
        """
        self._check_params()
        components_param, bits_param, budgets, candidates = self._candidates()
        grid = []
        for _, m, b, extra in candidates:
            point = {components_param: [m], **{k: [v] for k, v in extra.items()}}
            if bits_param is not None:
                point[bits_param] = [b]
            grid.append(point)
        self.scorer_ = check_scoring(self.estimator, scoring=self.scoring)
        scoring = _ScoreAndMemory(self.scorer_)
        if self.verbose:
            print(f"MemoryBudgetSearchCV: {len(budgets)} budgets, {len(candidates)} candidates "
                  f"(n_bits={_check_bits(self.n_bits)})")
        search = GridSearchCV(clone(self.estimator), grid, scoring=scoring, cv=self.cv,
                              n_jobs=self.n_jobs, verbose=max(self.verbose - 1, 0),
                              refit="score" if self.refit else False, error_score=np.nan)
        search.fit(X, y, **fit_params)
        self.search_ = search
        self.cv_results_ = self._results(search.cv_results_, candidates)
        # GridSearchCV's rule, which it only applies itself when it refits
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.n_splits_ = search.n_splits_
        if self.refit:
            self.best_estimator_ = search.best_estimator_
            self.refit_time_ = search.refit_time_
        self.frontier_ = self._frontier(budgets, candidates)
        if self.verbose:
            print(self._frontier_text())
        return self

    @staticmethod
    def _results(raw, candidates):
        results = {k: v for k, v in raw.items() if _FEATURE_KEY not in k and _MAP_KEY not in k}
        results["budget_bits_per_row"] = np.array([c[0] for c in candidates])
        results["n_components"] = np.array([c[1] for c in candidates])
        results["n_bits"] = np.array([c[2] for c in candidates])
        results["feature_bits_per_row"] = np.asarray(raw[f"mean_test_{_FEATURE_KEY}"])
        results["map_bits"] = np.asarray(raw[f"mean_test_{_MAP_KEY}"])
        return results

    def _frontier(self, budgets, candidates):
        results = self.cv_results_
        scores = np.asarray(results["mean_test_score"], dtype=float)
        rows = []
        for budget in budgets:
            index = np.flatnonzero(results["budget_bits_per_row"] == budget)
            finite = index[np.isfinite(scores[index])]
            best = finite[np.argmax(scores[finite])] if finite.size else index[0]
            rows.append((budget, candidates[best][1], candidates[best][2], scores[best],
                         float(results["std_test_score"][best]),
                         float(results["feature_bits_per_row"][best]),
                         float(results["map_bits"][best]), int(best), results["params"][best]))
        return frontier_table(rows)

    def _frontier_text(self):
        lines = [f"{'budget (bits/row)':>18} {'n_bits':>6} {'m':>8} {'score':>10} {'+/-':>8}"]
        frontier = self.frontier_
        for i in range(len(frontier["n_bits"])):
            lines.append(
                f"{frontier['budget_bits_per_row'][i]:>18g} {int(frontier['n_bits'][i]):>6d} "
                f"{int(frontier['n_components'][i]):>8d} {frontier['mean_test_score'][i]:>10.4f} "
                f"{frontier['std_test_score'][i]:>8.4f}"
            )
        return "\n".join(lines)

    # -- the frontier plot -----------------------------------------------------------------
    def plot_frontier(self, ax=None):
        """Plot the cross-validated score against the budget, per bit width and best overall.

        Imports matplotlib only when called.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        check_is_fitted(self, "frontier_")
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(
                "plot_frontier needs matplotlib: pip install 'lpkernel[plot]'."
            ) from exc
        if ax is None:
            _, ax = plt.subplots()
        results = self.cv_results_
        scores = np.asarray(results["mean_test_score"], dtype=float)
        for b in np.unique(results["n_bits"]):
            index = np.flatnonzero(results["n_bits"] == b)
            budgets = results["budget_bits_per_row"][index]
            # several candidates per budget when param_grid is set: keep each budget's best
            best = [np.nanmax(scores[index][budgets == u]) if np.isfinite(
                scores[index][budgets == u]).any() else np.nan for u in np.unique(budgets)]
            label = "32 bits (full precision)" if b == 32 else f"{b} bits"
            ax.plot(np.unique(budgets), best, marker="o", linewidth=1, alpha=0.6, label=label)
        frontier = self.frontier_
        ax.plot(np.asarray(frontier["budget_bits_per_row"]),
                np.asarray(frontier["mean_test_score"], dtype=float),
                color="black", linewidth=2.5, marker="s", label="best per budget")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("budget (training-feature bits per row)")
        ax.set_ylabel("mean cross-validated score")
        ax.legend()
        return ax

    # -- delegation to the best estimator ------------------------------------------------
    def _best(self, method):
        if not self.refit:
            raise AttributeError(
                f"This MemoryBudgetSearchCV was fit with refit=False: {method} needs "
                "best_estimator_. Refit with refit=True."
            )
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the best estimator."""
        return self._best("predict").predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the best estimator."""
        return self._best("predict_proba").predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the best estimator."""
        return self._best("predict_log_proba").predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the best estimator."""
        return self._best("decision_function").decision_function(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X):
        """Transform with the best estimator."""
        return self._best("transform").transform(X)

    def score(self, X, y=None):
        """The search's metric of the best estimator on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return self.scorer_(self._best("score"), X, y)

    @property
    def classes_(self):
        """The class labels of the best estimator (classifiers only)."""
        return self._best("classes_").classes_

    @property
    def n_features_in_(self):
        """Number of features seen during fit."""
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise AttributeError(
                f"{type(self).__name__} has no n_features_in_ before fit."
            ) from exc
        return self.search_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.pairwise = inner.input_tags.pairwise
        return tags
