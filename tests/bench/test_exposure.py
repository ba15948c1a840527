"""The licence-exposure benchmark (bench/exposure.py) runs end to end on a small inventory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "exposure.py"


def test_the_exposure_bench_seeds_every_kind_of_exposure_and_times_the_lists():
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-test")}
    env.pop("DATABASE_URL", None)  # the bench makes its own temporary database
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--copies", "600"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seeded 600 copies" in done.stdout
    lists = re.search(
        r"organisation: exposure lists in [\d.]+ s \(([\d,]+) copies held outside their "
        r"licences, ([\d,]+) assets after their licences ended, ([\d,]+) bought twice\)",
        done.stdout,
    )
    assert lists, done.stdout
    assert all(int(n.replace(",", "")) > 0 for n in lists.groups())
    assert "NEWS: assets filtered to exposed:" in done.stdout
