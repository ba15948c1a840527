"""A database whose disk fills up: one plain message, and no batch recorded by halves.

The disk is filled at the database's edge: a query wrapper raises SQLite's own error
("database or disk is full", SQLITE_FULL) through Django's error translation, from the
first insert of the scan's audit events (after the batch's renditions and copies went in)
and for every write after it, as a full disk would.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import psycopg.errors
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import Client

from governance.database import database_failure, database_full
from inventory.models import Copy, Rendition, Scan, ScanError
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.sources import source_register
from inventory.views import sources as source_views

pytestmark = pytest.mark.django_db

_WRITES = ("INSERT", "UPDATE", "DELETE")


class _DiskFills:
    """Refuse every write from the first one that touches `table`."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.full = False
        self.refused = 0

    def __call__(self, execute, sql, params, many, context):
        statement = sql.lstrip().upper()
        if statement.startswith("INSERT") and f'"{self.table.upper()}"' in statement:
            self.full = True
        if self.full and statement.startswith(_WRITES):
            self.refused += 1
            with context["connection"].wrap_database_errors:
                raise sqlite3.OperationalError("database or disk is full")
        return execute(sql, params, many, context)


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="raises SQLite's own disk-full error; PostgreSQL's DiskFull is recognised by "
    "test_postgresql_disk_full_is_named_as_such",
)
def test_a_scan_whose_database_fills_up_says_so_once_and_records_no_half_batch(
    archives: Path,
) -> None:
    root = archives / "photos"
    root.mkdir()
    for photo in ("astronaut", "coffee", "rocket"):
        shutil.copyfile(PHOTOS_DIR / f"{photo}.jpg", root / f"{photo}.jpg")
    source_register(root=root)
    disk = _DiskFills("governance_auditevent")

    with connection.execute_wrapper(disk), pytest.raises(CommandError) as failure:
        call_command("scan", str(root), "--no-progress")

    message = str(failure.value)
    assert disk.refused >= 1
    assert message.startswith("the SQLite database ")
    assert "is out of disk space: database or disk is full." in message
    assert "Free space on the volume that holds the database" in message
    assert "once the database has room again" in message
    assert "Check that it is running" not in message  # not mistaken for a lost server
    assert message.count("database or disk is full") == 1
    assert failure.value.returncode == 1
    # The batch went in whole or not at all: no rendition, copy or error of it was kept.
    assert not Rendition.objects.exists()
    assert not Copy.objects.exists()
    assert not ScanError.objects.exists()
    # The full disk refused marking the scan failed too; it stays running until the next scan
    # finds its process gone, as after a lost database.
    assert Scan.objects.get().status == Scan.Status.RUNNING


def test_postgresql_disk_full_is_named_as_such() -> None:
    cause = psycopg.errors.DiskFull(
        'could not extend file "base/16384/16417": No space left on device'
    )
    error = OperationalError(str(cause))
    error.__cause__ = cause

    assert database_full(error)
    assert "is out of disk space: could not extend file" in database_failure(error)
    assert not database_full(OperationalError("server closed the connection unexpectedly"))


def test_a_page_whose_database_is_full_answers_503_and_says_why(
    client: Client, role_users, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(**kwargs):
        raise OperationalError("database or disk is full")

    client.force_login(role_users["auditor"])
    monkeypatch.setattr(source_views, "sources_visible_to", full)

    response = client.get("/sources/")

    assert response.status_code == 503
    assert "the database has run out of disk space, so nothing was changed" in response.text
