"""Which sources, copies and matches a user may see, and what of a duplicate group."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from governance.models import User
from governance.roles import is_organisation_wide
from inventory.models import Copy, Source
from inventory.selectors.groups import EVERY_MEMBER, MemberScope
from inventory.source_overlap import contested_roots


def sources_visible_to(*, user: User) -> QuerySet[Source]:
    """Return the sources the user may see: their department's, or all for organisation roles."""
    sources = Source.objects.select_related("department")
    if is_organisation_wide(user=user):
        return sources
    if user.department_id is None:
        return sources.none()
    return department_sources(department_id=user.department_id)


def department_sources(*, department_id: int) -> QuerySet[Source]:
    """Return the sources a user of the department sees (organisation-wide roles see all)."""
    own = Source.objects.select_related("department").filter(department_id=department_id)
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


def member_scope_for(*, user: User) -> MemberScope:
    """Return what the user sees of groups: every member if organisation-wide, else those in
    the sources the user may see."""
    if is_organisation_wide(user=user):
        return EVERY_MEMBER
    return MemberScope(frozenset(sources_visible_to(user=user).values_list("pk", flat=True)))


def member_scope_for_audience(*, sources: Iterable[Source]) -> MemberScope:
    """Return what every reader of something about these sources may see of groups.

    A report on one department's sources may be read by that department's users (and by
    organisation-wide roles), so it lists only that department's members; one spanning
    several departments, or a source without one, is for organisation-wide roles only.
    """
    sources = list(sources)
    departments = {source.department_id for source in sources}
    (department_id,) = departments if len(departments) == 1 else (None,)
    if department_id is None:
        return EVERY_MEMBER
    visible = department_sources(department_id=department_id).values_list("pk", flat=True)
    # A source hidden from its department (an overlap) is read by organisation-wide roles.
    return MemberScope(frozenset(visible) | {source.pk for source in sources})
