"""scikit-learn's estimator checks over every public estimator, in several configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from lpkernel import Nystroem, RandomFourierFeatures

ESTIMATORS = [
    RandomFourierFeatures(n_components=20, random_state=0),
    RandomFourierFeatures(n_components=20, n_bits=4, random_state=0),
    RandomFourierFeatures(n_components=20, n_bits=1, rounding="nearest", random_state=0),
    RandomFourierFeatures(n_components=20, kernel="laplacian", sampling="circulant",
                          features="sincos", n_bits=8, random_state=0),
    RandomFourierFeatures(n_components=20, kernel="matern", kernel_params={"nu": 0.5},
                          sampling="structured", random_state=0),
    Nystroem(n_components=10, random_state=0),
    Nystroem(n_components=10, sampling="kmeans", random_state=0),
    Nystroem(n_components=10, kernel="laplacian", sampling="rls", random_state=0),
    Nystroem(n_components=10, kernel="matern", kernel_params={"nu": 1.5}, sampling="rls",
             random_state=0),
]

# scikit-learn's checks assume dense array output, so output="packed" is tested in
# tests/test_random_features.py instead.


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
