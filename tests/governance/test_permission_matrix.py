"""Every page and API endpoint, for every role: the status a GET gets and, for the endpoints
that change something, the status a POST (or PATCH) with a small valid body gets.

MATRIX below has one row per URL: a page by its URL name, an API endpoint as "api:" and its
name (pages and the API share names such as "source-list"). test_every_url_has_a_row walks
the resolver, so a page or endpoint added later without a row fails, naming it.

The objects in the URLs belong to film_archive (department LCSD); data access requests
belong to no department. The users come from the role_users fixture: compliance officer,
legal reviewer and manager of LCSD, the auditor and the administrator (the legal reviewer,
auditor and administrator are organisation-wide), "other_department" (a compliance officer
of NEWS, who must not see LCSD's objects) and the anonymous visitor.

A row for a new page, e.g. one only the legal role may open, for an object seeded in Seeds:

    "privacy-case": Row(page(403, legal=200), lambda s: {"pk": s.case.pk}),

and for one that changes something, who may send it (a GET of a POST-only view passes the
permission check first, so the legal role gets 405 and the others 403):

    "privacy-case-decide": Row(page(403, legal=405), ..., Write(page(403, legal=ALLOWED), body)),
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from governance import roles
from governance.models import ApiToken, AuditEvent, Department, User
from governance.privacy.models import (
    DataAccessRequest,
    PrivacyCase,
    ReferencePhoto,
    RequestCandidate,
    ResponsePack,
)
from governance.privacy.services.cases import privacy_cases_refresh
from governance.privacy.services.reference_photos import reference_photo_add
from governance.privacy.services.requests import (
    access_request_create,
    access_request_search,
    request_candidate_decide,
)
from governance.privacy.services.response_packs import response_pack_build
from governance.remediation.models import QuarantineEntry, RemediationTask
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.execution import execution_run, source_policy_set
from governance.tokens import api_token_issue
from inventory.models import (
    Asset,
    CatalogueImportJob,
    Copy,
    Licence,
    Match,
    Rendition,
    Scan,
    Source,
    Supersession,
)
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.assets import rendition_supersede
from inventory.services.faces import faces_run
from inventory.services.licences import licence_attach, licence_create
from reports.models import Report
from reports.services import report_path
from tests.factories import UserFactory
from tests.inventory.scan_helpers import scan_folder
from tests.privacy.dsar_helpers import astronaut_reference, enable_encodings, jpeg_upload

ROLES = (
    "compliance",
    "legal",
    "manager",
    "auditor",
    "administrator",
    "other_department",
    "anonymous",
)
LOGGED_IN = ROLES[:-1]
# Users who must get exactly what one of the columns above gets (issue 18): a Django
# superuser with the administrator role (as setup_demo once made its administrator; it must
# not reach personal data), and a NEWS compliance officer who tried to register a folder
# inside film_archive (refused) and holds a source left there from before that was refused.
AS_COLUMN = {"superuser": "administrator", "overlapping_source": "other_department"}
# The roles that may change the inventory (curate assets, run scans, review, build reports).
WRITERS = ("compliance", "administrator")
READ_ONLY = ("legal", "manager", "auditor")

# A write got past every permission check: anything but 401, 403, 404 or a server error
# (a 400 for a body the service refuses is fine; the point is who may try).
ALLOWED = "allowed"


# --- the objects the URLs point at ------------------------------------------------------------


@dataclass(frozen=True)
class Seeds:
    """film_archive's objects (LCSD only, hidden from NEWS) that the URLs and bodies use."""

    source: Source
    scan: Scan
    copy: Copy  # the retina still, held only by film_archive
    asset: Asset  # retina: the still and a half-size derivative
    derivative: Rendition
    other_asset: Asset  # brick, also LCSD only (the one a merge names)
    match: Match  # retina and its derivative
    supersession: Supersession  # the still supersedes the derivative
    licence: Licence  # LCSD's licence, attached to brick
    report: Report
    event: AuditEvent
    portrait: Rendition  # the astronaut still: an identifiable person, held many times
    case: PrivacyCase  # the astronaut's privacy case
    access_request: DataAccessRequest  # answered: reference photo, candidates, response pack
    reference: ReferencePhoto
    candidate: RequestCandidate
    pack: ResponsePack
    task: RemediationTask  # remove film_archive's backup of the rocket; carried out
    quarantined: QuarantineEntry  # that backup, moved into quarantine


