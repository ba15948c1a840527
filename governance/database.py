"""Describe a database that cannot be used, for the people running commands and pages."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError

# What a lost or refused connection raises (also SQLite's "unable to open database file").
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def database_label() -> str:
    """Return which database the settings name, without credentials."""
    database = settings.DATABASES["default"]
    engine = str(database.get("ENGINE", "")).rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"SQLite database {database.get('NAME')}"
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{engine} database {database.get('NAME')!s} on {host}{port}"


def database_failure(exc: BaseException) -> str:
    """Return one paragraph saying which database failed, how, and what to check."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc).__name__
    return (
        f"the {database_label()} cannot be used: {reason}. Check that it is running and "
        "reachable (DATABASE_URL) and that `manage.py migrate` has run."
    )
