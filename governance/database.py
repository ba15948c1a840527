"""Describe a database that cannot be used, for the people running commands and pages."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError

# What a lost or refused connection raises (also SQLite's "unable to open database file"),
# and a full disk: SQLite's SQLITE_FULL and PostgreSQL's DiskFull are OperationalErrors too.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
_FULL_MARKERS = ("database or disk is full", "could not extend file", "no space left on device")


def database_label() -> str:
    """Return which database the settings name, without credentials."""
    database = settings.DATABASES["default"]
    engine = str(database.get("ENGINE", "")).rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"SQLite database {database.get('NAME')}"
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{engine} database {database.get('NAME')!s} on {host}{port}"


def database_full(exc: BaseException) -> bool:
    """Return whether the database refused a write because its disk or quota is full."""
    cause = exc.__cause__ or exc
    # PostgreSQL: class 53 "insufficient resources", 53100 disk_full ("could not extend file").
    if getattr(cause, "sqlstate", None) == "53100" or getattr(cause, "pgcode", None) == "53100":
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _FULL_MARKERS)


def database_failure(exc: BaseException) -> str:
    """Return one paragraph saying which database failed, how, and what to check."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc).__name__
    if database_full(exc):
        return (
            f"the {database_label()} is out of disk space: {reason}. The write in progress "
            "was rolled back whole. Free space on the volume that holds the database (or "
            "raise its quota), then run the command again."
        )
    return (
        f"the {database_label()} cannot be used: {reason}. Check that it is running and "
        "reachable (DATABASE_URL) and that `manage.py migrate` has run."
    )
