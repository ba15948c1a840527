"""Privacy cases: which photographs get one, and what legal decisions do (real photographs)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from governance import roles
from governance.models import AuditEvent
from governance.privacy.models import PersonalDataView, PrivacyCase, PrivacyDecision, Redaction
from governance.privacy.services.cases import privacy_cases_refresh
from governance.privacy.services.decisions import (
    consent_record_create,
    privacy_case_decide,
    privacy_decision_review,
)
from governance.remediation.models import RemediationTask
from inventory.imaging.faces import FacePolicy, detect_faces
from inventory.models import Copy, Face, Rendition, Source
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.faces import faces_run
from tests.conftest import SAMPLE_DEPARTMENTS
from tests.factories import UserFactory
from tests.inventory.scan_helpers import scan_folder

Outcome = PrivacyDecision.Outcome


@pytest.fixture(autouse=True)
def _faces_on(settings) -> None:
    settings.PROVENA_FACES = True


@pytest.fixture
def scanned(sample_archive, role_users) -> dict:
    """The sample archive scanned with the face pass (astronaut: one person, six copies)."""
    for name, root in sample_archive.items():
        scan_folder(root, department=SAMPLE_DEPARTMENTS[name])
    return {"roots": sample_archive, "users": role_users}


def _astronaut_case() -> PrivacyCase:
    copy = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    return PrivacyCase.objects.get(asset_id=copy.rendition.asset_id)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_only_the_photograph_of_a_person_held_many_times_gets_a_case(scanned) -> None:
    case = _astronaut_case()

    assert PrivacyCase.objects.count() == 1
    assert case.status == PrivacyCase.Status.OPEN
    # Five byte or pixel copies plus the 160 px thumbnail: all holdings of the same person.
    assert case.holdings == 6
    # Opened by the first scan, of film_archive, which holds the still and a backup of it.
    assert case.opened_because == "identifiable person held 2 times"
    people = Rendition.objects.filter(identifiable_faces__gt=0)
    assert {r.asset_id for r in people} == {case.asset_id}
    for name in ("coffee", "chelsea", "rocket", "coins", "brick", "grass", "gravel"):
        copy = Copy.objects.get(source__name="film_archive", path=f"stills/{name}.jpg")
        assert copy.rendition.identifiable_faces == 0, name
    assert AuditEvent.objects.filter(event_type="privacy_case_opened").count() == 1


def test_the_face_pass_runs_once_per_rendition_not_per_copy(scanned) -> None:
    astronaut = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")

    assert Face.objects.filter(rendition=astronaut.rendition, identifiable=True).count() == 1
    assert not Rendition.objects.filter(faces_checked_at__isnull=True).exists()
    # Nothing is left to look at: a second pass reads no file.
    assert faces_run().renditions == 0


def test_a_person_held_once_gets_a_case_only_in_an_external_source_when_asked(
    archives, role_users, settings
) -> None:
    root = archives / "press"
    root.mkdir()
    shutil.copy(PHOTOS_DIR / "grace_hopper.jpg", root / "hopper.jpg")
    scan_folder(root, department="LCSD")
    assert not PrivacyCase.objects.exists()

    Source.objects.filter(name="press").update(risk_tier=Source.RiskTier.EXTERNAL)
    settings.PROVENA_PRIVACY_CASE_EXTERNAL = True
    privacy_cases_refresh()

    case = PrivacyCase.objects.get()
    assert case.external and case.holdings == 1
    assert "external-facing" in case.opened_because


def test_only_the_legal_role_decides(scanned) -> None:
    users = scanned["users"]
    case = _astronaut_case()

    # A superuser holds every permission Django knows, but not the legal role.
    for name in ("compliance", "manager", "auditor", "administrator", "superuser"):
        with pytest.raises(PermissionDenied):
            privacy_case_decide(
                case=case, outcome=Outcome.RESTRICT_ACCESS, reason="x", decided_by=users[name]
            )
    assert not PrivacyDecision.objects.exists()


@pytest.mark.parametrize(
    ("outcome", "extra", "field"),
    [
        (Outcome.RESTRICT_ACCESS, {"reason": "  "}, "reason"),
        (Outcome.RETAIN_ALL, {"reason": "archive"}, "legal_basis"),
        (Outcome.CONSENT_ON_FILE, {"reason": "signed"}, "consent"),
    ],
)
def test_a_decision_without_its_reason_basis_or_consent_is_refused(
    scanned, outcome, extra, field
) -> None:
    with pytest.raises(ValidationError) as caught:
        privacy_case_decide(
            case=_astronaut_case(), outcome=outcome, decided_by=scanned["users"]["legal"], **extra
        )

    assert field in caught.value.message_dict
    assert not PrivacyDecision.objects.exists()


def test_retaining_the_master_only_creates_a_removal_task_for_every_other_copy(scanned) -> None:
    case = _astronaut_case()

    decision = privacy_case_decide(
        case=case,
        outcome=Outcome.RETAIN_MASTER_ONLY,
        reason="one archival copy is enough; the web hero image is retired",
        decided_by=scanned["users"]["legal"],
    )

    case.refresh_from_db()
    assert case.status == PrivacyCase.Status.DECIDED and case.current_decision == decision
    tasks = RemediationTask.objects.filter(origin_id=decision.pk)
    assert tasks.count() == 5
    assert decision.master_copy_id not in set(tasks.values_list("copy_id", flat=True))
    assert all(t.personal_data and t.action == "remove_duplicate" for t in tasks)
    event = AuditEvent.objects.get(event_type="privacy_decided")
    assert event.detail["outcome"] == "retain_master_only" and event.agent == "legal"


def test_a_copy_found_later_joins_the_decided_case(scanned) -> None:
    case = _astronaut_case()
    decision = privacy_case_decide(
        case=case,
        outcome=Outcome.RESTRICT_ACCESS,
        reason="staff only",
        decided_by=scanned["users"]["legal"],
    )
    assert RemediationTask.objects.filter(origin_id=decision.pk).count() == 6

    web = scanned["roots"]["web_team"]
    shutil.copy(web / "images/hero.jpg", web / "images/hero_copy.jpg")
    scan_folder(web)

    case.refresh_from_db()
    assert case.holdings == 7
    new_copy = Copy.objects.get(source__name="web_team", path="images/hero_copy.jpg")
    assert RemediationTask.objects.filter(origin_id=decision.pk, copy=new_copy).count() == 1


def test_a_destructive_decision_waits_for_a_second_legal_reviewer(scanned, settings) -> None:
    settings.PROVENA_PRIVACY_SECOND_REVIEWER = True
    legal = scanned["users"]["legal"]
    second = UserFactory(username="legal2", role=roles.LEGAL_REVIEWER)
    case = _astronaut_case()

    decision = privacy_case_decide(
        case=case, outcome=Outcome.DELETE_ALL, reason="no basis to hold", decided_by=legal
    )
    case.refresh_from_db()
    assert case.status == PrivacyCase.Status.AWAITING_APPROVAL
    assert not RemediationTask.objects.exists()
    with pytest.raises(ValidationError, match="someone other"):
        privacy_decision_review(decision=decision, approved=True, reason="ok", decided_by=legal)

    privacy_decision_review(decision=decision, approved=True, reason="agreed", decided_by=second)

    case.refresh_from_db()
    assert case.status == PrivacyCase.Status.DECIDED
    assert RemediationTask.objects.filter(origin_id=decision.pk, action="quarantine").count() == 6
    assert AuditEvent.objects.filter(event_type="privacy_approved").count() == 1


def test_a_later_decision_supersedes_and_waives_the_earlier_work(scanned) -> None:
    legal = scanned["users"]["legal"]
    case = _astronaut_case()
    first = privacy_case_decide(
        case=case, outcome=Outcome.RESTRICT_ACCESS, reason="staff only", decided_by=legal
    )
    case.refresh_from_db()

    second = privacy_case_decide(
        case=case,
        outcome=Outcome.RETAIN_ALL,
        reason="public figure, official portrait",
        legal_basis="PDPO s.8 / archival purposes",
        decided_by=legal,
    )

    assert second.supersedes == first
    first_tasks = RemediationTask.objects.filter(origin_id=first.pk)
    assert {t.status for t in first_tasks} == {"waived"}
    assert PrivacyDecision.objects.count() == 2  # the first is kept, never edited


def test_redaction_writes_blurred_derivatives_and_leaves_the_originals(scanned, settings) -> None:
    roots = scanned["roots"]
    originals = {p: _sha(p) for root in roots.values() for p in root.rglob("*") if p.is_file()}
    case = _astronaut_case()

    decision = privacy_case_decide(
        case=case,
        outcome=Outcome.REDACT,
        reason="publish blurred",
        decided_by=scanned["users"]["legal"],
    )

    redactions = Redaction.objects.filter(decision=decision)
    # Every rendition of the photograph, the 160 px copy (no identifiable face of its own) too.
    held = Rendition.objects.filter(asset_id=case.asset_id, copies__state=Copy.State.PRESENT)
    assert {r.rendition_id for r in redactions} == set(held.values_list("pk", flat=True))
    # Its face was carried from the master, not found by the detector on 160 pixels.
    assert held.get(width=160).faces_carried_from_id is not None
    from PIL import Image

    for redaction in redactions:
        path = Path(settings.PROVENA_MEDIA_ROOT) / redaction.path
        assert _sha(path) == redaction.sha256
        with Image.open(path) as im:
            assert detect_faces(im.convert("RGB"), FacePolicy()) == []
    assert {p: _sha(p) for p in originals} == originals
    assert AuditEvent.objects.filter(event_type="redacted").count() == 1


def test_expired_consent_reopens_the_case(scanned) -> None:
    legal = scanned["users"]["legal"]
    today = timezone.localdate()
    consent = consent_record_create(
        subject_reference="E. Collins",
        document_reference="LEGAL/2024/118",
        obtained_on=today - timedelta(days=30),
        expires_on=today,
        scope="press use",
        recorded_by=legal,
    )
    case = _astronaut_case()
    privacy_case_decide(
        case=case,
        outcome=Outcome.CONSENT_ON_FILE,
        reason="signed",
        consent=consent,
        decided_by=legal,
    )
    consent.expires_on = today - timedelta(days=1)
    consent.save()

    privacy_cases_refresh()

    case.refresh_from_db()
    assert case.status == PrivacyCase.Status.OPEN and case.current_decision is None


def test_thumbnails_of_people_are_blurred_for_others_and_logged_for_legal(client, scanned) -> None:
    users = scanned["users"]
    rendition = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg").rendition
    url = reverse("thumbnail", args=[rendition.pk])

    client.force_login(users["compliance"])
    blurred = client.get(url).content
    client.force_login(users["superuser"])
    blurred_for_superuser = client.get(url).content
    client.force_login(users["legal"])
    real = b"".join(client.get(url).streaming_content)

    assert blurred != real
    assert blurred_for_superuser == blurred
    assert PersonalDataView.objects.filter(user=users["legal"], rendition=rendition).count() == 1
    assert not PersonalDataView.objects.exclude(user=users["legal"]).exists()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("legal", 200),
        ("compliance", 403),
        ("manager", 403),
        ("auditor", 403),
        ("superuser", 403),
        (None, 302),
    ],
)
def test_the_case_pages_are_for_the_legal_role(client, scanned, name, status) -> None:
    if name:
        client.force_login(scanned["users"][name])
    case = _astronaut_case()

    for url in (reverse("privacy-cases"), reverse("privacy-case", args=[case.pk])):
        assert client.get(url).status_code == status
    response = client.post(
        reverse("privacy-case-decide", args=[case.pk]),
        {"outcome": "restrict_access", "reason": "staff only"},
    )
    assert response.status_code == (302 if name in ("legal", None) else 403)
    assert PrivacyDecision.objects.exists() == (name == "legal")


def test_the_case_page_shows_holdings_faces_and_a_decision_form(client, scanned) -> None:
    client.force_login(scanned["users"]["legal"])
    case = _astronaut_case()

    page = client.get(reverse("privacy-case", args=[case.pk])).content.decode()

    assert 'id="holdings">6<' in page
    assert 'class="face-id"' in page
    assert "images/hero.jpg" in page and "published/2015/collins_portrait.jpg" in page
    assert 'id="decision-form"' in page


def test_a_decision_on_a_case_whose_asset_is_gone_plans_work_on_its_photograph_only(
    scanned,
) -> None:
    case = _astronaut_case()
    brick = Copy.objects.get(source__name="film_archive", path="stills/brick.jpg")
    # Between a regroup and the refresh that re-points it, a case's asset may be gone; a
    # rendition not yet grouped is in no asset either.
    PrivacyCase.objects.filter(pk=case.pk).update(asset=None)
    case.refresh_from_db()
    Rendition.objects.filter(pk=brick.rendition_id).update(asset=None)

    privacy_case_decide(
        case=case,
        outcome=Outcome.RESTRICT_ACCESS,
        reason="staff only",
        decided_by=scanned["users"]["legal"],
    )

    tasked = set(RemediationTask.objects.values_list("copy__rendition_id", flat=True))
    assert tasked == {case.anchor_id}


def test_the_audit_chain_still_verifies_after_a_case_is_worked(scanned) -> None:
    privacy_case_decide(
        case=_astronaut_case(),
        outcome=Outcome.ESCALATE,
        reason="ask counsel",
        decided_by=scanned["users"]["legal"],
    )

    call_command("verify_audit_log")  # raises CommandError if the chain does not verify


@pytest.mark.parametrize("name", ["compliance", "manager", "auditor", "administrator", "superuser"])
def test_the_case_api_refuses_everyone_but_the_legal_role(client, scanned, name) -> None:
    client.force_login(scanned["users"][name])
    case = _astronaut_case()

    assert client.get("/api/privacy/cases/").status_code == 403
    assert client.get(f"/api/privacy/cases/{case.pk}/faces/").status_code == 403
    response = client.post(
        f"/api/privacy/cases/{case.pk}/decide/",
        {"outcome": "delete_all", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not PrivacyDecision.objects.exists()


def test_a_legal_reviewer_works_a_case_through_the_api(client, scanned) -> None:
    client.force_login(scanned["users"]["legal"])
    case = _astronaut_case()

    listed = client.get("/api/privacy/cases/").json()
    faces = client.get(f"/api/privacy/cases/{case.pk}/faces/").json()
    bad = client.post(
        f"/api/privacy/cases/{case.pk}/decide/",
        {"outcome": "burn_it", "reason": "x"},
        content_type="application/json",
    )
    made = client.post(
        f"/api/privacy/cases/{case.pk}/decide/",
        {"outcome": "retain_all", "reason": "official portrait", "legal_basis": "archives"},
        content_type="application/json",
    )

    assert [c["id"] for c in listed["results"]] == [case.pk]
    assert any(f["identifiable"] and f["width"] >= 80 for f in faces)
    assert "encoding" not in faces[0]
    assert bad.status_code == 400 and "outcome" in bad.json()
    assert made.status_code == 201 and made.json()["outcome"] == "retain_all"
    assert client.get(f"/api/privacy/cases/{case.pk}/").json()["status"] == "decided"
