"""Scans spread over real Celery workers on PostgreSQL and Redis equal in-process scans."""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import Cluster, copy_events, findings, inventory, manage, query

pytestmark = pytest.mark.integration


def _batches(url: str) -> list[tuple[int, str, int, str]]:
    return query(
        url, "SELECT index, status, attempts, worker FROM inventory_scanbatch ORDER BY index"
    )


def _duplicate_discoveries(url: str) -> list[tuple]:
    return query(
        url,
        "SELECT object_id, COUNT(*) FROM governance_auditevent WHERE event_type = 'discovered' "
        "GROUP BY object_id HAVING COUNT(*) > 1",
    )


def _by_master(document: dict) -> dict:
    """Return the findings with groups keyed by their master copy instead of database ids.

    Asset ids follow the order in which batches were recorded, which differs between runs
    with several workers; what the groups hold must not.
    """
    groups = {}
    for group in document["groups"]:
        master = group["master"]
        groups[(master["source"], master["path"])] = {
            k: v for k, v in group.items() if k not in ("id", "asset")
        }
    return {**document, "groups": groups}


def _assert_same_as_reference(cluster: Cluster, reference) -> None:
    assert inventory(cluster.url) == reference.inventory
    assert _by_master(findings(cluster.env())) == _by_master(reference.findings)
    assert copy_events(cluster.url) == reference.copy_events
    assert not _duplicate_discoveries(cluster.url)
    verified = manage(cluster.env(), "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_two_workers_record_the_in_process_inventory(cluster: Cluster, reference):
    workers = [cluster.start_worker("one"), cluster.start_worker("two")]

    status = cluster.wait(cluster.start_scan("--workers", "2"))

    assert status == 0, cluster.logs()
    output = cluster.log("scan.log")
    assert "queued" in output and "Celery workers" in output
    assert "finished" in output
    _assert_same_as_reference(cluster, reference)
    batches = _batches(cluster.url)
    assert len(batches) > 4 and all(status == "done" for _, status, _, _ in batches)
    # Both workers did some of the work.
    pids = {worker.rsplit(":", 1)[1] for _, _, _, worker in batches}
    assert pids == {str(w.pid) for w in workers}
    ((scan_status, runner),) = query(
        cluster.url, "SELECT status, parameters->>'runner' FROM inventory_scan"
    )
    assert (scan_status, runner) == ("finished", "celery")
    # The face pass ran on the workers too: every rendition checked, once, and the newsroom's
    # two copies of the astronaut's portrait opened one privacy case.
    assert query(
        cluster.url, "SELECT COUNT(*) FROM inventory_rendition WHERE faces_checked_at IS NULL"
    ) == [(0,)]
    assert query(cluster.url, "SELECT COUNT(*) FROM privacy_privacycase") == [(1,)]


def test_a_worker_killed_mid_batch_loses_nothing(cluster: Cluster, reference):
    # A killed worker's batch goes back to the queue after the visibility timeout.
    cluster.settings["PROVENA_CELERY_VISIBILITY_TIMEOUT"] = "4"
    victim = cluster.start_worker("victim")
    cluster.start_worker("survivor")
    scan = cluster.start_scan("--workers", "2")

    held: list[tuple] = []
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline and scan.poll() is None:
        done = query(cluster.url, "SELECT COUNT(*) FROM inventory_scanbatch WHERE status='done'")
        if done[0][0]:
            held = query(
                cluster.url,
                "SELECT index FROM inventory_scanbatch WHERE status = 'pending' "
                "AND attempts > 0 AND worker LIKE %s",
                f"%:{victim.pid}",
            )
        if not held:
            time.sleep(0.01)
    assert held, f"the victim never held a batch after the first was done:\n{cluster.logs()}"
    cluster.kill(victim)
    (killed_index,) = held[0]
    (still_pending,) = query(
        cluster.url,
        "SELECT status = 'pending' FROM inventory_scanbatch WHERE index = %s",
        killed_index,
    )[0]
    cluster.start_worker("replacement")

    status = cluster.wait(scan)

    assert status == 0, cluster.logs()
    _assert_same_as_reference(cluster, reference)
    batches = {index: (status, attempts) for index, status, attempts, _ in _batches(cluster.url)}
    assert all(status == "done" for status, _ in batches.values())
    if still_pending:  # killed before its batch committed: the broker handed it out again
        assert batches[killed_index][1] >= 2


def test_a_scan_without_workers_fails_and_says_how_to_start_them(cluster: Cluster):
    cluster.settings["PROVENA_SCAN_STALE_SECONDS"] = "10"

    status = cluster.wait(cluster.start_scan(), timeout=60)

    assert status != 0
    assert "celery -A governance worker" in cluster.log("scan.log")
    ((scan_status, reason),) = query(
        cluster.url, "SELECT status, failure_reason FROM inventory_scan"
    )
    assert scan_status == "failed"
    assert "no Celery worker took any" in reason
    assert query(cluster.url, "SELECT COUNT(*) FROM inventory_copy")[0][0] == 0