def _seed_privacy(legal: User) -> dict[str, Any]:
    """Open the astronaut's privacy case and answer a data access request for her.

    The face pass runs on the astronaut still only, not the whole archive, to keep the
    module fast; it is the pass and the case refresh a scan with PROVENA_FACES runs.
    """
    portrait = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg").rendition
    faces_run(rendition_ids=[portrait.pk])
    privacy_cases_refresh()
    dsar = access_request_create(
        subject_reference="DSAR-MATRIX",
        received_on=timezone.localdate(),
        notes="",
        created_by=legal,
    )
    reference = reference_photo_add(
        request=dsar, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=dsar, user=legal)
    for candidate in dsar.candidates.all():
        request_candidate_decide(candidate=candidate, confirmed=True, user=legal)
    pack = response_pack_build(request=dsar, user=legal)
    return {
        "portrait": portrait,
        "case": PrivacyCase.objects.get(asset_id=portrait.asset_id),
        "access_request": dsar,
        "reference": reference,
        "candidate": dsar.candidates.order_by("distance").first(),
        "pack": pack,
    }


def _seed_remediation(role_users: dict) -> dict[str, Any]:
    """Decide to dispose of the rocket's duplicates (a task on film_archive's backup, others on
    NEWS's copies) and carry out the film_archive one: the backup goes into quarantine."""
    rocket = Copy.objects.get(source__name="film_archive", path="stills/rocket.jpg")
    disposal_decide(
        asset=rocket.rendition.asset,
        decided_by=role_users["compliance"],
        reason="one master copy is enough",
        keep=rocket,
    )
    task = RemediationTask.objects.get(
        copy__source__name="film_archive", copy__path="backup/2019-06/rocket.jpg"
    )
    film = Source.objects.get(name="film_archive")
    source_policy_set(source=film, enabled=True, user=role_users["administrator"])
    execution_run(source=film, user=role_users["compliance"], task_ids=[task.pk])
    task.refresh_from_db()
    return {"task": task, "quarantined": QuarantineEntry.objects.get(task=task)}


def _seed(sample_archive: dict[str, Path], role_users: dict) -> Seeds:
    """Add a half-size retina to film_archive (an LCSD-only match) and the other objects."""
    film = sample_archive["film_archive"]
    derived = film / "derived"
    derived.mkdir()
    with Image.open(film / "stills/retina.jpg") as im:
        im.reduce(2).save(derived / "retina_half.jpg", quality=90)
    scan = scan_folder(film, department="LCSD")
    copy = Copy.objects.select_related("rendition").get(
        source__name="film_archive", path="stills/retina.jpg"
    )
    derivative = Copy.objects.get(source__name="film_archive", path="derived/retina_half.jpg")
    match = Match.objects.get(
        rendition_a_id__in=[copy.rendition_id, derivative.rendition_id],
        rendition_b_id__in=[copy.rendition_id, derivative.rendition_id],
    )
    other = Copy.objects.get(source__name="film_archive", path="stills/brick.jpg")
    admin = role_users["administrator"]
    licence = licence_create(
        user=admin,
        licensor="Agency",
        reference="LCSD-1",
        departments=[Department.objects.get(code="LCSD")],
        sources=[],
        start=datetime.date(2020, 1, 1),
    )
    licence_attach(licence=licence, asset=other.rendition.asset, user=admin)
    supersession = rendition_supersede(
        asset=copy.rendition.asset,
        newer=copy.rendition,
        older=derivative.rendition,
        user=admin,
        reason="the still is the version of record",
    )
    pdf = b"%PDF-1.7\n%%EOF\n"  # what the download serves; nothing here parses it
    report = Report.objects.create(
        number="PR-2026-0001",
        kind=Report.Kind.AUDIT,
        scope={"resolved_sources": ["film_archive"]},
        status=Report.Status.FINISHED,
        file="PR-2026-0001.pdf",
        size=len(pdf),
        pages=1,
        sha256=hashlib.sha256(pdf).hexdigest(),
        audit_event_count=0,
        figures=dict.fromkeys(
            ("files", "bytes", "duplicate_groups", "reclaimable_bytes", "scan_errors",
             "estimated_cost_per_year"),
            0,
        ),
    )  # fmt: skip
    report_path(report).parent.mkdir(parents=True, exist_ok=True)
    report_path(report).write_bytes(pdf)
    return Seeds(
        source=Source.objects.get(name="film_archive"),
        scan=scan,
        copy=copy,
        asset=copy.rendition.asset,
        derivative=derivative.rendition,
        other_asset=other.rendition.asset,
        match=match,
        supersession=supersession,
        licence=licence,
        report=report,
        event=AuditEvent.objects.filter(source_id=scan.source_id).order_by("seq").first(),
        **_seed_privacy(role_users["legal"]),
        **_seed_remediation(role_users),
    )


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A request that changes something, the body it sends and who may send it."""

    expect: dict[str, int | str]
    body: Callable[[Seeds], dict[str, Any]] = lambda s: {}
    method: str = "post"


@dataclass(frozen=True)
class Row:
    """What each role gets from one URL."""

    get: dict[str, int | str]
    kwargs: Callable[[Seeds], dict[str, Any]] = lambda s: {}
    write: Write | None = None
    query: str = ""


def page(status: int = 200, **roles: int | str) -> dict[str, int | str]:
    """Return a page's statuses: `status` for every logged-in role, else as given; anonymous
    visitors are sent to the login page."""
    return {**dict.fromkeys(LOGGED_IN, status), "anonymous": 302, **roles}


def api(status: int = 200, **roles: int | str) -> dict[str, int | str]:
    """Return an API endpoint's statuses; anonymous callers get 401 (a token challenge)."""
    return {**dict.fromkeys(LOGGED_IN, status), "anonymous": 401, **roles}


