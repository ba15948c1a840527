"""Refuse a quarantine root that overlaps a registered source (manage.py check)."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import DatabaseError


@register()
def quarantine_root_check(app_configs, **kwargs) -> list[Error]:
    """Report a quarantine root inside a source, or a source inside the quarantine root."""
    from governance.remediation.services.execution import quarantine_root_problem

    try:
        problem = quarantine_root_problem()
    except DatabaseError:
        return []  # no tables yet (before migrate): nothing is registered to overlap
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="set PROVENA_QUARANTINE_ROOT to a folder outside every source",
            id="provena.E101",
        )
    ]
