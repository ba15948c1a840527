"""make bench's verdicts on issue 8's targets (bench/run.py::_targets)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_run", Path(__file__).resolve().parents[2] / "bench" / "run.py"
)
bench_run = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_run"] = bench_run
_SPEC.loader.exec_module(bench_run)


def _figures(*, scan1: float, scan2: float, phash: float, floor: float, turbo: float) -> tuple:
    rates = {
        "provena scan, 1 worker": scan1,
        "provena scan, 2 workers": scan2,
        "reference: imagehash.phash, full decode (1 proc)": phash,
        "floor: bare reduced JPEG decode (1 process)": floor,
        "floor: bare reduced JPEG decode, TurboJPEG": turbo,
        "floor: bare reduced JPEG decode, 2 processes": 2 * floor,
        "provena unchanged rescan, small files": 5000.0,
        "reference: os.walk + os.stat, small files": 100_000.0,
    }
    results = {name: {"files_per_s": rate} for name, rate in rates.items()}
    ratios = {
        "scan_1w_vs_phash_full": scan1 / phash,
        "reduced_decode_vs_scan_1w": max(floor, turbo) / scan1,
        "scan_2w_vs_1w": scan2 / scan1,
    }
    joins = [{"hashes": 999_999, "seconds": 8.0}]
    faces = {
        "ms_per_rendition": 160.0,
        "cpu_ms_per_rendition": 158.0,
        "naive": {"upsample_1": {"ms_per_file": 4600.0}},
    }
    return results, ratios, joins, faces


def _verdicts(**figures: float) -> dict[str, bool]:
    return {row["what"]: row["met"] for row in bench_run._targets(*_figures(**figures))}


def test_every_target_is_met_by_figures_that_meet_them():
    verdicts = _verdicts(scan1=32.0, scan2=60.0, phash=7.5, floor=40.0, turbo=45.0)
    assert all(verdicts.values()), verdicts
    assert len(verdicts) == 6


@pytest.mark.parametrize(
    ("figures", "missed"),
    [
        ({"scan1": 28.0, "scan2": 56.0, "turbo": 40.0}, "scan, 1 worker, vs plain pHash"),
        ({"scan1": 32.0, "scan2": 56.0}, "scan, 2 workers vs 1 worker"),
        ({"scan1": 32.0, "scan2": 60.0, "turbo": 50.0}, "bare reduced decode"),
    ],
)
def test_a_figure_short_of_its_target_is_reported_not_met(figures, missed):
    verdicts = _verdicts(**{"phash": 7.5, "floor": 40.0, "turbo": 45.0, **figures})
    not_met = [what for what, met in verdicts.items() if not met]
    assert len(not_met) == 1 and not_met[0].startswith(missed), not_met