def writers(*extra: str, hidden: bool = True, anonymous: int = 302) -> dict[str, int | str]:
    """Return a write's statuses: allowed for compliance officers and administrators (and the
    `extra` roles), 403 for the read-only roles, 404 for the other department when the object
    is LCSD's (`hidden`)."""
    expect: dict[str, int | str] = {
        **dict.fromkeys(READ_ONLY, 403),
        **dict.fromkeys((*WRITERS, *extra), ALLOWED),
        "anonymous": anonymous,
    }
    expect.setdefault("other_department", 404 if hidden else ALLOWED)
    return expect


def api_writers(*extra: str, hidden: bool = True) -> dict[str, int | str]:
    return writers(*extra, hidden=hidden, anonymous=401)


def planners(*, anonymous: int = 302) -> dict[str, int | str]:
    """Return the statuses of a change to the remediation plan (assign, reschedule, waive):
    allowed for managers and administrators, 403 for the other roles. The other department
    naming LCSD's tasks is told they do not exist or are not its to see (400)."""
    return {
        **dict.fromkeys(LOGGED_IN, 403),
        "manager": ALLOWED,
        "administrator": ALLOWED,
        "other_department": 400,
        "anonymous": anonymous,
    }


def _source(s: Seeds) -> dict:
    return {"name": s.source.name}


def _asset(s: Seeds) -> dict:
    return {"pk": s.asset.pk}


def _reason(**body: Any) -> Callable[[Seeds], dict]:
    return lambda s: {"reason": "permission matrix", **body}


def _csv(s: Seeds) -> dict:
    data = f"path,source,title\nstills/retina.jpg,{s.source.name},Retina\n".encode()
    return {"file": SimpleUploadedFile("catalogue.csv", data, "text/csv"), "dry_run": "1"}


def _not_a_pdf(s: Seeds) -> dict:
    return {"file": SimpleUploadedFile("report.pdf", b"not a PDF", "application/pdf")}


def _not_a_bundle(s: Seeds) -> dict:
    return {"bundle": SimpleUploadedFile("bundle.zip", b"not a ZIP", "application/zip")}


def _case(s: Seeds) -> dict:
    return {"pk": s.case.pk}


def _dsar(s: Seeds) -> dict:
    return {"pk": s.access_request.pk}


def _received_today(s: Seeds) -> dict:
    return {"subject_reference": "DSAR-MATRIX-2", "received_on": timezone.localdate().isoformat()}


def _reply_sent(s: Seeds) -> dict:
    return {
        "kind": "full",
        "pack": s.pack.pk,
        "sent_on": timezone.localdate().isoformat(),
        "means": "e-mail",
    }


def _refusal(s: Seeds) -> dict:
    return {
        "ground": "identity",
        "reasons": "permission matrix",
        "notified_on": timezone.localdate().isoformat(),
    }


def _reference_photo(field: str) -> Callable[[Seeds], dict]:
    """Return a body uploading a photo the request does not hold yet (Grace Hopper)."""

    def body(s: Seeds) -> dict:
        with Image.open(PHOTOS_DIR / "grace_hopper.jpg") as hopper:
            return {field: jpeg_upload(hopper.reduce(2), "hopper.jpg")}

    return body


def _compliance_token(s: Seeds) -> dict:
    """Return the pk of a token of the compliance officer: only its owner may revoke it."""
    owner = User.objects.get(username="compliance")
    token = ApiToken.objects.filter(user=owner).first() or api_token_issue(user=owner)[0]
    return {"pk": token.pk}


def _compliance_import_job(s: Seeds) -> dict:
    """Return the pk of a catalogue import job of the compliance officer: only theirs to see."""
    owner = User.objects.get(username="compliance")
    job = CatalogueImportJob.objects.get_or_create(created_by=owner, file_name="big.csv")[0]
    return {"pk": job.pk}


