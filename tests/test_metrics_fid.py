"""FID/KID code (torch-fidelity's, called through bench.metrics.fidelity) against
independent numpy/scipy references and closed forms."""

import numpy as np
import pytest
import scipy.linalg
import torch

from bench.metrics.fidelity import frechet_distance, kernel_distance


def ref_fid(x: np.ndarray, y: np.ndarray) -> float:
    """Heusel et al.: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), scipy sqrtm."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def ref_kid(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(a, b) = (a.b / d + 1)^3."""
    d, m = x.shape[1], x.shape[0]
    k = lambda a, b: (a @ b.T / d + 1) ** 3
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    off = lambda K: (K.sum() - np.trace(K)) / (m * (m - 1))
    return float(off(kxx) + off(kyy) - 2 * kxy.mean())


def exact_moments(rng, n: int, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """n samples whose sample mean is exactly `mean` and sample covariance exactly diag(var)."""
    z = rng.standard_normal((n, len(mean)))
    z -= z.mean(0)
    # whiten so that np.cov(z) == I exactly (Cholesky of the sample covariance)
    L = np.linalg.cholesky(np.cov(z, rowvar=False))
    z = z @ np.linalg.inv(L).T
    return z * np.sqrt(var) + mean


def test_fid_matches_scipy_reference_on_random_gaussians():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 16))
    b = rng.standard_normal((250, 16)) @ rng.standard_normal((16, 16)) * 0.5 + 0.3
    ours = frechet_distance(torch.from_numpy(a), torch.from_numpy(b))
    assert ours == pytest.approx(ref_fid(a, b), rel=1e-6)


def test_fid_closed_form_identity_covariances():
    # N(mu1, I) vs N(mu2, I): FID = |mu1 - mu2|^2 exactly when the sample moments are exact
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    a = exact_moments(rng, 200, mu1, np.ones(8))
    b = exact_moments(rng, 150, mu2, np.ones(8))
    expected = float(((mu1 - mu2) ** 2).sum())
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-7)


def test_fid_closed_form_diagonal_covariances():
    # diag(v1) vs diag(v2): FID = |dmu|^2 + sum (sqrt v1 - sqrt v2)^2
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    v1, v2 = rng.uniform(0.2, 3.0, 6), rng.uniform(0.2, 3.0, 6)
    a, b = exact_moments(rng, 120, mu1, v1), exact_moments(rng, 90, mu2, v2)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum())
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-6)


def test_identical_sets_give_zero_fid_and_kid():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal((200, 12)))
    assert abs(frechet_distance(x, x)) < 1e-6
    shifted = x + 1.0
    kid_same, _ = kernel_distance(x, x, subset_size=100, subsets=20)
    kid_diff, _ = kernel_distance(x, shifted, subset_size=100, subsets=20)
    assert kid_diff > 0.1
    assert abs(kid_same) < 0.01 * kid_diff


def test_kid_matches_numpy_reference():
    # subset size = n: every subset is a permutation of the whole set, and MMD^2 is
    # permutation invariant, so one reference evaluation on the full sets must match.
    rng = np.random.default_rng(4)
    a = rng.standard_normal((80, 10)).astype(np.float64)
    b = (rng.standard_normal((80, 10)) * 1.3 + 0.4).astype(np.float64)
    mean, std = kernel_distance(torch.from_numpy(a), torch.from_numpy(b), subset_size=80, subsets=3)
    assert mean == pytest.approx(ref_kid(a, b), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)
