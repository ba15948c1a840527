#!/usr/bin/env python
"""Django's command-line entry point for Provena."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a management command."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    from django.core.management import execute_from_command_line
    from django.db import InterfaceError, OperationalError

    try:
        execute_from_command_line(sys.argv)
    except (OperationalError, InterfaceError) as exc:
        if os.environ.get("PROVENA_DEBUG", "").lower() in ("1", "true", "yes", "on"):
            raise
        # A database that is down or missing is an operator's problem, not a bug: say which
        # and what to check, without a traceback.
        from governance.database import database_failure

        sys.stderr.write(f"manage.py {' '.join(sys.argv[1:2])}: {database_failure(exc)}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
