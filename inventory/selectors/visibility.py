"""Which sources, copies and matches a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import User
from governance.roles import is_organisation_wide
from inventory.models import Copy, Source


def sources_visible_to(*, user: User) -> QuerySet[Source]:
    """Return the sources the user may see: their department's, or all for organisation roles."""
    sources = Source.objects.select_related("department")
    if is_organisation_wide(user=user):
        return sources
    if user.department_id is None:
        return sources.none()
    return sources.filter(department_id=user.department_id)


def copies_visible_to(*, user: User) -> QuerySet[Copy]:
    """Return the copies in the sources the user may see."""
    return Copy.objects.filter(source__in=sources_visible_to(user=user)).select_related(
        "source", "rendition"
    )
