"""PostgreSQL going away in the middle of a scan: the scan says so plainly, keeps no half
batch, and a rerun once the database is back records the in-process inventory."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import (
    PYTHON,
    REPO,
    Tree,
    _admin,
    clean_env,
    findings,
    inventory,
    manage,
    query,
)
from tests.integration.test_distributed_scan import _by_master

pytestmark = pytest.mark.integration


def _recorded(url: str) -> int:
    try:
        return query(url, "SELECT COUNT(*) FROM inventory_copy")[0][0]
    except psycopg.Error:
        return 0


def _batch_paths(url: str) -> tuple[set[str], set[str]]:
    """Return the paths of the done batches and of the others."""
    done: set[str] = set()
    other: set[str] = set()
    for status, paths in query(url, "SELECT status, paths FROM inventory_scanbatch"):
        (done if status == "done" else other).update(paths)
    return done, other


def test_a_scan_whose_database_goes_away_stops_cleanly_and_a_rerun_completes_it(
    new_database, tree: Tree, reference, tmp_path: Path
) -> None:
    url = new_database()
    name = url.rsplit("/", 1)[1]
    env = clean_env(
        DATABASE_URL=url,
        PROVENA_ALLOWED_ROOTS=str(tree.allowed),
        PROVENA_MEDIA_ROOT=str(tmp_path / "media"),
        PROVENA_SCAN_BATCH_SIZE="2",
    )
    scan = subprocess.Popen(
        [PYTHON, "manage.py", "scan", str(tree.root), "--workers", "1", "--no-progress"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while scan.poll() is None and _recorded(url) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scan.poll() is None, "the scan finished before the database could go; grow the tree"
        # The database goes away: no new connections, and the scan's own is cut.
        _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        stdout, stderr = scan.communicate(timeout=120)
    finally:
        if scan.poll() is None:
            scan.kill()
            scan.wait()
        _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    assert scan.returncode == 1
    assert "Traceback" not in stderr
    assert f"postgresql database {name} on 127.0.0.1" in stderr
    assert "Run the scan again once the database is back" in stderr
    # Each batch is recorded whole or not at all.
    done, other = _batch_paths(url)
    copies = {row[0] for row in query(url, "SELECT path FROM inventory_copy")}
    assert done and other
    assert copies <= done and not copies & other
    verified = manage(env, "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    rerun = manage(env, "scan", str(tree.root), "--workers", "1", "--no-progress")

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert inventory(url) == reference.inventory
    assert _by_master(findings(env)) == _by_master(reference.findings)
    statuses = [row[0] for row in query(url, "SELECT status FROM inventory_scan ORDER BY id")]
    assert statuses[-1] == "finished" and statuses[0] in ("interrupted", "failed")
