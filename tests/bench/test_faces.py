"""The face-accuracy benchmark's scoring and ground truth (bench/faces.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from inventory.imaging.faces import FacePolicy, examine_faces

_SPEC = importlib.util.spec_from_file_location(
    "bench_faces", Path(__file__).resolve().parents[2] / "bench" / "faces.py"
)
bench_faces = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_faces"] = bench_faces  # dataclasses look their module up there
_SPEC.loader.exec_module(bench_faces)


def test_iou_of_equal_disjoint_and_half_overlapping_boxes():
    assert bench_faces.iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert bench_faces.iou([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0
    assert bench_faces.iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)


def test_each_truth_box_is_matched_by_at_most_one_detection():
    truth = [[0, 0, 100, 100], [500, 500, 100, 100]]
    boxes = [[5, 5, 100, 100], [0, 0, 90, 90], [900, 900, 50, 50]]
    found, matched = bench_faces._match(truth, boxes)
    assert found == [True, False]
    assert matched == [True, False, False]


@pytest.mark.parametrize("portrait", sorted(bench_faces.PORTRAITS))
def test_a_pasted_face_is_where_the_ground_truth_says(tmp_path, portrait):
    rng = np.random.default_rng([1, 2])
    frame, box = bench_faces._pasted(rng, portrait, 200, bench_faces.WEB_FRAME)
    path = tmp_path / "pasted.jpg"
    frame.save(path, quality=90)
    faces = examine_faces(path, FacePolicy()).faces
    overlaps = [bench_faces.iou(box, [f.left, f.top, f.width, f.height]) for f in faces]
    assert max(overlaps, default=0) >= 0.5
    assert box[2] == pytest.approx(200)
