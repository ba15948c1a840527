"""Reads behind reports: what a report covers (sources, departments, a period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from inventory.models import Source


class ScopeError(ValueError):
    """A report scope that names unknown sources or departments, or an impossible period."""


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a report covers: source names, department codes and a first-seen period."""

    sources: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ScopeError(
                f"the period starts ({self.date_from}) after it ends ({self.date_to}); "
                "swap the dates"
            )

    @property
    def has_period(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the period as [start, end) instants in the organisation's time zone."""
        zone = timezone.get_current_timezone()
        start = end = None
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=zone)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=zone)
        return start, end

    def as_json(self) -> dict:
        return {
            "sources": list(self.sources),
            "departments": list(self.departments),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> ReportScope:
        return cls(
            sources=tuple(data.get("sources") or ()),
            departments=tuple(data.get("departments") or ()),
            date_from=date.fromisoformat(data["from"]) if data.get("from") else None,
            date_to=date.fromisoformat(data["to"]) if data.get("to") else None,
        )

    def describe_period(self) -> str:
        if self.date_from and self.date_to:
            return f"{self.date_from:%d %b %Y} to {self.date_to:%d %b %Y}"
        if self.date_from:
            return f"from {self.date_from:%d %b %Y}"
        if self.date_to:
            return f"up to {self.date_to:%d %b %Y}"
        return "all time"


def scope_sources(
    *, scope: ReportScope, within: QuerySet[Source] | None = None
) -> QuerySet[Source]:
    """Return the sources a scope covers, refusing names or codes that do not exist."""
    sources = (within if within is not None else Source.objects.all()).select_related("department")
    if scope.sources:
        known = set(sources.filter(name__in=scope.sources).values_list("name", flat=True))
        unknown = sorted(set(scope.sources) - known)
        if unknown:
            raise ScopeError(f"unknown source(s): {', '.join(unknown)}")
        sources = sources.filter(name__in=scope.sources)
    if scope.departments:
        known = set(
            sources.filter(department__code__in=scope.departments).values_list(
                "department__code", flat=True
            )
        )
        unknown = sorted(set(scope.departments) - known)
        if unknown:
            raise ScopeError(f"no source in scope belongs to department(s): {', '.join(unknown)}")
        sources = sources.filter(department__code__in=scope.departments)
    return sources.order_by("name")


def filter_to_period(queryset: QuerySet, field_name: str, scope: ReportScope) -> QuerySet:
    """Return the rows whose field_name instant lies within the scope's period."""
    start, end = scope.bounds()
    if start:
        queryset = queryset.filter(**{f"{field_name}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{field_name}__lt": end})
    return queryset
