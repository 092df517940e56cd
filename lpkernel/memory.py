"""Bits that a fitted feature map and its training features occupy (DESIGN §8).

Conventions, used by every figure here:

* Every stored number of a feature map (frequencies, offsets, signs,
  landmarks, K_mm^{-1/2}, rotations, clipping ranges) counts 32 bits, the
  float32 convention of the LP-RFF paper, whatever dtype it is held in.
* Training features count ``n_bits`` bits per value when the map stores them in
  low precision (LP-RFF, :class:`~lpkernel.Quantizer`), whether its ``output``
  is packed or dense: the figure is what ``output="packed"`` holds. Full
  precision counts ``float_bits`` (default 32) per value.
* A memory **budget** is given in **bits per training row**: the training
  features of n rows at budget B take n * B bits. ``m = B / b`` is the number of
  b-bit features that fit. :func:`budget_bits_per_row` converts a total size in
  MiB for n rows into this unit.
"""

import math
import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import check_int, check_real

FLOAT_BITS = 32
ALL_BITS = (1, 2, 4, 8, 16, 32)
_BITS_PER_MIB = 8 * 2**20

# scikit-learn scalers that often start a pipeline: their fitted arrays
_SCALER_ARRAYS = {
    "StandardScaler": ("mean_", "scale_"),
    "MinMaxScaler": ("min_", "scale_"),
    "MaxAbsScaler": ("scale_",),
    "RobustScaler": ("center_", "scale_"),
}
_RFF_MAP_ARRAYS = ("random_weights_", "circulant_vectors_", "circulant_signs_",
                   "hadamard_signs_", "frequency_scales_", "random_offset_")


class FeatureMemory(NamedTuple):
    """Bits held by a fitted feature map and by its training features.

    Attributes
    ----------
    map_bits : int
        The numbers that define the map (32 bits each).
    feature_bits : int
        The n x m training features as stored (b bits per value).
    n_samples : int
        n, the training rows the figure is for.
    n_features_out : int
        m, the columns of the stored features.
    """

    map_bits: int
    feature_bits: int
    n_samples: int
    n_features_out: int

    @property
    def total_bits(self):
        """map_bits + feature_bits."""
        return self.map_bits + self.feature_bits

    @property
    def feature_bits_per_row(self):
        """Training-feature bits per row: the unit of a memory budget."""
        return self.feature_bits / self.n_samples if self.n_samples else 0.0

    @property
    def map_bytes(self):
        return self.map_bits / 8

    @property
    def feature_bytes(self):
        return self.feature_bits / 8

    @property
    def total_bytes(self):
        return self.total_bits / 8

    @property
    def map_mib(self):
        return self.map_bits / _BITS_PER_MIB

    @property
    def feature_mib(self):
        return self.feature_bits / _BITS_PER_MIB

    @property
    def total_mib(self):
        return self.total_bits / _BITS_PER_MIB


def _numbers(estimator, names):
    """How many numbers the arrays ``names`` of ``estimator`` hold (absent or None count 0)."""
    count = 0
    for name in names:
        value = getattr(estimator, name, None)
        if value is not None:
            count += int(np.size(value))
    return count


def _kind(estimator):
    """The accounting rule for one (fitted or not) step, or None when there is none."""
    from sklearn.pipeline import Pipeline

    from .quantization import Quantizer
    from .random_features import RandomFourierFeatures

    name = type(estimator).__name__
    if isinstance(estimator, Pipeline):
        return "pipeline"
    if isinstance(estimator, RandomFourierFeatures):
        return "rff"
    if isinstance(estimator, Quantizer):
        return "quantizer"
    if name == "Nystroem" or (hasattr(estimator, "normalization_")
                              and hasattr(estimator, "components_")):
        return "nystroem"  # scikit-learn's and lpkernel's share the attribute names
    if name in ("RBFSampler", "SkewedChi2Sampler"):
        return "sampler"
    if name in _SCALER_ARRAYS:
        return "scaler"
    return None


def _float_bits(float_bits):
    if isinstance(float_bits, bool) or float_bits not in (16, 32, 64):
        raise ValueError(f"float_bits must be 16, 32 or 64, got {float_bits!r}.")
    return int(float_bits)


