"""Loaders for the bundled LIBSVM-format data sets."""

from importlib import resources

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

_DTYPES = (np.float32, np.float64)
_SPLIT_SEED = 20010715  # fixed: the split is part of the data set's definition


def _load(filename, n_features, dtype):
    if np.dtype(dtype) not in [np.dtype(d) for d in _DTYPES]:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")
    with resources.as_file(resources.files(__package__) / "data" / filename) as path:
        X, y = load_svmlight_file(str(path), n_features=n_features, dtype=np.float64)
    return np.ascontiguousarray(X.toarray(), dtype=dtype), y


def _finish(X, y, stratify, test_size, return_X_y, descr, feature_names, target_name):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=_SPLIT_SEED, stratify=stratify
    )
    if return_X_y:
        return X_train, X_test, y_train, y_test
    return Bunch(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                 feature_names=feature_names, target_name=target_name, DESCR=descr)


def load_ijcnn1(*, return_X_y=False, dtype=np.float64, test_size=0.2):
    """Load the IJCNN 2001 challenge set (49,990 x 22, binary), with a fixed split.

    Labels are -1/+1, about 9.7 % positive. The train/test split is fixed
    (stratified, seeded), so results are comparable across runs and machines.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X_train, X_test, y_train, y_test)`` instead of a Bunch.
    dtype : {np.float32, np.float64}, default=np.float64
    test_size : float, default=0.2
        Fraction of rows held out for testing.

    Returns
    -------
    data : Bunch with X_train, X_test, y_train, y_test, feature_names, target_name, DESCR
        or the tuple when ``return_X_y=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from lpkernel.datasets import load_ijcnn1
    >>> X_train, X_test, y_train, y_test = load_ijcnn1(return_X_y=True, dtype=np.float32)
    >>> X_train.shape, X_test.shape, X_train.dtype
    ((39992, 22), (9998, 22), dtype('float32'))
    >>> sorted(np.unique(y_train).tolist())
    [-1.0, 1.0]
    """
    X, y = _load("ijcnn1.trn.bz2", 22, dtype)
    descr = ("IJCNN 2001 neural network competition (Prokhorov), with the winner's transformation "
             "(Chang & Lin), from the LIBSVM data collection via tick-datasets (BSD 3-Clause).")
    return _finish(X, y, y, test_size, return_X_y, descr,
                   np.array([f"x{i}" for i in range(X.shape[1])], dtype=object), "label")


def load_abalone(*, return_X_y=False, dtype=np.float64, test_size=0.2):
    """Load UCI Abalone (4,177 x 8, regression: age from rings), with a fixed split.

    Parameters
    ----------
    return_X_y : bool, default=False
    dtype : {np.float32, np.float64}, default=np.float64
    test_size : float, default=0.2

    Examples
    --------
    >>> from lpkernel.datasets import load_abalone
    >>> data = load_abalone()
    >>> data.X_train.shape, data.X_test.shape
    ((3341, 8), (836, 8))
    """
    X, y = _load("abalone.trn.bz2", 8, dtype)
    descr = "UCI Abalone, from the LIBSVM data collection via tick-datasets (BSD 3-Clause)."
    return _finish(X, y, None, test_size, return_X_y, descr,
                   np.array([f"x{i}" for i in range(X.shape[1])], dtype=object), "rings")
