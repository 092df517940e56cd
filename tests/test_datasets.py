"""The bundled data sets: shapes, dtypes, a fixed split, and the license beside them."""

from importlib import resources

import numpy as np
import pytest

from lpkernel.datasets import load_abalone, load_ijcnn1


def test_ijcnn1_split_is_fixed_and_stratified():
    a = load_ijcnn1(dtype=np.float32)
    b = load_ijcnn1(return_X_y=True, dtype=np.float64)
    assert a.X_train.dtype == np.float32 and b[0].dtype == np.float64
    assert a.X_train.shape == (39992, 22) and a.X_test.shape == (9998, 22)
    np.testing.assert_array_equal(a.X_train, b[0].astype(np.float32))
    np.testing.assert_array_equal(a.y_test, b[3])
    # stratified: both sides have the set's 9.7 % positives
    assert abs((a.y_train == 1).mean() - (a.y_test == 1).mean()) < 0.001
    assert np.abs(a.X_train).max() <= 1.0 + 1e-6  # the published scaling to [-1, 1]


def test_abalone_and_dtype_validation():
    X_train, X_test, y_train, y_test = load_abalone(return_X_y=True, test_size=0.25)
    assert X_train.shape[1] == 8 and len(X_train) + len(X_test) == 4177
    assert abs(len(X_test) / 4177 - 0.25) < 0.001
    assert y_train.min() >= 1 and y_train.max() <= 29  # rings
    with pytest.raises(ValueError, match="float32 or float64"):
        load_abalone(dtype=np.int64)


def test_license_ships_with_the_data():
    text = (resources.files("lpkernel.datasets") / "data" / "LICENSE.tick-datasets").read_text()
    assert "BSD 3-Clause" in text
