"""The audit log: hash chaining, tamper detection, scan events, read-only page, API and admin."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

import inventory.services.recording as recording
from governance.audit import (
    GENESIS_HASH,
    EventSpec,
    audit_head,
    audit_record,
    audit_record_many,
    audit_verify,
)
from governance.models import AuditEvent
from inventory.imaging.examine import examine_batch
from inventory.models import Copy, Rendition, Scan, Source
from inventory.services.recording import scan_record_batch
from inventory.services.scan import scan_run
from inventory.services.scan_lifecycle import scan_start
from tests.factories import UserFactory
from tests.inventory.scan_helpers import scan_folder, source_named

pytestmark = pytest.mark.django_db

EVENTS = AuditEvent.objects


@contextmanager
def tampering():
    """Let the test change audit rows as the table owner (PostgreSQL refuses it otherwise)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Deferred foreign-key checks from this test's inserts must run before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE governance_auditchainhead DISABLE TRIGGER USER")
        yield cursor
        if postgres:
            cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE governance_auditchainhead ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def verify_fails() -> str:
    """Run verify_audit_log, expect it to fail, and return its message."""
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log")
    return str(failure.value)


@pytest.fixture
def log() -> list[AuditEvent]:
    """Record ten events on copies 1..10 (seq 1..10) and return them."""
    audit_record_many(
        [
            EventSpec(
                event_type=AuditEvent.EventType.FIXITY_COMPUTED,
                object_type="copy",
                object_id=n,
                detail={"path": f"stills/{n:02d}.jpg", "sha256": f"{n:064x}", "size": 1000 + n},
            )
            for n in range(1, 11)
        ]
    )
    return list(EVENTS.order_by("seq"))


# --- the chain ---------------------------------------------------------------------------------


def test_each_event_carries_the_hash_of_the_one_before(log) -> None:
    user = UserFactory(username="officer")
    audit_record(
        event_type="reviewed", object_type="asset", object_id=7, user=user, detail={"ok": True}
    )
    events = list(EVENTS.order_by("seq"))

    assert [e.seq for e in events] == list(range(1, 12))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == 11
    assert (events[-1].agent, events[-1].agent_user_id) == ("officer", user.pk)
    assert events[0].agent == "Provena 0.1.0" and events[0].agent_user_id is None
    head = audit_head()
    assert (head.count, head.seq, head.hash) == (11, 11, events[-1].hash)


def test_event_hash_is_sha256_of_the_documented_canonical_json(log) -> None:
    event = log[2]
    canonical = json.dumps(
        {
            "agent": event.agent,
            "agent_user": None,
            "detail": event.detail,
            "event_type": "fixity_computed",
            "object_id": "3",
            "object_type": "copy",
            "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "outcome": "success",
            "prev_hash": log[1].hash,
            "seq": 3,
            "source_id": None,
        },
        sort_keys=True,
        separators=(",", ":"),
    )

    assert hashlib.sha256(canonical.encode()).hexdigest() == event.hash


def test_verify_passes_on_an_untouched_log(log, capsys) -> None:
    call_command("verify_audit_log")

    first, *_notes = capsys.readouterr().out.splitlines()
    assert first == f"audit log verified: 10 events, head {log[-1].hash}"


def test_verify_passes_on_an_empty_log(capsys) -> None:
    call_command("verify_audit_log")

    first, *_notes = capsys.readouterr().out.splitlines()
    assert first == f"audit log verified: 0 events, head {GENESIS_HASH}"


def test_details_that_would_not_survive_the_database_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        audit_record(event_type="matched", object_type="copy", object_id=1, detail={"d": 0.5})
    with pytest.raises(ValueError, match="unknown audit event type"):
        audit_record(event_type="deleted", object_type="copy", object_id=1)
    assert not EVENTS.exists()


# --- tampering ---------------------------------------------------------------------------------


def test_editing_a_column_in_sql_fails_verification_naming_the_event(log) -> None:
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET outcome = 'failure' WHERE seq = 4")

    message = verify_fails()

    assert "event 4 (fixity_computed copy 4) was altered" in message
    assert audit_verify().first_bad_seq == 4


