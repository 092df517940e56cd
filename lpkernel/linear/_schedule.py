"""The heldout learning-rate schedule of the kernel acoustic-model work (DESIGN §7)."""

import math
from typing import NamedTuple

from .._validation import check_int, check_real


class ScheduleDecision(NamedTuple):
    """What to do after an epoch.

    Attributes
    ----------
    action : {"accept", "halve", "revert"}
        ``accept``: keep the new weights at the same learning rate; ``halve``:
        keep them but halve the learning rate (improvement below the threshold);
        ``revert``: go back to the previous epoch's weights and halve.
    learning_rate : float
        The learning rate for the next epoch.
    stop : bool
        True once the learning rate has been halved ``max_halvings`` times.
    """

    action: str
    learning_rate: float
    stop: bool


class HalvingSchedule:
    """Halve the learning rate when the heldout metric stalls; revert when it gets worse.

    After each epoch, with v the new heldout metric (lower is better) and
    ``reference`` the metric of the weights currently kept:

    * the first epoch sets the reference and is accepted;
    * a non-finite v (divergence) counts as worse;
    * if v > reference (worse), revert to the kept weights and halve the
      learning rate (the reference stays);
    * else if v > reference - min_improvement * |reference| (an improvement
      of less than 1 % by default, or none), keep the new weights, halve the
      learning rate, and v becomes the reference;
    * otherwise keep the new weights at the same rate; v becomes the reference.

    Training stops once the learning rate has been halved ``max_halvings``
    times (the schedule of the kernel acoustic models of May et al. 2019).

    Parameters
    ----------
    learning_rate : float > 0
    min_improvement : float in [0, 1), default=0.01
        The relative improvement that counts as progress.
    max_halvings : int >= 1, default=10

    Attributes
    ----------
    reference : float or None
        The heldout metric of the weights kept so far.
    n_halvings : int

    References
    ----------
    .. [1] A. May et al., "Kernel Approximation Methods for Speech Recognition",
       JMLR 20(59), 2019.

    Examples
    --------
    >>> from lpkernel.linear import HalvingSchedule
    >>> schedule = HalvingSchedule(1.0, max_halvings=2)
    >>> [tuple(schedule.update(v)) for v in (0.50, 0.40, 0.399, 0.45)]
    [('accept', 1.0, False), ('accept', 1.0, False), ('halve', 0.5, False), ('revert', 0.25, True)]
    """

    def __init__(self, learning_rate, *, min_improvement=0.01, max_halvings=10):
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0.0)
        self.min_improvement = check_real(min_improvement, "min_improvement", low=0.0,
                                          low_inclusive=True, high=1.0)
        self.max_halvings = check_int(max_halvings, "max_halvings", low=1)
        self.reference = None
        self.n_halvings = 0

    def update(self, metric):
        """Record the heldout ``metric`` of the epoch just run; return a ScheduleDecision."""
        metric = float(metric)
        if self.reference is None and math.isfinite(metric):
            self.reference = metric
            return ScheduleDecision("accept", self.learning_rate, False)
        # a diverged epoch (NaN or inf) counts as worse, even the first one
        if not math.isfinite(metric) or metric > self.reference:
            action = "revert"
        elif metric > self.reference - self.min_improvement * abs(self.reference):
            action = "halve"
            self.reference = metric
        else:
            action = "accept"
            self.reference = metric
        if action != "accept":
            self.learning_rate /= 2.0
            self.n_halvings += 1
        return ScheduleDecision(action, self.learning_rate, self.n_halvings >= self.max_halvings)
