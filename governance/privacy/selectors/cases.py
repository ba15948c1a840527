"""Reads for privacy review: the legal queue, a case's holdings, faces and history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.models import User
from governance.privacy.models import (
    ConsentRecord,
    PersonalDataView,
    PrivacyCase,
    PrivacyDecision,
)
from governance.remediation.models import RemediationTask
from inventory.models import Copy, Face, LicenceAttachment, Rendition, Source
from inventory.selectors.assets import AssetMaster, asset_master
from inventory.selectors.people import copies_showing_people, upright_size

AGEING_BUCKETS = ((7, "under a week"), (30, "1-4 weeks"), (90, "1-3 months"), (None, "older"))


def cases_queue(
    *,
    status: str = "",
    overdue: bool = False,
    external: bool | None = None,
    assigned_to: User | None = None,
    unassigned: bool = False,
    source: Source | None = None,
    department_id: int | None = None,
) -> QuerySet[PrivacyCase]:
    """Return the legal reviewers' queue, oldest due date first, filtered."""
    cases = PrivacyCase.objects.exclude(status=PrivacyCase.Status.MERGED).select_related(
        "asset", "anchor", "assigned_to", "current_decision"
    )
    if status:
        cases = cases.filter(status=status)
    else:
        cases = cases.filter(
            status__in=[
                PrivacyCase.Status.OPEN,
                PrivacyCase.Status.AWAITING_APPROVAL,
                PrivacyCase.Status.ESCALATED,
            ]
        )
    if overdue:
        cases = cases.filter(due_on__lt=timezone.localdate())
    if external is not None:
        cases = cases.filter(external=external)
    if assigned_to is not None:
        cases = cases.filter(assigned_to=assigned_to)
    if unassigned:
        cases = cases.filter(assigned_to__isnull=True)
    if source is not None or department_id is not None:
        copies = Copy.objects.filter(state=Copy.State.PRESENT)
        if source is not None:
            copies = copies.filter(source=source)
        if department_id is not None:
            copies = copies.filter(source__department_id=department_id)
        cases = cases.filter(asset_id__in=copies.values("rendition__asset_id"))
    return cases.order_by("due_on", "pk")


def case_age_days(case: PrivacyCase, today: date | None = None) -> int:
    """Return how many days the case has been open."""
    today = today or timezone.localdate()
    return (today - timezone.localtime(case.opened_at).date()).days


def ageing_counts(cases: QuerySet[PrivacyCase]) -> list[tuple[str, int]]:
    """Return (bucket label, open cases) by age."""
    today = timezone.localdate()
    counts = dict.fromkeys((label for _, label in AGEING_BUCKETS), 0)
    for opened_at in cases.values_list("opened_at", flat=True):
        age = (today - timezone.localtime(opened_at).date()).days
        for limit, label in AGEING_BUCKETS:
            if limit is None or age < limit:
                counts[label] += 1
                break
    return list(counts.items())


@dataclass(slots=True)
class FaceBox:
    """A face outlined on a thumbnail, in percent of the picture so CSS can place it."""

    left: float
    top: float
    width: float
    height: float
    identifiable: bool
    score: float
    size: int


@dataclass(slots=True)
class CaseRendition:
    """One rendition of the case's asset, with its copies and faces."""

    rendition: Rendition
    copies: list[Copy]
    faces: list[FaceBox] = field(default_factory=list)


@dataclass(slots=True)
class CaseView:
    """Everything a legal reviewer needs to decide a case."""

    case: PrivacyCase
    master: AssetMaster | None
    renditions: list[CaseRendition]
    holdings: int
    sources: list[Source]
    licences: list[LicenceAttachment]
    decisions: list[PrivacyDecision]
    signals: dict


def _box(face: Face, rendition: Rendition) -> FaceBox:
    width, height = upright_size(rendition)
    return FaceBox(
        left=round(100 * face.left / width, 2),
        top=round(100 * face.top / height, 2),
        width=round(100 * face.width / width, 2),
        height=round(100 * face.height / height, 2),
        identifiable=face.identifiable,
        score=face.score,
        size=face.size,
    )


def case_renditions(case: PrivacyCase) -> QuerySet[Rendition]:
    """Return the photographs a case is about: its asset's renditions, or its anchor alone
    while the case has no asset."""
    if case.asset_id is None:
        # Not filter(asset_id=None): that is every rendition in the archive not yet grouped.
        return Rendition.objects.filter(pk=case.anchor_id)
    return Rendition.objects.filter(asset_id=case.asset_id)


