"""Read the managers' dashboard figures: progress, ageing, burn-down, risk, savings."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from governance.models import User
from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.selectors.tasks import AGE_BUCKETS, Status, tasks_overdue, today
from inventory.models import Source

BYTES_PER_GB = 1_000_000_000
BURN_DOWN_DAYS = 30


def _department_code(task_department_code: str | None) -> str:
    return task_department_code or "(none)"


@dataclass(slots=True)
class DepartmentProgress:
    """Tasks of one department by status, with overdue and the share closed."""

    department: str
    counts: dict[str, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def closed(self) -> int:
        return sum(self.counts.get(s, 0) for s in RemediationTask.CLOSED)

    @property
    def percent_closed(self) -> int:
        return round(100 * self.closed / self.total) if self.total else 0

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


def progress_by_department(
    *, tasks: QuerySet[RemediationTask], day: date
) -> list[DepartmentProgress]:
    """Return each department's tasks by status, sorted by department."""
    rows: dict[str, DepartmentProgress] = {}
    for code, status, due in tasks.values_list("department__code", "status", "due_date"):
        row = rows.setdefault(
            _department_code(code), DepartmentProgress(department=_department_code(code))
        )
        row.counts[status] = row.counts.get(status, 0) + 1
        if status in (Status.OPEN, Status.IN_PROGRESS) and due < day:
            row.overdue += 1
    return sorted(rows.values(), key=lambda r: r.department)


def status_counts(*, tasks: QuerySet[RemediationTask]) -> dict[str, int]:
    """Return the number of tasks in each status (every status listed)."""
    counts = Counter(tasks.values_list("status", flat=True))
    return {status: counts.get(status, 0) for status in Status.values}


def age_bucket(days: int) -> str:
    """Return the label of the ageing bucket for work this many days old."""
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][0]


def ageing(*, tasks: QuerySet[RemediationTask], day: date) -> dict[str, int]:
    """Return outstanding tasks by age since the decision, in bucket order."""
    counts = {label: 0 for label, _, _ in AGE_BUCKETS}
    for created in tasks.filter(status__in=RemediationTask.OUTSTANDING).values_list(
        "created_at", flat=True
    ):
        counts[age_bucket((day - timezone.localdate(created)).days)] += 1
    return counts


def burn_down(
    *, tasks: QuerySet[RemediationTask], day: date, days: int = BURN_DOWN_DAYS
) -> list[tuple[date, int]]:
    """Return the tasks not yet closed (verified or waived) at the end of each of the days."""
    first = day - timedelta(days=days - 1)
    zone = timezone.get_current_timezone()
    ends = [
        datetime.combine(first + timedelta(days=i + 1), time.min, tzinfo=zone) for i in range(days)
    ]
    changes = (
        TaskChange.objects.filter(task__in=tasks.values("pk"), at__lt=ends[-1])
        .order_by("at", "pk")
        .values_list("task_id", "at", "to_status")
    )
    closed = set(RemediationTask.CLOSED)
    state: dict[int, bool] = {}  # task -> outstanding
    remaining = 0
    points: list[tuple[date, int]] = []
    index = 0
    for task_id, at, to_status in changes.iterator(chunk_size=5000):
        while index < len(ends) and at >= ends[index]:
            points.append((first + timedelta(days=index), remaining))
            index += 1
        outstanding = to_status not in closed
        before = state.get(task_id, False)
        if outstanding != before:
            remaining += 1 if outstanding else -1
        state[task_id] = outstanding
    while index < len(ends):
        points.append((first + timedelta(days=index), remaining))
        index += 1
    return points


@dataclass(slots=True)
class SourceRisk:
    """One source's outstanding remediation, ranked by risk."""

    source: str
    department: str
    risk_tier: str
    outstanding: int = 0
    personal_data: int = 0
    critical: int = 0
    overdue: int = 0
    reclaimable_bytes: int = 0

    @property
    def rank(self) -> tuple:
        # Duplicated personal data in external-facing sources first, then by amount of work.
        return (
            -self.critical,
            -(self.personal_data if self.risk_tier == "external" else 0),
            -self.personal_data,
            self.risk_tier != "external",
            -self.overdue,
            -self.outstanding,
            self.source,
        )


def risk_by_source(*, tasks: QuerySet[RemediationTask], day: date) -> list[SourceRisk]:
    """Return each source with outstanding work, riskiest first."""
    rows: dict[str, SourceRisk] = {}
    seen_copies: set[int] = set()
    for name, dept, tier, severity, personal, status, due, action, copy_id, size in tasks.filter(
        status__in=RemediationTask.OUTSTANDING
    ).values_list(
        "copy__source__name",
        "copy__source__department__code",
        "copy__source__risk_tier",
        "severity",
        "personal_data",
        "status",
        "due_date",
        "action",
        "copy_id",
        "size",
    ):
        row = rows.setdefault(
            name, SourceRisk(source=name, department=_department_code(dept), risk_tier=tier)
        )
        row.outstanding += 1
        row.personal_data += int(personal)
        row.critical += int(severity == RemediationTask.Severity.CRITICAL)
        row.overdue += int(status in (Status.OPEN, Status.IN_PROGRESS) and due < day)
        if action in RemediationTask.REMOVALS and copy_id not in seen_copies:
            seen_copies.add(copy_id)
            row.reclaimable_bytes += size
    return sorted(rows.values(), key=lambda r: r.rank)


