"""A scan killed with SIGKILL part-way and run again ends with the clean run's inventory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory.sample_archive import build_sample_archive, make_camera_corpus

REPO = Path(__file__).resolve().parents[2]


def _env(db: Path, allowed: Path, media: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "PROVENA_ALLOWED_ROOTS": str(allowed),
            "PROVENA_MEDIA_ROOT": str(media),
            "PROVENA_SCAN_BATCH_SIZE": "2",
            "SECRET_KEY": "test-only",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        **kwargs,
    )


def _copies(db: Path) -> set[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT c.path, c.size, c.sha256, c.state, c.problem, r.pixel_hash, r.phash "
            "FROM inventory_copy c LEFT JOIN inventory_rendition r ON r.id = c.rendition_id"
        ).fetchall()
    return set(rows)


def _findings(env: dict[str, str]) -> dict:
    document = json.loads(_manage(env, "export_findings", "--format", "json").stdout)
    document.pop("generated_at")
    return document


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "archives" / "newsroom"
    build_sample_archive(tmp_path / "archives")
    # Enough distinct photographs that the scan takes many batches.
    make_camera_corpus(root / "corpus", 40, megapixels=0.3, seed=3)
    for path in sorted((root / "corpus").iterdir())[:10]:
        shutil.copy2(path, root / "corpus" / f"copy_of_{path.name}")
    return root


def test_killed_scan_rerun_gives_the_clean_inventory(tree: Path, tmp_path: Path):
    allowed = tree.parent
    clean_env = _env(tmp_path / "clean.sqlite3", allowed, tmp_path / "media-clean")
    killed_env = _env(tmp_path / "killed.sqlite3", allowed, tmp_path / "media-killed")
    for env in (clean_env, killed_env):
        _manage(env, "migrate", "--noinput")

    _manage(clean_env, "scan", str(tree), "--workers", "1", "--no-progress")

    proc = subprocess.Popen(
        [sys.executable, "manage.py", "scan", str(tree), "--workers", "1", "--no-progress"],
        cwd=REPO,
        env=killed_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    killed_db = tmp_path / "killed.sqlite3"
    recorded = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(killed_db, timeout=1) as conn:
                recorded = conn.execute("SELECT COUNT(*) FROM inventory_copy").fetchone()[0]
        except sqlite3.OperationalError:
            recorded = 0
        if recorded >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the scan finished before it could be killed; grow the tree"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _copies(killed_db)
    assert 0 < len(partial) < len(_copies(tmp_path / "clean.sqlite3"))

    rerun = _manage(killed_env, "scan", str(tree), "--workers", "1", "--no-progress")
    assert "finished" in rerun.stdout
    assert _copies(killed_db) == _copies(tmp_path / "clean.sqlite3")
    assert _findings(killed_env) == _findings(clean_env)
    with sqlite3.connect(killed_db) as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM inventory_scan ORDER BY id")]
    assert statuses == ["interrupted", "finished"]