def case_view(*, case: PrivacyCase) -> CaseView:
    """Return the case with every holding, the faces outlined, metadata, rights and history."""
    renditions = list(case_renditions(case).order_by("-identifiable_faces", "pk"))
    copies: dict[int | None, list[Copy]] = defaultdict(list)
    for copy in (
        Copy.objects.filter(rendition__in=case_renditions(case))
        .select_related("source__department")
        .order_by("state", "source__name", "path")
    ):
        copies[copy.rendition_id].append(copy)
    faces: dict[int, list[FaceBox]] = defaultdict(list)
    by_id = {r.pk: r for r in renditions}
    for face in Face.objects.filter(rendition_id__in=list(by_id)).order_by("pk"):
        faces[face.rendition_id].append(_box(face, by_id[face.rendition_id]))
    signals: dict = {"gps": [], "names": []}
    for rendition in renditions:
        for key in ("gps", "names"):
            value = (rendition.personal_signals or {}).get(key)
            if value and key == "gps" and value not in signals["gps"]:
                signals["gps"].append(value)
            elif value and key == "names":
                signals["names"].extend(n for n in value if n not in signals["names"])
    present = [c for cs in copies.values() for c in cs if c.state == Copy.State.PRESENT]
    sources = sorted({c.source for c in present}, key=lambda s: (s.risk_tier != "external", s.name))
    return CaseView(
        case=case,
        master=asset_master(asset=case.asset) if case.asset is not None else None,
        renditions=[
            CaseRendition(rendition=r, copies=copies.get(r.pk, []), faces=faces.get(r.pk, []))
            for r in renditions
        ],
        holdings=len(present),
        sources=sources,
        licences=list(
            LicenceAttachment.objects.filter(asset_id=case.asset_id).select_related("licence")
            if case.asset_id is not None
            else LicenceAttachment.objects.none()
        ),
        decisions=list(
            case.decisions.select_related("decided_by", "consent", "approval__decided_by").order_by(
                "-decided_at", "-pk"
            )
        ),
        signals=signals,
    )


def consents_in_force() -> QuerySet[ConsentRecord]:
    """Return consent records in force today."""
    today = timezone.localdate()
    return ConsentRecord.objects.filter(obtained_on__lte=today).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )


def personal_data_views(*, rendition_id: int | None = None) -> QuerySet[PersonalDataView]:
    """Return the log of looks at personal-data images, newest first."""
    views = PersonalDataView.objects.select_related("user")
    if rendition_id is not None:
        views = views.filter(rendition_id=rendition_id)
    return views.order_by("-viewed_at", "-pk")


def decision_awaiting_approval(case: PrivacyCase) -> PrivacyDecision | None:
    """Return the decision waiting for a second reviewer, if any."""
    if case.status != PrivacyCase.Status.AWAITING_APPROVAL:
        return None
    return (
        case.decisions.filter(needs_approval=True, approval__isnull=True)
        .order_by("-decided_at", "-pk")
        .first()
    )


def privacy_figures(*, sources: QuerySet[Source]) -> dict:
    """Return the personal-data figures of the sources, for reports and dashboards."""
    from django.db.models import Count

    from governance.privacy.models import DataAccessRequest

    present = Copy.objects.filter(state=Copy.State.PRESENT, source__in=sources)
    with_people = copies_showing_people(present)
    asset_ids = with_people.values("rendition__asset_id")
    cases = PrivacyCase.objects.exclude(status=PrivacyCase.Status.MERGED).filter(
        asset_id__in=asset_ids
    )
    today = timezone.localdate()
    by_status = dict(cases.values_list("status").annotate(n=Count("pk")).order_by())
    decisions = dict(
        PrivacyDecision.objects.filter(case__in=cases)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    requests = DataAccessRequest.objects.all()
    checked = present.filter(rendition__faces_checked_at__isnull=False).count()
    return {
        "assessed": checked > 0,
        "copies_checked": checked,
        "copies_present": present.count(),
        "renditions_with_people": with_people.values("rendition_id").distinct().count(),
        "photographs_with_people": with_people.values("rendition__asset_id").distinct().count(),
        "holdings_with_people": with_people.count(),
        "external_holdings_with_people": with_people.filter(
            source__risk_tier=Source.RiskTier.EXTERNAL
        ).count(),
        "with_gps": present.filter(rendition__personal_signals__has_key="gps").count(),
        "cases_by_status": {str(k): v for k, v in sorted(by_status.items())},
        "cases_awaiting": sum(v for k, v in by_status.items() if k != PrivacyCase.Status.DECIDED),
        "cases_overdue": cases.exclude(status=PrivacyCase.Status.DECIDED)
        .filter(due_on__lt=today)
        .count(),
        "decisions_by_outcome": {str(k): v for k, v in sorted(decisions.items())},
        "decisions": sum(decisions.values()),
        "access_requests_open": requests.filter(status__in=DataAccessRequest.AWAITING).count(),
        "access_requests_overdue": requests.filter(
            status=DataAccessRequest.Status.OPEN, due_on__lt=today
        ).count(),
        "access_requests_answered": requests.exclude(status__in=DataAccessRequest.AWAITING).count(),
    }


def redacted_copy_ids() -> set[int]:
    """Return the ids of copies whose redaction (a privacy decision's task) is verified."""
    return set(
        RemediationTask.objects.filter(
            action=RemediationTask.Action.APPLY_REDACTION,
            status=RemediationTask.Status.VERIFIED,
        ).values_list("copy_id", flat=True)
    )
