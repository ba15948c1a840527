"""Read the copies list: one filter definition for the copies page and the copies API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django_filters.widgets import BooleanWidget

from inventory.models import Copy


class CopyFilter(django_filters.FilterSet):
    """The filters of the copies list, used by `/copies/` and `/api/copies/` alike."""

    source = django_filters.CharFilter(field_name="source__name", help_text="Source name.")
    path = django_filters.CharFilter(
        field_name="path", lookup_expr="icontains", help_text="Part of the path."
    )
    format = django_filters.CharFilter(
        field_name="rendition__format", lookup_expr="iexact", help_text="Image format (JPEG)."
    )
    q = django_filters.CharFilter(
        method="filter_text", help_text="Part of the path, or a whole SHA-256."
    )
    has_problem = django_filters.BooleanFilter(
        method="filter_problem",
        widget=BooleanWidget,
        help_text="Only files with (or without) a problem.",
    )
    # The page's checkbox sends problems=1; the API's documented name is has_problem.
    problems = django_filters.BooleanFilter(method="filter_problem", widget=BooleanWidget)

    class Meta:
        model = Copy
        fields = ["source", "state", "sha256", "path", "format"]

    def filter_text(self, queryset: QuerySet[Copy], name: str, value: str) -> QuerySet[Copy]:
        return queryset.filter(Q(path__icontains=value) | Q(sha256=value.lower()))

    def filter_problem(self, queryset: QuerySet[Copy], name: str, value: bool) -> QuerySet[Copy]:
        return queryset.exclude(problem="") if value else queryset.filter(problem="")
