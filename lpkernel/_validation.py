"""Parameter checks shared by the estimators (clear ValueErrors at the boundary)."""

import numbers

import numpy as np


def check_int(value, name, *, low=None, high=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.")
    return int(value)


def check_real(value, name, *, low=None, low_inclusive=False, high=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.")
    return float(value)


def check_option(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}.")
    return value


def check_n_jobs(n_jobs):
    """Resolve scikit-learn's n_jobs convention to a positive thread count."""
    from joblib import effective_n_jobs

    if n_jobs is not None:
        check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning; use None, a positive int or -1.")
    return max(1, effective_n_jobs(n_jobs))


def seed_from(random_state):
    """A uint64 seed for the counter-based noise, drawn from ``random_state``."""
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    return np.uint64(rng.randint(0, 2**63 - 1, dtype=np.int64))