def test_editing_an_events_detail_fails_verification_naming_the_event(log) -> None:
    with tampering():
        EVENTS.filter(seq=6).update(detail={**log[5].detail, "sha256": "f" * 64})

    message = verify_fails()

    assert "at event 6" in message
    assert "event 6 (fixity_computed copy 6) was altered" in message


def test_an_edit_whose_hash_was_recomputed_breaks_the_link_to_the_next_event(log) -> None:
    forged = {
        "agent": log[4].agent,
        "agent_user": None,
        "detail": {**log[4].detail, "size": 1},
        "event_type": "fixity_computed",
        "object_id": "5",
        "object_type": "copy",
        "occurred_at": log[4].occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "outcome": "success",
        "prev_hash": log[3].hash,
        "seq": 5,
        "source_id": None,
    }
    new_hash = hashlib.sha256(
        json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    with tampering():
        EVENTS.filter(seq=5).update(detail=forged["detail"], hash=new_hash)

    message = verify_fails()

    assert "event 6 (fixity_computed copy 6) is out of order" in message
    assert audit_verify().first_bad_seq == 6


def test_deleting_a_middle_event_fails_verification_naming_it(log) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 7")

    message = verify_fails()

    assert "event 7 is missing (deleted)" in message
    assert "from event 6 to event 8 (fixity_computed copy 8)" in message
    assert audit_verify().first_bad_seq == 7


def test_deleting_the_first_event_fails_verification(log) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 1")

    assert "event 1 is missing (deleted): the log starts" in verify_fails()


def test_deleting_the_last_events_fails_verification_against_the_chain_head(log) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq >= 9")

    message = verify_fails()

    assert "events 9 to 10 are missing (deleted)" in message
    assert "the chain head records 10 events up to event 10" in message
    result = audit_verify()
    assert (result.ok, result.checked, result.first_bad_seq) == (False, 8, 9)


def test_deleting_only_the_last_event_fails_verification(log) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 10")

    assert "event 10 is missing (deleted)" in verify_fails()


def test_swapping_two_events_seq_fails_verification_at_the_first(log) -> None:
    with tampering() as cursor:
        cursor.execute("UPDATE governance_auditevent SET seq = 1000 WHERE seq = 3")
        cursor.execute("UPDATE governance_auditevent SET seq = 3 WHERE seq = 8")
        cursor.execute("UPDATE governance_auditevent SET seq = 8 WHERE seq = 1000")

    message = verify_fails()

    # Row 3 now holds what was event 8 (on copy 8), and its content no longer hashes right.
    assert "event 3 (fixity_computed copy 8) was altered" in message
    assert audit_verify().first_bad_seq == 3


def test_an_event_added_behind_the_chain_heads_back_is_found(log) -> None:
    with tampering() as cursor:
        cursor.execute(
            "INSERT INTO governance_auditevent (seq, occurred_at, event_type, agent, object_type, "
            "object_id, outcome, detail, prev_hash, hash) "
            "SELECT 11, occurred_at, event_type, agent, object_type, '99', outcome, detail, "
            "hash, 'forged' FROM governance_auditevent WHERE seq = 10"
        )

    assert "event 11 (fixity_computed copy 99) lies beyond the chain head" in verify_fails()


def test_verification_reads_in_chunks_and_finds_damage_past_the_first_chunk(log) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 8")

    for chunk_size in (1, 3, 7, 100):
        result = audit_verify(chunk_size=chunk_size)
        assert (result.ok, result.checked, result.first_bad_seq) == (False, 7, 8)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE governance_auditevent SET outcome = 'failure' WHERE seq = 2",
        "DELETE FROM governance_auditevent WHERE seq = 10",
        "UPDATE governance_auditchainhead SET seq = 1, count = 1",
        "DELETE FROM governance_auditchainhead",
    ],
)
def test_postgresql_refuses_to_change_or_delete_audit_rows(log, sql: str) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only|only moves forward"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert audit_verify().ok


# --- events from scans -------------------------------------------------------------------------


def _events(event_type: str, **filters) -> list[AuditEvent]:
    return list(EVENTS.filter(event_type=event_type, **filters).order_by("seq"))


