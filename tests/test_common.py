"""scikit-learn's estimator checks over every public estimator, in several configurations."""

from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from lpkernel import Quantizer, RandomFourierFeatures
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
]

# scikit-learn's checks assume dense array output, so output="packed" is tested in
# tests/test_random_features.py and tests/test_quantization.py instead.


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