def _task(s: Seeds) -> dict:
    return {"pk": s.task.pk}


def _reschedule(s: Seeds) -> dict:
    due = timezone.localdate() + datetime.timedelta(days=30)
    return {"action": "reschedule", "tasks": [s.task.pk], "due_date": due.isoformat()}


OTHER_HIDDEN = {"other_department": 404}
# Personal data (privacy cases, faces, personal images, consent, the view log, data access
# requests) is for the legal role only: every other role gets 403, whatever its department.
LEGAL = page(403, legal=200)
LEGAL_POST = page(403, legal=405)  # a GET of a POST-only page passes the permission first
LEGAL_WRITE = page(403, legal=ALLOWED)
LEGAL_API = api(403, legal=200)
LEGAL_API_POST = api(403, legal=405)
LEGAL_API_WRITE = api(403, legal=ALLOWED)

MATRIX: dict[str, Row] = {
    # --- site ---
    "login": Row(page(200, anonymous=200)),
    "logout": Row(page(405, anonymous=405), write=Write(page(302))),
    # The language switch is on the login page too: anyone may choose, a user's choice is kept.
    "language-set": Row(
        page(405, anonymous=405),
        write=Write(page(302, anonymous=302), body=lambda s: {"language": "zh-hant", "next": "/"}),
    ),
    # --- inventory pages ---
    "dashboard": Row(page()),
    "source-list": Row(page()),
    "source-detail": Row(page(**OTHER_HIDDEN), _source),
    "source-scan": Row(page(405), _source, Write(writers())),
    "scan-list": Row(page()),
    "scan-detail": Row(page(**OTHER_HIDDEN), lambda s: {"pk": s.scan.pk}),
    "copy-list": Row(page(), query="?source=film_archive&state=present&q=retina&problems=1"),
    "copy-detail": Row(page(**OTHER_HIDDEN), lambda s: {"pk": s.copy.pk}),
    "group-list": Row(page()),
    "group-detail": Row(page(**OTHER_HIDDEN), lambda s: {"asset_id": s.asset.pk}),
    "error-list": Row(page()),
    "review-list": Row(page()),
    "review-detail": Row(
        page(**OTHER_HIDDEN),
        lambda s: {"pk": s.match.pk},
        Write(writers(), lambda s: {"verdict": "different", "reason": "permission matrix"}),
    ),
    "thumbnail": Row(page(**OTHER_HIDDEN), lambda s: {"pk": s.copy.rendition_id}),
    "asset-list": Row(page()),
    "catalogue-upload": Row(
        page(403, compliance=200, administrator=200, other_department=200),
        write=Write(writers(hidden=False), _csv),
    ),
    "catalogue-job": Row(
        page(403, compliance=200, administrator=404, other_department=404),
        _compliance_import_job,
    ),
    "asset-detail": Row(page(**OTHER_HIDDEN), _asset),
    "asset-master": Row(page(405), _asset, Write(writers(), _reason(copy="rule"))),
    "asset-merge": Row(
        page(405), _asset, Write(writers(), lambda s: {"other": s.other_asset.pk, "reason": "m"})
    ),
    "asset-split": Row(
        page(405),
        _asset,
        Write(writers(), lambda s: {"renditions": [s.derivative.pk], "reason": "m"}),
    ),
    "asset-supersede": Row(
        page(405),
        _asset,
        Write(
            writers(),
            lambda s: {
                "newer": s.asset.renditions.exclude(pk=s.derivative.pk).first().pk,
                "older": s.derivative.pk,
                "reason": "m",
            },
        ),
    ),  # fmt: skip
    "asset-supersession-withdraw": Row(
        page(405),
        lambda s: {"pk": s.asset.pk, "supersession": s.supersession.pk},
        Write(writers(), lambda s: {"reason": "m"}),
    ),
    "asset-catalogue": Row(page(405), _asset, Write(writers(), lambda s: {"title": "Retina"})),
    "asset-licence": Row(page(405), _asset, Write(writers(), lambda s: {"licence": s.licence.pk})),
    "licence-list": Row(
        page(),
        write=Write(
            writers(hidden=False),
            lambda s: {
                "licensor": "Agency",
                "reference": "M-1",
                "start": "2026-01-01",
                "cost": "0",
                "currency": "HK$",
            },
        ),
    ),  # fmt: skip
    "exposure-list": Row(page()),
    # --- audit log and report pages ---
    "audit-log": Row(page()),
    "token-list": Row(page()),
    "token-revoke": Row(
        page(405),
        _compliance_token,
        Write({**page(404), "compliance": ALLOWED, "anonymous": 302}),
    ),
    "report-list": Row(page(), write=Write(writers(hidden=False), lambda s: {"kind": "nonsense"})),
    "report-verify": Row(page(), write=Write(page(ALLOWED), _not_a_pdf)),
    # Comparing a partner's bundle builds a report: the roles that build reports.
    "report-merge": Row(
        page(403, compliance=200, administrator=200, other_department=200),
        write=Write(writers(hidden=False), _not_a_bundle),
    ),
    "report-detail": Row(page(**OTHER_HIDDEN), lambda s: {"number": s.report.number}),
    "report-download": Row(page(**OTHER_HIDDEN), lambda s: {"number": s.report.number}),
    # --- privacy review pages (legal role only) ---
    "privacy-cases": Row(LEGAL),
    "privacy-case": Row(LEGAL, _case),
    "privacy-case-decide": Row(LEGAL_POST, _case, Write(LEGAL_WRITE, _reason(outcome="escalate"))),
    "privacy-case-approve": Row(LEGAL_POST, _case, Write(LEGAL_WRITE, _reason(approved="yes"))),
    "privacy-case-assign": Row(LEGAL_POST, _case, Write(LEGAL_WRITE, lambda s: {"assignee": "me"})),
    "privacy-image": Row(LEGAL, lambda s: {"pk": s.portrait.pk}),
    "privacy-consents": Row(
        LEGAL,
        write=Write(
            LEGAL_WRITE,
            lambda s: {
                "subject_reference": "S-1",
                "document_reference": "CF-1",
                "obtained_on": "2025-01-01",
            },
        ),
    ),
    "privacy-view-log": Row(LEGAL),
    # --- data access request pages (legal role only) ---
    "dsar-list": Row(LEGAL),
    "dsar-create": Row(LEGAL, write=Write(LEGAL_WRITE, _received_today)),
    "dsar-detail": Row(LEGAL, _dsar),
    "dsar-photo-upload": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE, _reference_photo("photo"))),
    "dsar-photo-image": Row(LEGAL, lambda s: {"pk": s.access_request.pk, "photo": s.reference.pk}),
    "dsar-photo-choose": Row(
        LEGAL_POST,
        lambda s: {"pk": s.access_request.pk, "photo": s.reference.pk},
        Write(LEGAL_WRITE, lambda s: {"face": 0}),
    ),
    "dsar-search": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE)),
    "dsar-candidate-decide": Row(
        LEGAL_POST,
        lambda s: {"pk": s.access_request.pk, "candidate": s.candidate.pk},
        Write(LEGAL_WRITE, lambda s: {"verdict": "confirm"}),
    ),
    "dsar-candidate-face": Row(
        LEGAL, lambda s: {"pk": s.access_request.pk, "candidate": s.candidate.pk}
    ),
    "dsar-pack-build": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE)),
    "dsar-pack-download": Row(LEGAL, lambda s: {"pk": s.access_request.pk, "pack": s.pack.pk}),
    "dsar-reply": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE, _reply_sent)),
    "dsar-refuse": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE, _refusal)),
    "dsar-close": Row(LEGAL_POST, _dsar, Write(LEGAL_WRITE, lambda s: {"note": "matrix"})),
    "dsar-refusals": Row(LEGAL),
    # --- remediation pages ---
    "remediation-dashboard": Row(page()),
    "remediation-tasks": Row(page(), query="?status=outstanding&source=film_archive&q=rocket"),
    "remediation-tasks-csv": Row(page()),
    "remediation-tasks-bulk": Row(page(405), write=Write(planners(), _reschedule)),
    "remediation-task": Row(page(**OTHER_HIDDEN), _task),
    "remediation-task-status": Row(
        page(405), _task, Write(writers(), lambda s: {"status": "in_progress"})
    ),
    "remediation-execution": Row(page()),
    # Switching execution on or off for a source is the administrator's alone.
    "remediation-execution-source": Row(
        page(**OTHER_HIDDEN),
        _source,
        Write({**writers(), "compliance": 403}, lambda s: {"action": "disable"}),
    ),
    "remediation-quarantine": Row(page()),
    "remediation-quarantine-restore": Row(
        page(405), lambda s: {"pk": s.quarantined.pk}, Write(writers())
    ),
    "remediation-quarantine-purge": Row(
        page(405), write=Write(writers(hidden=False), lambda s: {"dry_run": "1"})
    ),
    "remediation-dispose": Row(
        page(403, compliance=200, administrator=200, other_department=404),
        _asset,
        Write(writers(), _reason()),
    ),
    # --- API: schema and docs, token, root ---
    "api:api-schema": Row(api()),
    "api:api-docs": Row(api()),
    "api:api-token": Row(api(405, anonymous=405)),
    "api:api-token-list": Row(api()),
    "api:api-token-detail": Row(
        api(405),
        _compliance_token,
        Write({**api(404), "compliance": ALLOWED}, method="delete"),
    ),
    "api:api-root": Row(api()),
    # --- API: inventory ---
    "api:source-list": Row(
        api(),
        write=Write(api_writers(hidden=False), lambda s: {"root": "/nonexistent/share"}),
    ),
    "api:source-detail": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.source.pk}),
    "api:source-scan": Row(api(405), lambda s: {"pk": s.source.pk}, Write(api_writers())),
    "api:scan-list": Row(api()),
    "api:scan-detail": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.scan.pk}),
    "api:scan-errors": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.scan.pk}),
    "api:copy-list": Row(api()),
    "api:copy-detail": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.copy.pk}),
    "api:match-list": Row(api()),
    "api:match-detail": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.match.pk}),
    "api:match-decide": Row(
        api(405),
        lambda s: {"pk": s.match.pk},
        Write(api_writers(), lambda s: {"verdict": "different", "reason": "m"}),
    ),
    "api:api-groups": Row(api()),
    "api:api-findings": Row(api()),
    "api:asset-list": Row(api()),
    "api:asset-detail": Row(api(**OTHER_HIDDEN), _asset),
    "api:asset-set-master": Row(
        api(405), _asset, Write(api_writers(), lambda s: {"copy": None, "reason": "m"})
    ),
    "api:asset-merge": Row(
        api(405),
        _asset,
        Write(api_writers(), lambda s: {"other": s.other_asset.pk, "reason": "m"}),
    ),
    "api:asset-split": Row(
        api(405),
        _asset,
        Write(api_writers(), lambda s: {"renditions": [s.derivative.pk], "reason": "m"}),
    ),
    "api:asset-supersede": Row(
        api(405),
        _asset,
        Write(
            api_writers(),
            lambda s: {
                "newer": s.asset.renditions.exclude(pk=s.derivative.pk).first().pk,
                "older": s.derivative.pk,
                "reason": "m",
            },
        ),
    ),  # fmt: skip
    "api:asset-withdraw-supersession": Row(
        api(405),
        _asset,
        Write(api_writers(), lambda s: {"supersession": s.supersession.pk, "reason": "m"}),
    ),
    "api:asset-catalogue": Row(
        api(405), _asset, Write(api_writers(), lambda s: {"title": "Retina"})
    ),
    "api:licence-list": Row(
        api(),
        write=Write(
            api_writers(hidden=False),
            lambda s: {
                "licensor": "Agency",
                "reference": "M-1",
                "start": "2026-01-01",
                "departments": [],
                "sources": [],
            },
        ),
    ),  # fmt: skip
    "api:licence-detail": Row(
        api(**OTHER_HIDDEN),
        lambda s: {"pk": s.licence.pk},
        Write(api_writers(), lambda s: {"permitted_uses": "print"}, method="patch"),
    ),
    "api:licence-attach": Row(
        api(405),
        lambda s: {"pk": s.licence.pk},
        Write(api_writers(), lambda s: {"asset": s.asset.pk}),
    ),
    "api:licence-detach": Row(
        api(405),
        lambda s: {"pk": s.licence.pk},
        Write(api_writers(), lambda s: {"asset": s.other_asset.pk}),
    ),
    "api:api-exposures": Row(api()),
    # --- API: audit log and reports ---
    "api:auditevent-list": Row(api()),
    "api:auditevent-detail": Row(api(**OTHER_HIDDEN), lambda s: {"pk": s.event.pk}),
    "api:report-list": Row(
        api(), write=Write(api_writers(hidden=False), lambda s: {"kind": "nonsense"})
    ),
    "api:report-detail": Row(api(**OTHER_HIDDEN), lambda s: {"number": s.report.number}),
    "api:report-download": Row(api(**OTHER_HIDDEN), lambda s: {"number": s.report.number}),
    "api:api-report-verify": Row(api(405), write=Write(api(ALLOWED), _not_a_pdf)),
    # --- API: privacy cases (legal role only) ---
    "api:privacy-case-list": Row(LEGAL_API),
    "api:privacy-case-detail": Row(LEGAL_API, _case),
    "api:privacy-case-faces": Row(LEGAL_API, _case),
    "api:privacy-case-decide": Row(
        LEGAL_API_POST, _case, Write(LEGAL_API_WRITE, _reason(outcome="escalate"))
    ),
    "api:privacy-case-review": Row(
        LEGAL_API_POST, _case, Write(LEGAL_API_WRITE, _reason(approved=True))
    ),
    # --- API: data access requests (legal role only) ---
    "api:dsar-api-list": Row(LEGAL_API, write=Write(LEGAL_API_WRITE, _received_today)),
    "api:dsar-api-detail": Row(LEGAL_API, _dsar),
    "api:dsar-api-photos": Row(
        LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE, _reference_photo("file"))
    ),
    "api:dsar-api-choose-face": Row(
        LEGAL_API_POST,
        lambda s: {"pk": s.access_request.pk, "photo_id": s.reference.pk},
        Write(LEGAL_API_WRITE, lambda s: {"face": 0}),
    ),
    "api:dsar-api-search": Row(LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE)),
    "api:dsar-api-candidates": Row(LEGAL_API, _dsar),
    "api:dsar-api-decide": Row(
        LEGAL_API_POST,
        lambda s: {"pk": s.access_request.pk, "candidate_id": s.candidate.pk},
        Write(LEGAL_API_WRITE, lambda s: {"confirmed": True}),
    ),
    "api:dsar-api-pack": Row(LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE)),
    "api:dsar-api-download": Row(
        LEGAL_API, lambda s: {"pk": s.access_request.pk, "pack_id": s.pack.pk}
    ),
    "api:dsar-api-reply": Row(LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE, _reply_sent)),
    "api:dsar-api-refuse": Row(LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE, _refusal)),
    "api:dsar-api-close": Row(
        LEGAL_API_POST, _dsar, Write(LEGAL_API_WRITE, lambda s: {"note": "matrix"})
    ),
    "api:dsar-api-refusals": Row(LEGAL_API),
    # --- API: remediation ---
    "api:remediation-summary": Row(api()),
    "api:remediation-task-list": Row(api()),
    "api:remediation-task-detail": Row(api(**OTHER_HIDDEN), _task),
    "api:remediation-task-history": Row(api(**OTHER_HIDDEN), _task),
    "api:remediation-task-set-status": Row(
        api(405), _task, Write(api_writers(), lambda s: {"status": "in_progress"})
    ),
    "api:remediation-task-bulk": Row(api(405), write=Write(planners(anonymous=401), _reschedule)),
}

