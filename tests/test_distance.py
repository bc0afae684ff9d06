"""siamese.distance: the one Euclidean distance and nearest-k every module measures with."""
import numpy as np
import pytest

from siamese.distance import distances, nearest, nearest_distances, paired_distances, squared_distances, squared_norms


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.normal(size=(7, 16)).astype(np.float32), rng.normal(size=(40, 16)).astype(np.float32)


def test_distances_match_the_definition(points):
    q, r = points
    direct = np.sqrt(((q[:, None, :].astype(np.float64) - r[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(distances(q, r), direct, rtol=1e-5)
    np.testing.assert_allclose(squared_distances(q, r, squared_norms(r)), direct ** 2, rtol=1e-4)
    np.testing.assert_allclose(paired_distances(q, r[:7]), np.diag(direct[:, :7]), rtol=1e-6)


def test_a_point_is_at_distance_zero_from_itself_never_negative(points):
    _, r = points
    d = distances(r, r)
    assert (d >= 0).all() and np.allclose(np.diag(d), 0, atol=1e-2)  # float32 rounding of |a|^2 - 2a.a + |a|^2


def test_nearest_is_sorted_and_agrees_with_all_distances(points):
    q, r = points
    idx, dist = nearest(q[0], r, k=5)
    full = distances(q[:1], r)[0]
    assert list(idx) == list(np.argsort(full, kind="stable")[:5])
    np.testing.assert_allclose(dist, np.sort(full)[:5], rtol=1e-5)
    assert dist.dtype == np.float32 and (np.diff(dist) >= 0).all()
    assert len(nearest(q[0], r[:3], k=5)[0]) == 3  # fewer references than k
    assert len(nearest(q[0], np.zeros((0, 16), np.float32), k=5)[0]) == 0


def test_nearest_distances_in_chunks_equal_the_minimum(points):
    q, r = points
    np.testing.assert_allclose(nearest_distances(q, r, chunk=2), distances(q, r).min(axis=1), rtol=1e-6)


@pytest.mark.parametrize("m", [0, 1, 2, 5, 6, 40])
def test_nearest_k_is_the_brute_force_order_for_every_set_size(m, points):
    """k below, at and above the number of references; with and without precomputed norms; the
    default k is 5; a query on a reference is at distance 0, not clamped above it."""
    q, r = points[0][0], points[1][:m]
    brute = np.sqrt(((r.astype(np.float64) - q) ** 2).sum(1))
    for k in (1, 4, 5, 6, 50):
        for norms in (None, squared_norms(r)):
            idx, d = nearest(q, r, k, norms)
            assert idx.tolist() == np.argsort(brute, kind="stable")[:k].tolist()
            np.testing.assert_allclose(d, np.sort(brute)[:k], rtol=1e-4, atol=1e-5)
    assert len(nearest(q, r)[0]) == min(5, m)
    if m:
        idx, d = nearest(r[0], r, 1)
        assert idx.tolist() == [0] and d[0] < 1e-3
        assert nearest_distances(r[:1], r)[0] < 1e-3 and nearest_distances(r[:1], r, squared_norms(r))[0] < 1e-3
