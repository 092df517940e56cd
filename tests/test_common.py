"""scikit-learn's estimator checks over every public estimator, in several configurations."""

from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from lpkernel import Nystroem, Quantizer, RandomFeatureSelector, RandomFourierFeatures
from lpkernel.linear import (
    KernelSGDClassifier,
    KernelSGDRegressor,
    LowPrecisionRidge,
    LowPrecisionRidgeClassifier,
)
from lpkernel.model_selection import MemoryBudgetSearchCV

ESTIMATORS = [
    RandomFourierFeatures(n_components=20, random_state=0),
    RandomFourierFeatures(n_components=20, n_bits=4, random_state=0),
    RandomFourierFeatures(n_components=20, n_bits=1, rounding="nearest", random_state=0),
    RandomFourierFeatures(n_components=20, kernel="laplacian", sampling="circulant",
                          features="sincos", n_bits=8, random_state=0),
    RandomFourierFeatures(n_components=20, kernel="matern", kernel_params={"nu": 0.5},
                          sampling="structured", random_state=0),
    Quantizer(random_state=0),
    Quantizer(n_bits=2, clip="adaptive", rotate="hadamard", random_state=0),
    Quantizer(n_bits=1, rounding="nearest", per_feature=False, rotate="orthogonal",
              random_state=0),
    Quantizer(n_bits=16, clip=3.0, random_state=0),
    Quantizer(n_bits=32, rotate="hadamard", random_state=0),
    MemoryBudgetSearchCV(make_pipeline(RandomFourierFeatures(random_state=0), Ridge()),
                         budgets=[64, 128], n_bits=(4, 32), cv=2),
    MemoryBudgetSearchCV(make_pipeline(RandomFourierFeatures(random_state=0),
                                       Quantizer(random_state=0),
                                       RidgeClassifier()),
                         budgets=[64], n_bits=(2, 8), cv=2,
                         n_components_param="randomfourierfeatures__n_components",
                         n_bits_param="quantizer__n_bits"),
    RandomFeatureSelector(n_components=8, n_iter=4, random_state=0),
    RandomFeatureSelector(n_components=8, n_iter=2, n_bits=2, bottleneck_rank=1, random_state=0),
    RandomFeatureSelector(n_components=8, n_iter=4, solver="ridge", bottleneck_rank=1, random_state=0),
    RandomFeatureSelector(n_components=8, n_iter=4, solver="ridge", validation_fraction=0.25, random_state=0),
    LowPrecisionRidge(),
    LowPrecisionRidge(alpha=1e-3, fit_intercept=False, chunk_size=7),
    LowPrecisionRidgeClassifier(),
    LowPrecisionRidgeClassifier(alpha=0.1, chunk_size=7),
    # small SGD configurations keep the checks fast; the learning rates suit their
    # standardized toy data (a few minibatches per epoch)
    KernelSGDClassifier(learning_rate=0.1, batch_size=32, max_iter=30, random_state=0),
    KernelSGDClassifier(rank=2, heldout_metric="erp", learning_rate=0.1, batch_size=32,
                        max_iter=30, random_state=0),
    KernelSGDClassifier(solver="svrg", model_bits=8, learning_rate=0.5, batch_size=32,
                        max_iter=20, validation_fraction=None, random_state=0),
    KernelSGDRegressor(learning_rate=0.1, batch_size=32, max_iter=30, max_halvings=2,
                       random_state=0),
    KernelSGDRegressor(solver="sgd", rank=3, learning_rate=0.01, batch_size=32, max_iter=30,
                       max_halvings=2, random_state=0),
    Nystroem(n_components=10, random_state=0),
    Nystroem(n_components=10, sampling="kmeans", random_state=0),
    Nystroem(n_components=10, kernel="laplacian", sampling="rls", random_state=0),
    Nystroem(n_components=10, kernel="matern", kernel_params={"nu": 1.5}, sampling="rls",
             random_state=0),
]

# scikit-learn's checks assume dense array output, so output="packed" is tested in
# tests/test_random_features.py and tests/test_quantization.py instead.


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