# The admin site has its own gate (is_staff) and its own login page; no role user is staff.
ADMIN_NAMESPACE = "admin"


# --- walking the resolver -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern the resolver knows, under the key MATRIX uses for it."""

    key: str
    name: str
    namespace: str


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == ADMIN_NAMESPACE:
                continue  # test_the_admin_site_is_for_staff_only
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            continue
        assert isinstance(pattern, URLPattern)
        route = prefix + str(pattern.pattern)
        # DRF's format-suffix twins (".json") reach the same view as the plain route.
        if "<drf_format_suffix:format>" in route or "(?P<format>" in route:
            continue
        if not pattern.name:
            raise AssertionError(f"URL {route!r} has no name; name it and give it a MATRIX row")
        key = f"api:{pattern.name}" if route.startswith(("api/", "^api/")) else pattern.name
        yield Route(key, pattern.name, namespace)


def routes() -> list[Route]:
    """Return every named URL of the site except the admin's, once each."""
    return list(_walk(get_resolver().url_patterns))


def test_every_url_has_a_row() -> None:
    keys = [r.key for r in routes()]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    missing = sorted({r.key for r in routes() if r.key not in MATRIX})
    stale = sorted(set(MATRIX) - set(keys))

    assert not duplicates, f"two URLs share these matrix keys; rename one: {duplicates}"
    assert not missing, (
        f"no permission-matrix row for {missing}: add one to MATRIX in {__name__} saying "
        "what each role gets"
    )
    assert not stale, f"MATRIX has rows for URLs that no longer exist: {stale}"