@dataclass(slots=True)
class Savings:
    """Bytes still to reclaim and bytes reclaimed, with the estimated money they stand for."""

    name: str
    reclaimable_bytes: int = 0
    reclaimed_bytes: int = 0
    reclaimable_files: int = 0
    reclaimed_files: int = 0

    @staticmethod
    def _per_year(size: int, files: int) -> float:
        storage = size / BYTES_PER_GB * settings.PROVENA_STORAGE_COST_PER_GB_MONTH * 12
        return storage + files * settings.PROVENA_LICENCE_FEE_PER_FILE_YEAR

    @property
    def reclaimable_per_year(self) -> float:
        return self._per_year(self.reclaimable_bytes, self.reclaimable_files)

    @property
    def reclaimed_per_year(self) -> float:
        return self._per_year(self.reclaimed_bytes, self.reclaimed_files)


@dataclass(slots=True)
class SavingsFigures:
    total: Savings
    by_department: list[Savings]
    by_source: list[Savings]


def savings(*, tasks: QuerySet[RemediationTask]) -> SavingsFigures:
    """Return reclaimable bytes (removals outstanding) and reclaimed bytes (removals verified),
    each copy counted once, in all, by department and by source."""
    total = Savings(name="all")
    departments: dict[str, Savings] = {}
    sources: dict[str, Savings] = {}
    rows = (
        tasks.filter(action__in=RemediationTask.REMOVALS)
        .exclude(status=Status.WAIVED)
        .values_list("copy_id", "status", "size", "department__code", "copy__source__name")
        .order_by("copy_id", "pk")
    )
    by_copy: dict[int, tuple[bool, int, str, str]] = {}
    for copy_id, status, size, dept, source in rows:
        verified = status == Status.VERIFIED
        previous = by_copy.get(copy_id)
        # A copy one decision's task verified is reclaimed, whatever other tasks on it say.
        if previous is None or (verified and not previous[0]):
            by_copy[copy_id] = (verified, size, _department_code(dept), source)
    for verified, size, dept, source in by_copy.values():
        for figures in (
            total,
            departments.setdefault(dept, Savings(name=dept)),
            sources.setdefault(source, Savings(name=source)),
        ):
            if verified:
                figures.reclaimed_bytes += size
                figures.reclaimed_files += 1
            else:
                figures.reclaimable_bytes += size
                figures.reclaimable_files += 1
    return SavingsFigures(
        total=total,
        by_department=sorted(departments.values(), key=lambda s: s.name),
        by_source=sorted(sources.values(), key=lambda s: s.name),
    )


def remediation_status(*, tasks: QuerySet[RemediationTask], day: date) -> dict:
    """Return the counts the status command prints: by status, department and age."""
    return {
        "date": day.isoformat(),
        "total": tasks.count(),
        "overdue": tasks_overdue(tasks=tasks, day=day).count(),
        "by_status": status_counts(tasks=tasks),
        "by_department": {
            row.department: {**{s: row.count(s) for s in Status.values}, "overdue": row.overdue}
            for row in progress_by_department(tasks=tasks, day=day)
        },
        "by_age": ageing(tasks=tasks, day=day),
    }


def overdue_by_recipient(*, day: date) -> dict[User, list[RemediationTask]]:
    """Return overdue tasks by whom to tell: the owner, else the department's managers."""
    from governance.roles import MANAGER

    overdue = tasks_overdue(tasks=RemediationTask.objects.all(), day=day).select_related(
        "copy__source", "department", "owner"
    )
    recipients: dict[User, list[RemediationTask]] = defaultdict(list)
    managers: dict[int | None, list[User]] = {}
    for task in overdue.order_by("severity", "due_date", "pk"):
        if task.owner is not None and task.owner.is_active:
            recipients[task.owner].append(task)
            continue
        if task.department_id not in managers:
            managers[task.department_id] = (
                list(
                    User.objects.filter(
                        is_active=True, groups__name=MANAGER, department_id=task.department_id
                    ).order_by("username")
                )
                if task.department_id is not None
                else []  # a task in no department has no department manager
            )
        for manager in managers[task.department_id]:
            recipients[manager].append(task)
    return dict(recipients)


def remediation_figures(*, sources: QuerySet[Source]) -> dict:
    """Return the remediation figures of the copies in these sources, for reports."""
    tasks = RemediationTask.objects.filter(copy__source__in=sources)
    day = today()
    money = savings(tasks=tasks).total
    by_action = dict(tasks.values_list("action").annotate(n=models.Count("pk")).order_by())
    return {
        **remediation_status(tasks=tasks, day=day),
        "by_action": {str(k): v for k, v in sorted(by_action.items())},
        "reclaimable_bytes": money.reclaimable_bytes,
        "reclaimed_bytes": money.reclaimed_bytes,
        "reclaimable_per_year": round(money.reclaimable_per_year, 2),
        "reclaimed_per_year": round(money.reclaimed_per_year, 2),
        "personal_data_tasks": tasks.filter(personal_data=True).count(),
    }