def test_a_scan_records_discovery_fixity_and_metadata_for_the_right_copies(sample_archive):
    scan = scan_folder(sample_archive["newsroom"], name="newsroom")
    source = source_named("newsroom")
    copies = {str(c.pk): c for c in Copy.objects.filter(source=source)}

    (registered,) = _events("source_registered")
    assert (registered.object_id, registered.detail["root"]) == (str(source.pk), source.root)
    discovered = _events("discovered")
    assert sorted(e.object_id for e in discovered) == sorted(copies)
    assert all(e.detail["path"] == copies[e.object_id].path for e in discovered)
    fixity = _events("fixity_computed")
    hashed = {pk for pk, c in copies.items() if c.sha256}
    assert sorted(e.object_id for e in fixity) == sorted(hashed)
    for event in fixity:
        copy = copies[event.object_id]
        assert (event.detail["sha256"], event.detail["size"]) == (copy.sha256, copy.size)
        assert event.source_id == source.pk and event.detail["scan"] == scan.pk
    metadata = _events("metadata_extracted")
    renditions = set(Rendition.objects.filter(copies__source=source).values_list("pk", flat=True))
    assert sorted(e.detail["rendition"] for e in metadata) == sorted(renditions)
    for event in metadata:
        assert copies[event.object_id].rendition_id == event.detail["rendition"]
    # Files that are not images are discovered and hashed, but hold no metadata.
    empty = Copy.objects.get(source=source, path="incoming/empty.jpg")
    assert str(empty.pk) in {e.object_id for e in discovered}
    assert str(empty.pk) not in {e.object_id for e in metadata}
    (finished,) = _events("scan_finished")
    assert finished.object_id == str(scan.pk)
    assert finished.detail["files_new"] == scan.files_new == len(copies)
    assert audit_verify().ok


def test_a_second_unchanged_scan_records_only_that_it_finished(sample_archive):
    scan_folder(sample_archive["film_archive"], name="film_archive")
    before = Counter(EVENTS.values_list("event_type", flat=True))

    second = scan_run(source=source_named("film_archive"), workers=1)

    after = Counter(EVENTS.values_list("event_type", flat=True))
    assert before["discovered"] > 0
    assert after - before == Counter({"scan_finished": 1})
    assert EVENTS.order_by("-seq").first().object_id == str(second.pk)