# --- requests -------------------------------------------------------------------------------------


def _url(key: str, row: Row, seeds: Seeds) -> str:
    name = key.removeprefix("api:")
    # "api:source-list" and the page "source-list" share a name; reverse() finds the last
    # one registered, so resolve the API's by its own prefix.
    kwargs = row.kwargs(seeds)
    candidates = [
        url
        for url in _reverse_all(name, kwargs)
        if url.startswith("/api/") == key.startswith("api:")
    ]
    if not candidates:
        raise AssertionError(f"cannot build the URL of {key} with {kwargs}")
    return candidates[0] + row.query


def _reverse_all(name: str, kwargs: dict[str, Any]) -> list[str]:
    """Return every URL the resolver builds for a name (pages and API may share it)."""
    resolver = get_resolver()
    urls = []
    for possibility, _pattern, defaults, _converters in resolver.reverse_dict.getlist(name):
        for result, params in possibility:
            if set(params) != set(kwargs) | set(defaults):
                continue
            candidate = result % {k: str(v) for k, v in kwargs.items()}
            urls.append("/" + candidate)
    return urls


def _status_matches(expected: int | str, response) -> bool:
    if expected == ALLOWED:
        return response.status_code not in (401, 403, 404) and response.status_code < 500
    return response.status_code == expected