def _step_memory(estimator, n_samples, float_bits):
    """(map_bits, feature_bits, n_features_out) of one fitted transformer."""
    kind = _kind(estimator)
    if kind == "pipeline":
        record = feature_memory(estimator, n_samples, float_bits=float_bits)
        return record.map_bits, record.feature_bits, record.n_features_out
    check_is_fitted(estimator)
    if kind == "rff":
        from .random_features import resolve_n_bits

        m = estimator.n_components
        bits = resolve_n_bits(estimator.n_bits) or float_bits
        return FLOAT_BITS * _numbers(estimator, _RFF_MAP_ARRAYS), bits * n_samples * m, m
    if kind == "quantizer":
        from .random_features import resolve_n_bits

        m = estimator.n_features_in_
        bits = resolve_n_bits(estimator.n_bits) or float_bits
        numbers_ = _numbers(estimator, ("rotation_", "hadamard_signs_", "hadamard_permutations_"))
        if estimator.clip_range_ is not None:
            numbers_ += int(np.size(estimator.clip_range_))
        return FLOAT_BITS * numbers_, bits * n_samples * m, m
    if kind == "nystroem":
        m_out = estimator.normalization_.shape[1]
        numbers_ = _numbers(estimator, ("components_", "normalization_"))
        return FLOAT_BITS * numbers_, float_bits * n_samples * m_out, m_out
    if kind == "sampler":
        m = estimator.random_offset_.shape[0]
        numbers_ = _numbers(estimator, ("random_weights_", "random_offset_"))
        return FLOAT_BITS * numbers_, float_bits * n_samples * m, m
    if kind == "scaler":
        d = estimator.n_features_in_
        numbers_ = _numbers(estimator, _SCALER_ARRAYS[type(estimator).__name__])
        return FLOAT_BITS * numbers_, float_bits * n_samples * d, d
    raise TypeError(_unsupported_message(estimator))


def _unsupported_message(estimator):
    return (
        f"feature_memory has no accounting rule for {type(estimator).__name__}. It covers "
        "lpkernel's RandomFourierFeatures, Quantizer and Nystroem, scikit-learn's RBFSampler, "
        "SkewedChi2Sampler and Nystroem (or any transformer with components_ and "
        f"normalization_), the scalers {sorted(_SCALER_ARRAYS)}, and Pipelines of them "
        "(a final predictor is skipped)."
    )


def _pipeline_steps(pipeline):
    """The transformer steps of a pipeline; a final step without accounting rule is its model."""
    steps = [step for _, step in pipeline.steps if step is not None and step != "passthrough"]
    if steps and _kind(steps[-1]) is None:
        steps = steps[:-1]
    for step in steps:
        if _kind(step) is None:
            raise TypeError(_unsupported_message(step))
    if not steps:
        raise ValueError("The pipeline has no feature map whose memory could be counted.")
    return steps


