"""A database that cannot be reached: commands say which and what to check, without a
traceback; pages and the API answer 503 and change nothing. (Losing PostgreSQL in the
middle of a scan: tests/integration/test_database_lost.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client

from inventory.api import sources as sources_api
from inventory.models import Source
from inventory.views import sources as source_views

REPO = Path(__file__).resolve().parents[2]


def _manage(*args: str, database_url: str, allowed: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PROVENA_"))}
    env.update(
        DATABASE_URL=database_url, PROVENA_ALLOWED_ROOTS=str(allowed), SECRET_KEY="test-only"
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("database_url", "named"),
    [
        # A SQLite file whose folder is gone (an unmounted volume, a deleted data directory).
        ("sqlite:///{tmp}/gone/provena.sqlite3", "SQLite database {tmp}/gone/provena.sqlite3"),
        # A PostgreSQL server that is not running (nothing listens on port 1).
        (
            "postgres://provena:secret@127.0.0.1:1/provena",
            "postgresql database provena on 127.0.0.1:1",
        ),
    ],
)
def test_scan_without_its_database_says_which_and_what_to_check(
    tmp_path: Path, database_url: str, named: str
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"not scanned")

    done = _manage(
        "scan", str(folder), "--no-progress", database_url=database_url.format(tmp=tmp_path),
        allowed=tmp_path,
    )  # fmt: skip

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"the {named.format(tmp=tmp_path)} cannot be used: " in done.stderr
    assert "Check that it is running and reachable (DATABASE_URL)" in done.stderr
    assert "secret" not in done.stderr  # the password in DATABASE_URL is never shown


def test_any_command_without_its_database_fails_plainly(tmp_path: Path) -> None:
    done = _manage(
        "export_findings", "--format", "json",
        database_url=f"sqlite:///{tmp_path}/gone/provena.sqlite3", allowed=tmp_path,
    )  # fmt: skip

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("manage.py export_findings: the SQLite database ")


def _lose_database(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_page_whose_database_is_gone_answers_503(
    client: Client, role_users, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(role_users["auditor"])
    monkeypatch.setattr(source_views, "sources_visible_to", _lose_database)

    response = client.get("/sources/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "the database is not answering, so nothing was read or changed" in response.text


def test_an_api_write_whose_database_is_gone_answers_503_and_changes_nothing(
    client: Client, role_users, archives: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(role_users["administrator"])
    (archives / "new").mkdir()
    monkeypatch.setattr(sources_api, "source_register", _lose_database)

    response = client.post(
        "/api/sources/", {"root": str(archives / "new")}, content_type="application/json"
    )

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the database is not answering")
    assert not Source.objects.exists()
