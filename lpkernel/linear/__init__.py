"""Learners that train directly on packed low-precision features (DESIGN §7).

``LowPrecisionRidge`` and ``LowPrecisionRidgeClassifier`` solve ridge in
closed form from :class:`~lpkernel.PackedFeatures` chunk by chunk;
``KernelSGDClassifier`` and ``KernelSGDRegressor`` train by minibatch SGD or
Adam with the heldout halving schedule of the kernel acoustic-model work, an
optional linear bottleneck and optional low-precision (LM-HALP) weights.
"""

from ._ridge import LowPrecisionRidge, LowPrecisionRidgeClassifier
from ._schedule import HalvingSchedule, ScheduleDecision
from ._sgd import KernelSGDClassifier, KernelSGDRegressor

__all__ = [
    "HalvingSchedule",
    "KernelSGDClassifier",
    "KernelSGDRegressor",
    "LowPrecisionRidge",
    "LowPrecisionRidgeClassifier",
    "ScheduleDecision",
]
