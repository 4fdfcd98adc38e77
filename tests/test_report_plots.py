"""Point labels of the Pareto plot: two variants of about the same cost and score must not
print their names over each other."""

from __future__ import annotations

from bench.report.plots import label_offsets


def test_close_points_get_their_labels_apart():
    # (GFLOPs, mIoU) of the facades cpu report: concat and pix2pixhd nearly coincide
    pts = [(1.291, 0.130), (0.336, 0.0567), (0.065, 0.157), (0.419, 0.0556)]
    assert label_offsets(pts) == [(6, 4), (6, 4), (6, 4), (6, -10)]


def test_apart_points_keep_the_default_place():
    assert label_offsets([(0.1, 0.1), (1.0, 0.5), (2.0, 0.9)]) == [(6, 4)] * 3
    # three at one spot: only two rows, so the second and third share the lower one
    assert label_offsets([(1.0, 0.5), (1.0, 0.5), (1.0, 0.5), (3.0, 0.9)]) == [
        (6, 4), (6, -10), (6, -10), (6, 4)]
    # on a log axis closeness is a ratio: 10 and 11 are close, 0.01 and 0.02 are far
    pts = [(0.01, 0.5), (0.02, 0.5), (10.0, 0.5), (11.0, 0.5)]
    assert label_offsets(pts, log_x=True) == [(6, 4), (6, 4), (6, 4), (6, -10)]