def test_a_changed_file_records_its_new_hash_and_the_previous_one(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    copy = Copy.objects.get(path="stills/coffee.jpg")
    (root / "stills" / "coffee.jpg").write_bytes((root / "stills" / "chelsea.jpg").read_bytes())

    scan_run(source=source_named("film_archive"), workers=1)

    latest = _events("fixity_computed", object_id=str(copy.pk))[-1]
    copy.refresh_from_db()
    assert latest.detail["sha256"] == copy.sha256
    assert latest.detail["previous_sha256"] != copy.sha256
    assert not _events("discovered", object_id=str(copy.pk))[1:]


def test_a_retried_batch_records_no_second_set_of_events(sample_archive, settings):
    root = sample_archive["web_team"]
    source = Source.objects.get(pk=scan_folder(root, name="web_team").source_id)
    Copy.objects.filter(source=source).delete()
    scan = scan_start(source=source, started_by=None, parameters={})
    paths = ["images/hero.jpg", "thumbs/astronaut_160.jpg"]
    exams = examine_batch(str(root), paths, thumbnail_dir=None, max_pixels=10**8)
    count = EVENTS.count()

    scan_record_batch(scan=scan, examinations=exams)
    recorded = EVENTS.count() - count
    scan_record_batch(scan=scan, examinations=exams)

    assert recorded >= 4  # discovered and fixity for each file at least
    assert EVENTS.count() - count == recorded


def test_a_batch_that_fails_leaves_neither_copies_nor_events(sample_archive, monkeypatch):
    root = sample_archive["web_team"]
    source = Source.objects.get(pk=scan_folder(root, name="web_team").source_id)
    Copy.objects.filter(source=source).delete()
    scan = scan_start(source=source, started_by=None, parameters={})
    exams = examine_batch(str(root), ["images/hero.jpg"], thumbnail_dir=None, max_pixels=10**8)
    head = audit_head()
    real = recording.audit_record_many

    def record_then_die(events):
        real(events)
        raise RuntimeError("killed after the events were written")

    monkeypatch.setattr(recording, "audit_record_many", record_then_die)
    with pytest.raises(RuntimeError):
        scan_record_batch(scan=scan, examinations=exams)

    assert audit_head() == head
    assert not Copy.objects.filter(source=source).exists()
    assert audit_verify().ok


def test_a_scan_of_an_unreachable_root_records_a_failure(sample_archive):
    import shutil

    root = sample_archive["web_team"]
    scan_folder(root, name="web_team")
    shutil.rmtree(root)

    scan = scan_run(source=source_named("web_team"), workers=1)

    (failed,) = _events("scan_failed")
    assert (failed.object_id, failed.outcome) == (str(scan.pk), "failure")
    assert "not reachable" in failed.detail["reason"]


def test_registering_a_source_from_the_api_names_the_user(archives, role_users):
    (archives / "incoming").mkdir()

    response = _api(role_users["compliance"]).post(
        "/api/sources/", {"root": str(archives / "incoming"), "department": "LCSD"}, format="json"
    )

    assert response.status_code == 201
    (event,) = _events("source_registered")
    assert (event.agent, event.agent_user_id) == ("compliance", role_users["compliance"].pk)
    assert event.detail["department"] == "LCSD"


# --- reading: page, API, admin -----------------------------------------------------------------


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", ["compliance", "legal", "manager", "auditor", "administrator"])
def test_every_role_reads_the_audit_page_with_the_chain_head(role_users, scanned_archive, role):
    client = Client()
    client.force_login(role_users[role])

    response = client.get("/audit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert audit_head().hash[:16] in page
    assert "verified" in page
    assert "discovered" in page


def test_audit_page_and_api_refuse_a_user_without_a_role(scanned_archive):
    nobody = UserFactory(username="nobody")
    client = Client()
    client.force_login(nobody)

    assert client.get("/audit/").status_code == 403
    assert _api(nobody).get("/api/audit-events/").status_code == 403
    assert _api().get("/api/audit-events/").status_code == 401
    assert Client().get("/audit/").status_code == 302


def test_audit_page_filters_by_event_type_and_object(role_users, scanned_archive):
    scan = scanned_archive["film_archive"]
    client = Client()
    client.force_login(role_users["auditor"])

    response = client.get("/audit/", {"event_type": "scan_finished", "object_type": "scan"})

    rows = response.context["page"].object_list
    assert {e.event_type for e in rows} == {"scan_finished"}
    assert len(rows) == 3
    one = client.get("/audit/", {"object_type": "scan", "object_id": str(scan.pk)})
    assert [e.object_id for e in one.context["page"].object_list] == [str(scan.pk)]


def test_audit_page_shows_one_line_per_event_a_page_at_a_time(role_users, scanned_archive):
    from inventory.models import Match
    from reports.views.audit import EVENTS_PER_PAGE

    total = AuditEvent.objects.count()
    assert total > EVENTS_PER_PAGE
    client = Client()
    client.force_login(role_users["auditor"])

    first = client.get("/audit/").content.decode()

    rows = re.findall(r'<tr>\s*<td class="num">(\d+)</td>', first)
    assert [int(seq) for seq in rows] == list(range(total, total - EVENTS_PER_PAGE, -1))
    pages = -(-total // EVENTS_PER_PAGE)
    assert f"Page 1 of {pages} · {total} in all" in first and "Next →" in first
    # A long detail is one summary line; every field opens in place.
    finished = AuditEvent.objects.filter(event_type="scan_finished").order_by("-seq").first()
    row = re.search(rf'<td class="num">{finished.seq}</td>(.*?)</tr>', first, re.S).group(1)
    summary = re.search(r"<summary>(.*?)</summary>", row, re.S).group(1)
    first_key = sorted(finished.detail)[0]  # keys in name order, whatever the database keeps
    assert summary.startswith(f"{first_key}: ")
    assert summary.endswith(f"{len(finished.detail) - 3} more")
    assert row.count("<dt>") == len(finished.detail)
    second = client.get("/audit/", {"page": 2}).content.decode()
    assert re.findall(r'<tr>\s*<td class="num">(\d+)</td>', second)[0] == str(
        total - EVENTS_PER_PAGE
    )

    matched = client.get("/audit/", {"event_type": "matched", "object_type": "match"})
    html = matched.content.decode()
    assert f"{Match.objects.count()} events match the filter" in html
    some = Match.objects.first()
    assert f'<a href="/review/{some.pk}/">match {some.pk}</a>' in html


def test_audit_page_of_a_long_log_verifies_when_asked(role_users, log, monkeypatch):
    import reports.views.audit

    monkeypatch.setattr(reports.views.audit, "AUTO_VERIFY_LIMIT", 5)
    client = Client()
    client.force_login(role_users["auditor"])

    unverified = client.get("/audit/").content.decode()
    verified = client.get("/audit/", {"verify": "1"}).content.decode()

    assert "Verify now" in unverified and "verified just now" not in unverified
    assert "10 events verified just now" in verified


def test_audit_page_shows_a_broken_chain(role_users, log):
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 2")
    client = Client()
    client.force_login(role_users["auditor"])

    page = client.get("/audit/").content.decode()

    assert "does not verify" in page and "event 2 is missing" in page


def test_a_department_reads_only_the_events_of_its_sources(role_users, scanned_archive):
    film = Source.objects.get(name="film_archive")

    mine = _api(role_users["compliance"]).get("/api/audit-events/")
    everything = _api(role_users["auditor"]).get("/api/audit-events/")

    assert mine.status_code == 200
    source_ids = {row["source_id"] for row in mine.json()["results"]}
    assert source_ids == {film.pk}
    assert mine.json()["count"] == EVENTS.filter(source_id=film.pk).count()
    assert everything.json()["count"] == EVENTS.count()


def test_api_filters_events_by_type_and_object(role_users, scanned_archive):
    copy = Copy.objects.get(source__name="film_archive", path="stills/coins.jpg")
    client = _api(role_users["auditor"])

    response = client.get("/api/audit-events/", {"object_type": "copy", "object_id": str(copy.pk)})
    typed = client.get("/api/audit-events/", {"event_type": "source_registered"})

    rows = response.json()["results"]
    assert [r["event_type"] for r in rows] == [
        "discovered",
        "fixity_computed",
        "metadata_extracted",
    ]
    assert rows[1]["detail"]["sha256"] == copy.sha256
    assert set(rows[0]) == {
        "seq",
        "occurred_at",
        "event_type",
        "agent",
        "agent_user",
        "object_type",
        "object_id",
        "source_id",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    }
    assert typed.json()["count"] == 3


def test_api_offers_no_way_to_write_events(role_users, log):
    client = _api(role_users["administrator"])

    superuser = _api(UserFactory(username="root", is_superuser=True))

    # Without an add/change/delete permission the role is refused before the method is.
    assert client.post("/api/audit-events/", {"event_type": "reviewed"}).status_code == 403
    assert client.delete("/api/audit-events/3/").status_code == 403
    assert superuser.post("/api/audit-events/", {"event_type": "reviewed"}).status_code == 405
    assert superuser.put("/api/audit-events/3/", {"outcome": "failure"}).status_code == 405
    assert superuser.patch("/api/audit-events/3/", {"outcome": "failure"}).status_code == 405
    assert superuser.delete("/api/audit-events/3/").status_code == 405
    assert EVENTS.count() == 10 and audit_verify().ok


def test_admin_cannot_add_change_or_delete_events(log):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    event = log[2]

    assert client.get(f"/admin/governance/auditevent/{event.seq}/change/").status_code == 200
    changed = client.post(
        f"/admin/governance/auditevent/{event.seq}/change/",
        {"outcome": "failure", "object_id": "999", "detail": "{}"},
    )
    added = client.post("/admin/governance/auditevent/add/", {"event_type": "reviewed"})
    deleted = client.post(f"/admin/governance/auditevent/{event.seq}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/governance/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.seq], "post": "yes"},
    )

    assert (changed.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    assert bulk.status_code in (200, 302)
    assert EVENTS.count() == 10
    event.refresh_from_db()
    assert (event.outcome, event.object_id) == ("success", "3")
    assert audit_verify().ok


def test_scan_errors_do_not_leave_a_running_scan_without_a_failure_event(sample_archive):
    source = scan_folder(sample_archive["web_team"], name="web_team").source
    dead = scan_start(source=source, started_by=None, parameters={})
    Scan.objects.filter(pk=dead.pk).update(pid=2**22 + 12345)  # no such process

    scan_run(source=source, workers=1)

    (interrupted,) = _events("scan_failed", object_id=str(dead.pk))
    assert interrupted.detail["status"] == "interrupted"
