"""Drawing random Fourier frequencies: each kernel's spectral density under each scheme.

DESIGN §2. Every scheme keeps each frequency's marginal law equal to the
kernel's spectral density, so E[z(x)^T z(y)] = k(x, y), except ``structured``
(SORF), whose rows are only approximately Gaussian: its bias is O(1/sqrt(d))
(Yu et al., NeurIPS 2016, Theorem 7) and it is tested to the same error bound.

References
----------
Rahimi & Recht, "Random Features for Large-Scale Kernel Machines", NeurIPS 2007.
Yu, Suresh, Choromanski, Holtmann-Rice & Kumar, "Orthogonal Random Features", NeurIPS 2016.
Zhang, May, Dao & Ré, "Low-Precision Random Fourier Features for Memory-Constrained
Kernel Approximation", AISTATS 2019 (circulant blocks), arXiv:1811.00155.
May et al., "Kernel Approximation Methods for Speech Recognition", JMLR 2019 (sparse
Gaussian and Laplacian features), arXiv:1701.03577.
"""

import numpy as np
from scipy import stats

from .kernels import MATERN_NUS, SHIFT_INVARIANT_KERNELS

_MIN_HADAMARD_LOG2 = 6
SAMPLING_SCHEMES = ("iid", "orthogonal", "structured", "circulant", "qmc")

#: Which sampling schemes keep each kernel's spectral law (see module docstring).
ALLOWED_SAMPLING = {
    "rbf": ("iid", "orthogonal", "structured", "circulant", "qmc"),
    "laplacian": ("iid", "circulant", "qmc"),
    "matern": ("iid", "orthogonal", "structured", "circulant", "qmc"),
    "sparse_rbf": ("iid",),
}
_WHY_NOT = {
    "orthogonal": "orthogonal rows need a rotation-invariant spectral density (rbf or matern)",
    "structured": "Hadamard blocks need a rotation-invariant spectral density (rbf or matern)",
    "qmc": "the sparse spectral density has no inverse CDF over all coordinates",
    "circulant": ("shifted copies of one sparse row share its nonzeros, so the features are far "
                  "from independent"),
}
_KERNEL_PARAMS = {"rbf": {}, "laplacian": {}, "matern": {"nu": 1.5}, "sparse_rbf": {"n_nonzero": 5}}


def resolve_kernel_params(kernel, kernel_params):
    """Validate ``kernel``/``kernel_params`` and return the full parameter dict."""
    if kernel not in SHIFT_INVARIANT_KERNELS:
        raise ValueError(
            f"kernel must be one of {SHIFT_INVARIANT_KERNELS}, got {kernel!r}."
        )
    params = dict(_KERNEL_PARAMS[kernel])
    given = dict(kernel_params or {})
    unknown = set(given) - set(params)
    if unknown:
        raise ValueError(
            f"kernel_params {sorted(unknown)} are not used by kernel={kernel!r}; "
            f"it accepts {sorted(params) or 'none'}."
        )
    params.update(given)
    if kernel == "matern" and params["nu"] not in MATERN_NUS:
        raise ValueError(f"matern kernel_params['nu'] must be one of {MATERN_NUS}, got {params['nu']!r}.")
    if kernel == "sparse_rbf":
        k = params["n_nonzero"]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"sparse_rbf kernel_params['n_nonzero'] must be an int >= 1, got {k!r}.")
    return params


def check_sampling(kernel, sampling):
    """Raise a ValueError naming the reason when ``sampling`` does not fit ``kernel``."""
    if sampling not in SAMPLING_SCHEMES:
        raise ValueError(f"sampling must be one of {SAMPLING_SCHEMES}, got {sampling!r}.")
    if sampling not in ALLOWED_SAMPLING[kernel]:
        raise ValueError(
            f"sampling={sampling!r} does not fit kernel={kernel!r}: {_WHY_NOT[sampling]}. "
            f"Use one of {ALLOWED_SAMPLING[kernel]}."
        )


def _radial_scale(kernel, params, gamma, size, rng):
    """Per-frequency scale turning a standard Gaussian vector into the kernel's density.

    rbf: sqrt(2 gamma). matern: sqrt(2 gamma) * sqrt(2 nu / u), u ~ chi2(2 nu), which
    makes the multivariate t with 2 nu degrees of freedom (the Matérn spectral density).
    """
    scale = np.full(size, np.sqrt(2.0 * gamma))
    if kernel == "matern":
        nu = params["nu"]
        scale *= np.sqrt(2.0 * nu / rng.chisquare(2.0 * nu, size=size))
    return scale


