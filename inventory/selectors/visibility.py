"""Which sources, copies and matches a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import User
from governance.roles import is_organisation_wide
from inventory.models import Copy, Source
from inventory.source_overlap import contested_roots


def sources_visible_to(*, user: User) -> QuerySet[Source]:
    """Return the sources the user may see: their department's, or all for organisation roles."""
    sources = Source.objects.select_related("department")
    if is_organisation_wide(user=user):
        return sources
    if user.department_id is None:
        return sources.none()
    own = sources.filter(department_id=user.department_id)
    # A file belongs to the department whose source holds it. A source overlapping another
    # department's (registered before overlaps were refused) holds files of both, so neither
    # department sees it until an administrator resolves the overlap.
    contested = contested_roots(Source.objects.values_list("pk", "root", "department_id"))
    return own.exclude(pk__in=contested) if contested else own


def copies_visible_to(*, user: User) -> QuerySet[Copy]:
    """Return the copies in the sources the user may see."""
    return Copy.objects.filter(source__in=sources_visible_to(user=user)).select_related(
        "source", "rendition"
    )