def check_supported(estimator):
    """Raise TypeError unless :func:`feature_memory` can count ``estimator`` (fitted or not)."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        for step in _pipeline_steps(estimator):
            check_supported(step)
    elif _kind(estimator) is None:
        raise TypeError(_unsupported_message(estimator))


def feature_memory(estimator, n_samples, *, float_bits=FLOAT_BITS):
    """Bits that a fitted feature map and its n training feature rows occupy.

    Follows DESIGN §8; every stored number of a map counts 32 bits.

    ====================================  ==================================  ============
    estimator                             map bits                            feature bits
    ====================================  ==================================  ============
    RandomFourierFeatures iid/orth./qmc   32 (d f + f)                        b n m
    RandomFourierFeatures circulant       32 (2 d ceil(f / d) + f)            b n m
    RandomFourierFeatures structured      32 (3 p ceil(f / p) + 2 f)          b n m
    RBFSampler, SkewedChi2Sampler         32 (d m + m)                        32 n m
    Nystroem (scikit-learn, lpkernel)     32 (m d + m m')                     32 n m'
    Quantizer                             32 (ranges + rotation numbers)      b n m
    StandardScaler etc.                   32 (stored per-column arrays)       32 n d
    Pipeline                              sum over its steps                  last step's
    ====================================  ==================================  ============

    f is the number of frequencies (m for cos features, about m / 2 for
    sincos), p = d rounded up to a power of two, b = ``n_bits`` (32 for full
    precision), m' the Nyström features kept. In a Pipeline only the last
    transformer's output is stored for training; a final step that is not a
    feature map (the model) is skipped.

    Parameters
    ----------
    estimator : fitted transformer or Pipeline
    n_samples : int
        n, the number of training rows whose features are stored.
    float_bits : {16, 32, 64}, default=32
        Bits counted per full-precision feature value.

    Returns
    -------
    FeatureMemory
        ``map_bits``, ``feature_bits``, ``total_bits``, plus byte and MiB views.

    Raises
    ------
    TypeError
        For an estimator without an accounting rule.
    sklearn.exceptions.NotFittedError
        For an unfitted map.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel import RandomFourierFeatures
    >>> from lpkernel.memory import feature_memory
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> rff = RandomFourierFeatures(n_components=10, n_bits=4, random_state=0).fit(X)
    >>> mem = feature_memory(rff, n_samples=100)
    >>> mem.map_bits == 32 * (10 * 3 + 10), mem.feature_bits == 4 * 100 * 10
    (True, True)
    >>> mem.total_bits, mem.feature_bits_per_row
    (5280, 40.0)
    """
    from sklearn.pipeline import Pipeline

    n_samples = check_int(n_samples, "n_samples", low=0)
    float_bits = _float_bits(float_bits)
    if isinstance(estimator, Pipeline):
        map_bits, feature_bits, m = 0, 0, 0
        for step in _pipeline_steps(estimator):
            step_map, feature_bits, m = _step_memory(step, n_samples, float_bits)
            map_bits += step_map
        return FeatureMemory(int(map_bits), int(feature_bits), n_samples, int(m))
    if _kind(estimator) is None:
        raise TypeError(_unsupported_message(estimator))
    map_bits, feature_bits, m = _step_memory(estimator, n_samples, float_bits)
    return FeatureMemory(int(map_bits), int(feature_bits), n_samples, int(m))


def budget_bits_per_row(mebibytes, n_samples):
    """The budget, in bits per training row, that puts ``mebibytes`` MiB on n rows.

    Examples
    --------
    >>> from lpkernel.memory import budget_bits_per_row
    >>> budget_bits_per_row(1, n_samples=2**20)
    8.0
    """
    mebibytes = check_real(mebibytes, "mebibytes", low=0.0)
    n_samples = check_int(n_samples, "n_samples", low=1)
    return mebibytes * _BITS_PER_MIB / n_samples


def _check_bits(n_bits):
    if isinstance(n_bits, numbers.Integral):
        n_bits = (n_bits,)
    n_bits = tuple(n_bits)
    if not n_bits:
        raise ValueError("n_bits must hold at least one bit width.")
    for b in n_bits:
        if isinstance(b, bool) or b not in ALL_BITS:
            raise ValueError(f"each n_bits must be one of {ALL_BITS}, got {b!r}.")
    return tuple(sorted(set(int(b) for b in n_bits)))


def _check_budgets(budgets):
    if isinstance(budgets, numbers.Real):
        budgets = (budgets,)
    budgets = list(budgets)
    if not budgets:
        raise ValueError("budgets must hold at least one budget (bits per training row).")
    return [check_real(b, "each budget", low=0.0) for b in budgets]


def budget_candidates(budgets, n_bits=ALL_BITS, *, min_components=1, max_components=None):
    """(budget, n_components, n_bits) triples with m = floor(B / b) for each budget B and b.

    Bit widths for which m < ``min_components`` or m > ``max_components`` are
    left out; a budget with no candidate at all raises ValueError.
    """
    budgets = _check_budgets(budgets)
    n_bits = _check_bits(n_bits)
    min_components = check_int(min_components, "min_components", low=1)
    max_components = check_int(max_components, "max_components", low=1, allow_none=True)
    triples = []
    for budget in budgets:
        found = False
        for b in n_bits:
            m = int(math.floor(budget / b + 1e-9))  # tolerate B computed as b * m in floats
            if m < min_components or (max_components is not None and m > max_components):
                continue
            triples.append((budget, m, b))
            found = True
        if not found:
            raise ValueError(
                f"budget {budget:g} bits per training row fits no configuration: with n_bits in "
                f"{n_bits}, m = budget / b must lie in [{min_components}, "
                f"{max_components if max_components is not None else 'inf'}]."
            )
    return triples


def budget_param_grid(budgets, n_bits=ALL_BITS, *, prefix="", n_components_param=None,
                      n_bits_param=None, min_components=1, max_components=None):
    """GridSearchCV parameter grids of (n_components, n_bits) at equal feature memory.

    For every budget B (bits per training row) and bit width b, one candidate
    with m = floor(B / b) features of b bits: each takes at most B bits per
    training row (DESIGN §8).

    Parameters
    ----------
    budgets : float or sequence of float
        Budgets in bits per training row (see :func:`budget_bits_per_row`).
    n_bits : sequence of {1, 2, 4, 8, 16, 32}, default=(1, 2, 4, 8, 16, 32)
        Bit widths to try; 32 means full precision.
    prefix : str, default=""
        Prepended to both parameter names, e.g. ``"randomfourierfeatures__"``.
    n_components_param, n_bits_param : str, default=None
        Full parameter names, for pipelines where m and b live in different steps
        (``"nystroem__n_components"``, ``"quantizer__n_bits"``); they override
        ``prefix + "n_components"`` / ``prefix + "n_bits"``.
    min_components, max_components : int, default=1, None
        Candidates with m outside this range are left out (e.g. where an n x m
        matrix would not fit in memory).

    Returns
    -------
    list of dict
        One dict per candidate, each value a one-element list: GridSearchCV's
        ``param_grid`` format. Ordered by budget, then bit width.

    Examples
    --------
    >>> from lpkernel.memory import budget_param_grid
    >>> budget_param_grid([64], n_bits=(4, 32), prefix="rff__")
    [{'rff__n_components': [16], 'rff__n_bits': [4]},
     {'rff__n_components': [2], 'rff__n_bits': [32]}]
    """
    if not isinstance(prefix, str):
        raise ValueError(f"prefix must be a string, got {prefix!r}.")
    n_components_param = n_components_param or prefix + "n_components"
    n_bits_param = n_bits_param or prefix + "n_bits"
    return [
        {n_components_param: [m], n_bits_param: [b]}
        for _, m, b in budget_candidates(budgets, n_bits, min_components=min_components,
                                         max_components=max_components)
    ]