def _request(client: Client, method: str, url: str, body: dict[str, Any], is_api: bool):
    if method == "get":
        return client.get(url)
    has_file = any(isinstance(v, SimpleUploadedFile) for v in body.values())
    if is_api and not has_file:
        return getattr(client, method)(url, body, content_type="application/json")
    return getattr(client, method)(url, body)


def _describe(key: str, method: str, url: str, expected: int | str, response) -> str:
    where = f" -> {response['Location']}" if response.status_code in (301, 302) else ""
    return f"{key}: {method.upper()} {url} gave {response.status_code}{where}, expected {expected}"


@pytest.fixture
def seeds(sample_archive, scanned_archive, role_users, settings) -> Seeds:
    settings.PROVENA_BACKGROUND_REPORTS = False
    enable_encodings(settings)  # the access request's search compares face encodings
    return _seed(sample_archive, role_users)


def _overlapping_source_user(seeds: Seeds) -> User:
    """Return a NEWS officer whose source inside film_archive is refused now, and who holds
    one there registered before overlaps were refused (with its copies of LCSD's files)."""
    news = Department.objects.get(code="NEWS")
    user = UserFactory(username="overlapper", department=news, role=roles.COMPLIANCE_OFFICER)
    inside = f"{seeds.source.root}/stills"
    api = APIClient()
    api.force_authenticate(user)
    refused = api.post("/api/sources/", {"root": inside, "allow_nested": True}, format="json")
    assert refused.status_code == 400, refused.content
    assert "lies inside source 'film_archive' (department LCSD)" in refused.json()["root"][0]
    legacy = Source.objects.create(name="news_inside", root=inside, department=news)
    for copy in Copy.objects.filter(source=seeds.source, path__startswith="stills/"):
        Copy.objects.create(
            source=legacy,
            path=copy.path.removeprefix("stills/"),
            size=copy.size,
            mtime_ns=copy.mtime_ns,
            sha256=copy.sha256,
            rendition=copy.rendition,
            first_seen_at=copy.first_seen_at,
            last_seen_at=copy.last_seen_at,
        )
    return user


