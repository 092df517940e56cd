"""lpkernel.metrics: eigenspace overlap score and eigenspace instability, against their
definitions computed plainly with n x n matrices."""

import numpy as np
import pytest

from lpkernel.metrics import eigenspace_instability, eigenspace_overlap_score


def left_singular(X):
    return np.linalg.svd(X, full_matrices=False)[0]


def brute_force_eos(X, X_tilde):
    U, U_tilde = left_singular(X), left_singular(X_tilde)
    return np.linalg.norm(U.T @ U_tilde, "fro") ** 2 / max(X.shape[1], X_tilde.shape[1])


def brute_force_eis(X, X_tilde, E, E_tilde, alpha):
    U, U_tilde = left_singular(X), left_singular(X_tilde)
    difference = U @ U.T - U_tilde @ U_tilde.T
    sigma = (np.linalg.matrix_power(E @ E.T, alpha)
             + np.linalg.matrix_power(E_tilde @ E_tilde.T, alpha))
    return np.trace(difference @ difference @ sigma) / np.trace(sigma)


def test_eos_matches_definition(rng):
    X, X_tilde = rng.normal(size=(60, 6)), rng.normal(size=(60, 9))
    X_tilde[:, :3] += 2 * X[:, :3]  # share some directions, so the value is not tiny
    value = eigenspace_overlap_score(X, X_tilde)
    assert abs(value - brute_force_eos(X, X_tilde)) < 1e-12
    assert 0.2 < value < 1  # independent random spaces would give about 6 * 9 / 60 / 9 = 0.1


def test_eos_limits_and_invariance(rng):
    Q = np.linalg.qr(rng.normal(size=(50, 50)))[0]
    X = rng.normal(size=(50, 5))
    assert abs(eigenspace_overlap_score(X, X) - 1) < 1e-12
    assert abs(eigenspace_overlap_score(Q[:, :4], Q[:, 4:8])) < 1e-12  # orthogonal spaces
    rotation = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    other = rng.normal(size=(50, 7))
    base = eigenspace_overlap_score(X, other)
    assert abs(eigenspace_overlap_score(X @ rotation, other) - base) < 1e-12
    assert abs(eigenspace_overlap_score(X @ rng.normal(size=(5, 5)), other) - base) < 1e-10
    assert abs(eigenspace_overlap_score(other, X) - base) < 1e-12
    assert abs(eigenspace_overlap_score(X, X[:, :2]) - 2 / 5) < 1e-12  # a shared 2-D subspace


def test_eos_rank_deficient_uses_the_column_space(rng):
    X = rng.normal(size=(40, 3))
    doubled = np.hstack([X, X])  # 6 columns, rank 3
    assert abs(eigenspace_overlap_score(doubled, X) - 1) < 1e-12


@pytest.mark.parametrize("alpha", [1, 3])
def test_eis_matches_definition(rng, alpha):
    X, X_tilde = rng.normal(size=(40, 4)), rng.normal(size=(40, 6))
    X_tilde[:, :2] += X[:, :2]
    E, E_tilde = rng.normal(size=(40, 10)), rng.normal(size=(40, 12))
    value = eigenspace_instability(X, X_tilde, E, E_tilde, alpha=alpha)
    assert abs(value - brute_force_eis(X, X_tilde, E, E_tilde, alpha)) < 1e-12
    assert 0 < value < 1


def test_eis_limits(rng):
    X, E = rng.normal(size=(40, 4)), rng.normal(size=(40, 10))
    assert abs(eigenspace_instability(X, X, E, E)) < 1e-12
    assert abs(eigenspace_instability(X, X @ rng.normal(size=(4, 4)), E, 2 * E)) < 1e-12
    # Sigma on the anchors' space: X spanning exactly E's space and X~ orthogonal to it is maximal
    Q = np.linalg.qr(rng.normal(size=(40, 40)))[0]
    assert abs(eigenspace_instability(Q[:, :3], Q[:, 3:6], Q[:, :3], Q[:, :3]) - 1) < 1e-12


def test_eigenspace_bad_input(rng):
    X = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="rows"):
        eigenspace_overlap_score(X, X[:20])
    with pytest.raises(ValueError, match="rows"):
        eigenspace_instability(X, X, X[:20], X)
    with pytest.raises(ValueError, match="NaN"):
        eigenspace_overlap_score(X, np.full((30, 2), np.nan))
    with pytest.raises(ValueError, match="alpha"):
        eigenspace_instability(X, X, X, X, alpha=-1)
    with pytest.raises(ValueError, match="zero"):
        eigenspace_overlap_score(np.zeros((30, 2)), np.zeros((30, 2)))
