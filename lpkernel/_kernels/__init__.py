"""Numba-compiled kernels: the thin compiled core under lpkernel's estimators.

Every kernel takes validated, C-contiguous arrays and scalars only. Each has a
plain-NumPy reference in ``tests/reference.py`` that the tests compare it to.
"""