@pytest.mark.parametrize("role", [*ROLES, *AS_COLUMN])
def test_each_role_gets_what_the_matrix_says(
    role: str, seeds: Seeds, role_users: dict, client: Client
) -> None:
    if role == "overlapping_source":
        user = _overlapping_source_user(seeds)
    else:
        user = role_users.get(role, AnonymousUser())
    if role != "anonymous":
        client.force_login(user)
    column = AS_COLUMN.get(role, role)
    wrong: list[str] = []
    for key, row in MATRIX.items():
        url = _url(key, row, seeds)
        response = _request(client, "get", url, {}, key.startswith("api:"))
        expected = row.get[column]
        if not _status_matches(expected, response):
            wrong.append(_describe(key, "get", url, expected, response))
        elif (
            role == "anonymous"
            and expected == 302
            and not response["Location"].startswith("/login/?next=")
        ):
            wrong.append(_describe(key, "get", url, "a redirect to /login/", response))
    for key, row in MATRIX.items():
        if row.write is None:
            continue
        url = _url(key, row, seeds)
        expected = row.write.expect[column]
        # Each write is undone, so one cannot change what the next one finds.
        with transaction.atomic():
            response = _request(
                client, row.write.method, url, row.write.body(seeds), key.startswith("api:")
            )
            transaction.set_rollback(True)
        if not _status_matches(expected, response):
            wrong.append(_describe(key, row.write.method, url, expected, response))
        if role != "anonymous" and key == "logout":
            client.force_login(user)  # the logout write ended the session

    assert not wrong, f"{role}:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_site_is_for_staff_only(role: str, role_users: dict, client: Client) -> None:
    if role != "anonymous":
        client.force_login(role_users[role])

    for url in ("/admin/", "/admin/governance/user/", "/admin/inventory/source/add/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_auditors_and_administrators_see_reports_on_sources_since_removed(
    seeds: Seeds, role_users: dict, client: Client
) -> None:
    Report.objects.filter(pk=seeds.report.pk).update(scope={"resolved_sources": ["gone"]})
    url = f"/reports/{seeds.report.number}/"

    for role, status in [("auditor", 200), ("administrator", 200), ("compliance", 404)]:
        client.force_login(role_users[role])
        assert client.get(url).status_code == status, role
