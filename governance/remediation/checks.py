"""Refuse a quarantine root that overlaps a registered source; warn when it is short of space."""

from __future__ import annotations

from django.core.checks import Error, Warning, register
from django.db import DatabaseError

from governance.checks import low_space_warning


@register()
def quarantine_root_check(app_configs: object, **kwargs: object) -> list[Error]:
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


@register()
def quarantine_root_space_check(app_configs: object, **kwargs: object) -> list[Warning]:
    """Warn in manage.py check when the quarantine root is short of space."""
    from governance.remediation.services.execution import quarantine_root

    return low_space_warning(
        label="the quarantine root", folder=quarantine_root(), check_id="provena.W101"
    )