def _iid(kernel, params, gamma, d, f, rng):
    if kernel == "laplacian":
        return gamma * rng.standard_cauchy(size=(d, f))
    if kernel == "sparse_rbf":
        k = min(params["n_nonzero"], d)
        weights = np.zeros((d, f))
        for j in range(f):
            rows = rng.choice(d, size=k, replace=False)
            weights[rows, j] = rng.standard_normal(k) * np.sqrt(2.0 * gamma)
        return weights
    return rng.standard_normal(size=(d, f)) * _radial_scale(kernel, params, gamma, f, rng)


def _orthogonal(kernel, params, gamma, d, f, rng):
    """ORF: rows of Haar-random orthogonal d x d blocks, rescaled by chi_d norms."""
    blocks = []
    for _ in range(-(-f // d)):
        q, r = np.linalg.qr(rng.standard_normal((d, d)))
        q *= np.sign(np.diag(r))  # Haar measure
        norms = np.sqrt(rng.chisquare(d, size=d))
        blocks.append(q.T * norms[:, None])  # rows are frequencies
    omega = np.vstack(blocks)[:f]
    return (omega * _radial_scale(kernel, params, gamma, f, rng)[:, None]).T


def _qmc(kernel, params, gamma, d, f, rng):
    """Scrambled Halton points mapped through the inverse CDF of the spectral density."""
    extra = 1 if kernel == "matern" else 0
    points = stats.qmc.Halton(d + extra, scramble=True, seed=rng).random(f)
    points = np.clip(points, 1e-12, 1.0 - 1e-12)
    if kernel == "laplacian":
        return (gamma * np.tan(np.pi * (points - 0.5))).T
    omega = stats.norm.ppf(points[:, :d]) * np.sqrt(2.0 * gamma)
    if kernel == "matern":
        nu = params["nu"]
        omega *= np.sqrt(2.0 * nu / stats.chi2.ppf(points[:, d], 2.0 * nu))[:, None]
    return omega.T


def draw_frequencies(kernel, params, gamma, n_features, n_frequencies, sampling, rng):
    """Draw the frequency map. Returns a dict of the arrays that define it.

    * ``iid``, ``orthogonal``, ``qmc``: ``{"weights": (d, f)}``.
    * ``circulant``: ``{"circulant_vectors": (n_blocks, d), "circulant_signs": (n_blocks, d)}``;
      block rows are cyclic shifts of the vector times the signs; for matern also
      ``"frequency_scales": (f,)``, each row's multivariate-t scale.
    * ``structured``: ``{"hadamard_signs": (n_blocks, 3, p), "frequency_scales": (f,)}``.
    """
    d, f = n_features, n_frequencies
    if sampling == "iid":
        return {"weights": _iid(kernel, params, gamma, d, f, rng)}
    if sampling == "orthogonal":
        return {"weights": _orthogonal(kernel, params, gamma, d, f, rng)}
    if sampling == "qmc":
        return {"weights": _qmc(kernel, params, gamma, d, f, rng)}
    if sampling == "circulant":
        n_blocks = -(-f // d)
        base = "rbf" if kernel == "matern" else kernel
        vectors = _iid(base, params, gamma, d, n_blocks, rng).T
        signs = rng.choice([-1.0, 1.0], size=(n_blocks, d))
        drawn = {"circulant_vectors": vectors, "circulant_signs": signs}
        if kernel == "matern":
            # one chi-square scale per frequency, not per block: a shared heavy-tailed
            # scale would leave only f / d independent draws and inflate the variance
            drawn["frequency_scales"] = _radial_scale(kernel, params, gamma, f, rng) / np.sqrt(2.0 * gamma)
        return drawn
    # structured (SORF): sqrt(p) H D1 H D2 H D3 with H normalized equals
    # p**-1 * (unnormalized H) D1 H D2 H D3, hence the 1 / p in the scales.
    # blocks of at least 64: for small d, p x p Hadamard products have nearly discrete
    # entries and the kernel estimate is heavily biased (0.15 mean error at d = 1, p = 1)
    p = 1 << max(int(np.ceil(np.log2(d))), _MIN_HADAMARD_LOG2)
    n_blocks = -(-f // p)
    signs = rng.choice([-1.0, 1.0], size=(n_blocks, 3, p))
    scales = _radial_scale(kernel, params, gamma, f, rng) / p
    return {"hadamard_signs": signs, "frequency_scales": scales}


def circulant_weights(vectors, signs, n_frequencies):
    """Materialize the (d, f) weights of circulant blocks: row r of block = roll(g, r) * s."""
    n_blocks, d = vectors.shape
    shifts = (np.arange(d)[:, None] - np.arange(d)[None, :]) % d  # circulant(g)[r, c] = g[(c - r) % d]
    rows = vectors[:, shifts.T] * signs[:, None, :]  # (n_blocks, d rows, d cols)
    return rows.reshape(n_blocks * d, d)[:n_frequencies].T
