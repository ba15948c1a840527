"""Answering data access requests as the PDPO asks, on real portraits: the 40-day clock and its
reminders (the clock passed in), the reply sent (distinct from the pack built), a partial reply
with reasons (s19(2)), refusals and the refusal log (s21, s27), closing, and the retention purge
of the request's data."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import AuditEvent
from governance.privacy.models import (
    AccessRequestRefusal,
    AccessRequestReply,
    DataAccessRequest,
    PrivacyCase,
    ReferencePhoto,
    RequestCandidate,
    ResponsePack,
)
from governance.privacy.selectors.requests import is_overdue, reminder_due, retention_until
from governance.privacy.services.cases import privacy_cases_refresh
from governance.privacy.services.reference_photos import reference_photo_add
from governance.privacy.services.request_deadlines import (
    access_request_data_purge,
    access_request_reminders_send,
)
from governance.privacy.services.request_replies import (
    access_request_close,
    access_request_refuse,
    access_request_reply_record,
)
from governance.privacy.services.requests import (
    access_request_create,
    access_request_search,
    request_candidate_decide,
)
from governance.privacy.services.response_packs import response_pack_build
from tests.privacy.dsar_helpers import (
    astronaut_reference,
    build_face_archive,
    enable_encodings,
    jpeg_upload,
    scan_face_archive,
)

pytestmark = pytest.mark.django_db
NON_LEGAL = ("compliance", "auditor", "manager", "administrator")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def face_archive(archives: Path, settings, role_users):
    enable_encodings(settings)
    archive = build_face_archive(archives)
    scan_face_archive(archive)
    return archive


def _request(legal, received_on: datetime.date | None = None) -> DataAccessRequest:
    return access_request_create(
        subject_reference="DSAR-2026-031 Chan Tai Man",
        received_on=received_on or timezone.localdate(),
        notes="",
        created_by=legal,
    )


def _answered(legal) -> tuple[DataAccessRequest, ResponsePack]:
    """A request searched on the astronaut's reference photo, every candidate confirmed, and
    its response pack built."""
    request = _request(legal, timezone.localdate() - 10 * DAY)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    for candidate in request.candidates.all():
        request_candidate_decide(candidate=candidate, confirmed=True, user=legal)
    return request, response_pack_build(request=request, user=legal)


def _events(request: DataAccessRequest) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="access_request", object_id=str(request.pk))
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


# --- the 40-day clock and its reminders ------------------------------------------------------


def test_reminders_go_once_when_due_soon_and_once_when_overdue(role_users, settings) -> None:
    legal = role_users["legal"]
    legal.email = "legal@example.org"
    legal.save()
    received = datetime.date(2026, 10, 1)
    request = _request(legal, received)
    assert request.due_on == datetime.date(2026, 11, 10)  # 40 days from receipt
    settings.PROVENA_DSAR_REMINDER_DAYS = 7

    # 8 days left: nothing yet.
    assert access_request_reminders_send(today=request.due_on - 8 * DAY).requests == 0
    assert mail.outbox == []

    soon = access_request_reminders_send(today=request.due_on - 7 * DAY)
    assert (soon.requests, soon.sent) == (1, 1)
    message = mail.outbox[0]
    assert message.to == ["legal@example.org"]
    assert f"request {request.pk}" in message.body and "7 days left" in message.body
    # The subject's reference is personal data: it stays out of the e-mail.
    assert "Chan Tai Man" not in message.body and "DSAR-2026-031" not in message.body
    # Once per stage: the next days until the due date send nothing more.
    assert access_request_reminders_send(today=request.due_on - 3 * DAY).requests == 0
    assert access_request_reminders_send(today=request.due_on).requests == 0
    assert not is_overdue(request=request, today=request.due_on)

    assert is_overdue(request=request, today=request.due_on + DAY)
    late = access_request_reminders_send(today=request.due_on + DAY)
    assert late.requests == 1 and "OVERDUE by 1 day" in mail.outbox[1].body
    assert "(1 overdue)" in mail.outbox[1].subject
    assert access_request_reminders_send(today=request.due_on + 5 * DAY).requests == 0
    assert len(mail.outbox) == 2

    request.refresh_from_db()
    assert request.reminder == DataAccessRequest.Reminder.OVERDUE
    reminded = AuditEvent.objects.filter(event_type="access_request_reminded").order_by("seq")
    assert [e.detail["stage"] for e in reminded] == ["due_soon", "overdue"]
    assert all(e.agent_user is None for e in reminded)  # Provena itself, as from cron


def test_a_legal_reviewer_without_an_address_is_named_and_the_dry_run_changes_nothing(
    role_users,
) -> None:
    request = _request(role_users["legal"], timezone.localdate() - 38 * DAY)

    dry = access_request_reminders_send(dry_run=True)

    assert dry.requests == 1 and dry.sent == 0 and dry.skipped == ["legal has no e-mail address"]
    request.refresh_from_db()
    assert request.reminder == "" and "access_request_reminded" not in _events(request)
    assert reminder_due(request=request) == DataAccessRequest.Reminder.DUE_SOON
    # With nobody to tell, the stage is not marked as reminded: the next run tries again.
    nobody = access_request_reminders_send()
    assert nobody.sent == 0 and nobody.skipped == ["legal has no e-mail address"]
    request.refresh_from_db()
    assert request.reminder == "" and "access_request_reminded" not in _events(request)


def test_a_partial_reply_in_time_stops_the_clock_from_showing_overdue(role_users) -> None:
    legal = role_users["legal"]
    received = timezone.localdate() - 45 * DAY
    request = _request(legal, received)
    assert is_overdue(request=request)

    access_request_reply_record(
        request=request,
        kind=AccessRequestReply.Kind.PARTIAL,
        sent_on=received + 39 * DAY,
        means="post",
        reasons="The press archive's tapes are off site until next month.",
        user=legal,
    )

    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.PARTIAL
    assert not is_overdue(request=request) and reminder_due(request=request) == ""
    event = AuditEvent.objects.get(event_type="access_request_sent")
    assert event.detail["late"] is False and event.detail["days_after_receipt"] == 39
    # The reasons stay with the reply (legal only), out of the log other roles read.
    assert "tapes" not in str(event.detail)


# --- replies -----------------------------------------------------------------------------------


def test_a_pack_built_is_not_a_reply_until_it_is_sent(face_archive, role_users) -> None:
    legal = role_users["legal"]
    request, pack = _answered(legal)
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.OPEN and request.responded_at is None

    partial = access_request_reply_record(
        request=request,
        kind=AccessRequestReply.Kind.PARTIAL,
        pack=pack,
        sent_on=timezone.localdate() - DAY,
        means="e-mail",
        reasons="The images from the press source follow once the source is rescanned.",
        user=legal,
    )
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.PARTIAL and request.responded_at is None

    full = access_request_reply_record(
        request=request,
        kind=AccessRequestReply.Kind.FULL,
        pack=pack,
        sent_on=timezone.localdate(),
        means="e-mail",
        user=legal,
    )

    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.RESPONDED and request.responded_at
    assert list(request.replies.order_by("pk")) == [partial, full]
    sent = AuditEvent.objects.filter(event_type="access_request_sent").order_by("seq")
    assert [(e.detail["kind"], e.detail["pack_sha256"]) for e in sent] == [
        ("partial", pack.sha256),
        ("full", pack.sha256),
    ]
    assert _events(request)[-4:] == [
        "access_request_match",
        "access_request_pack_built",
        "access_request_sent",
        "access_request_sent",
    ]


def test_replies_that_break_the_rules_are_refused_with_the_rule(role_users) -> None:
    legal = role_users["legal"]
    received = timezone.localdate() - 5 * DAY
    request = _request(legal, received)
    other = _request(legal)
    other_pack = ResponsePack.objects.create(
        request=other, path="x.zip", sha256="0" * 64, copies=0, images=0, created_by=legal
    )

    def reply(**kwargs):
        arguments = {
            "request": request,
            "kind": "partial",
            "sent_on": received,
            "means": "post",
            "reasons": "tapes off site",
            "user": legal,
        }
        return access_request_reply_record(**{**arguments, **kwargs})

    with pytest.raises(ValidationError, match="s19"):
        reply(reasons="  ")
    with pytest.raises(ValidationError, match="name the response pack"):
        reply(kind="full", reasons="")
    with pytest.raises(ValidationError, match="another request"):
        reply(kind="full", pack=other_pack)
    with pytest.raises(ValidationError, match="future"):
        reply(sent_on=timezone.localdate() + DAY)
    with pytest.raises(ValidationError, match="before the request was received"):
        reply(sent_on=received - DAY)
    with pytest.raises(ValidationError, match="how the reply was sent"):
        reply(means="")
    with pytest.raises(ValidationError, match="complete"):
        reply(kind="everything")
    assert not AccessRequestReply.objects.exists()
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.OPEN


@pytest.mark.parametrize("role", NON_LEGAL)
def test_only_the_legal_role_replies_refuses_or_closes(role_users, role) -> None:
    request = _request(role_users["legal"])
    user = role_users[role]
    with pytest.raises(PermissionDenied):
        access_request_reply_record(
            request=request,
            kind="partial",
            sent_on=timezone.localdate(),
            means="post",
            reasons="x",
            user=user,
        )
    with pytest.raises(PermissionDenied):
        access_request_refuse(
            request=request,
            ground="identity",
            reasons="x",
            notified_on=timezone.localdate(),
            user=user,
        )
    with pytest.raises(PermissionDenied):
        access_request_close(request=request, note="x", user=user)
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.OPEN


# --- refusals and the refusal log --------------------------------------------------------------


def test_a_refusal_goes_into_the_log_and_ends_work_on_the_request(role_users) -> None:
    legal = role_users["legal"]
    received = timezone.localdate() - 50 * DAY
    request = _request(legal, received)

    with pytest.raises(ValidationError, match="reasons"):
        access_request_refuse(
            request=request, ground="identity", reasons="", notified_on=received, user=legal
        )
    with pytest.raises(ValidationError, match="ground"):
        access_request_refuse(
            request=request, ground="because", reasons="x", notified_on=received, user=legal
        )
    refusal = access_request_refuse(
        request=request,
        ground=AccessRequestRefusal.Ground.IDENTITY,
        reasons="The copy of the identity card sent does not match the requestor's name.",
        notified_on=received + 41 * DAY,
        user=legal,
    )

    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.REFUSED
    event = AuditEvent.objects.get(event_type="access_request_refused")
    # Notified on day 41: s21 asks for the 40 days, so the log says it was late.
    assert event.outcome == "warning" and event.detail["late"] is True
    assert event.detail["ground"] == "identity" and "identity card" not in str(event.detail)
    with pytest.raises(ValidationError, match="refused"):
        reference_photo_add(
            request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
        )
    with pytest.raises(ValidationError, match="refused"):
        access_request_reply_record(
            request=request,
            kind="partial",
            sent_on=received,
            means="post",
            reasons="x",
            user=legal,
        )

    client = Client()
    client.force_login(legal)
    page = client.get(reverse("dsar-refusals")).content.decode()
    assert f"refusal-{refusal.pk}" in page and "does not match the requestor" in page
    assert "s20(1)(a)" in page and "after the due date" in page
    api = client.get("/api/access-requests/refusals/")
    assert api.status_code == 200
    rows = api.json()["results"] if isinstance(api.json(), dict) else api.json()
    assert [(r["request"], r["ground"]) for r in rows] == [(request.pk, "identity")]


@pytest.mark.parametrize("role", NON_LEGAL)
def test_other_roles_cannot_read_the_refusal_log(role_users, role) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    access_request_refuse(
        request=request,
        ground="repeated",
        reasons="third identical request this month",
        notified_on=timezone.localdate(),
        user=legal,
    )
    client = Client()
    client.force_login(role_users[role])
    assert client.get(reverse("dsar-refusals")).status_code == 403
    assert client.get("/api/access-requests/refusals/").status_code == 403


def test_an_answered_request_cannot_then_be_refused(face_archive, role_users) -> None:
    legal = role_users["legal"]
    request, pack = _answered(legal)
    access_request_reply_record(
        request=request,
        kind="full",
        pack=pack,
        sent_on=timezone.localdate(),
        means="e-mail",
        user=legal,
    )
    with pytest.raises(ValidationError, match="cannot be refused"):
        access_request_refuse(
            request=request,
            ground="other",
            reasons="x",
            notified_on=timezone.localdate(),
            user=legal,
        )
    assert not AccessRequestRefusal.objects.exists()


# --- closing and the retention purge -----------------------------------------------------------


def test_closing_an_unanswered_request_needs_a_note(role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    with pytest.raises(ValidationError, match="withdrew"):
        access_request_close(request=request, note="", user=legal)

    access_request_close(request=request, note="The requestor withdrew it by letter.", user=legal)

    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.CLOSED and request.closed_by == legal
    with pytest.raises(ValidationError, match="already closed"):
        access_request_close(request=request, note="again", user=legal)
    event = AuditEvent.objects.get(event_type="access_request_closed")
    assert event.detail == {"previous_status": "open", "answered": False, "with_note": True}


def test_the_request_data_is_deleted_after_the_retention_period(
    face_archive, role_users, settings
) -> None:
    legal = role_users["legal"]
    settings.PROVENA_DSAR_RETENTION_DAYS = 90
    request, pack = _answered(legal)
    access_request_reply_record(
        request=request,
        kind="full",
        pack=pack,
        sent_on=timezone.localdate(),
        means="e-mail",
        user=legal,
    )
    closed = timezone.now()
    access_request_close(request=request, note="", user=legal, now=closed)
    request.refresh_from_db()
    assert retention_until(request=request) == closed + 90 * DAY
    media = Path(settings.PROVENA_MEDIA_ROOT)
    photo = request.reference_photos.get()
    files = [media / photo.path, media / pack.path]
    assert all(path.is_file() for path in files)
    candidates = request.candidates.count()
    assert candidates == 3

    # One day short of the retention period: nothing is deleted.
    early = access_request_data_purge(now=closed + 89 * DAY)
    assert early.purged == [] and all(path.is_file() for path in files)

    purged = access_request_data_purge(now=closed + 90 * DAY)

    assert [r.pk for r in purged.purged] == [request.pk]
    assert (purged.photos, purged.packs, purged.candidates) == (1, 1, 3)
    assert not any(path.exists() for path in files)
    assert not (media / "access-requests" / str(request.pk)).exists()
    assert not ReferencePhoto.objects.filter(request=request).exists()
    assert not RequestCandidate.objects.filter(request=request).exists()
    request.refresh_from_db()
    pack.refresh_from_db()
    assert request.data_purged_at and pack.purged_at
    # The request, what was sent and when, stays as the record.
    assert request.replies.get().pack == pack and pack.sha256
    event = AuditEvent.objects.get(event_type="access_request_purged")
    assert event.detail["reference_photos"] == [photo.sha256]
    assert event.detail["packs"] == [{"pack": pack.pk, "sha256": pack.sha256}]
    assert event.detail["candidates"] == 3 and event.detail["retention_days"] == 90
    # Idempotent: a second run finds nothing to do.
    assert access_request_data_purge(now=closed + 200 * DAY).purged == []
    assert AuditEvent.objects.filter(event_type="access_request_purged").count() == 1
    # A purged pack can no longer be downloaded, and the page says it was deleted.
    client = Client()
    client.force_login(legal)
    assert client.get(reverse("dsar-pack-download", args=[request.pk, pack.pk])).status_code == 404
    page = client.get(reverse("dsar-detail", args=[request.pk])).content.decode()
    assert "were deleted" in page


def test_a_refused_request_keeps_its_refusal_after_the_purge(role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    refusal = access_request_refuse(
        request=request,
        ground="not_locatable",
        reasons="no date or place given for the photographs",
        notified_on=timezone.localdate(),
        user=legal,
    )
    closed = timezone.now() - 100 * DAY
    access_request_close(request=request, note="", user=legal, now=closed)

    assert len(access_request_data_purge().purged) == 1

    assert AccessRequestRefusal.objects.get() == refusal
    assert DataAccessRequest.objects.get().data_purged_at is not None


def test_the_command_runs_reminders_and_the_purge_from_cron(role_users, capsys) -> None:
    legal = role_users["legal"]
    legal.email = "legal@example.org"
    legal.save()
    _request(legal, timezone.localdate() - 36 * DAY)
    closed = _request(legal)
    access_request_close(
        request=closed, note="withdrawn", user=legal, now=timezone.now() - 95 * DAY
    )

    call_command("access_requests", "remind", "--dry-run")
    assert "would send 1 e-mail(s) about 1 request(s)" in capsys.readouterr().out
    assert mail.outbox == []
    call_command("access_requests", "remind")
    assert "sent 1 e-mail(s) about 1 request(s)" in capsys.readouterr().out
    assert len(mail.outbox) == 1

    call_command("access_requests", "purge", "--dry-run")
    assert "would delete the data of 1 request(s)" in capsys.readouterr().out
    assert DataAccessRequest.objects.get(pk=closed.pk).data_purged_at is None
    call_command("access_requests", "purge")
    assert "deleted the data of 1 request(s) closed more than 90 days" in capsys.readouterr().out
    assert DataAccessRequest.objects.get(pk=closed.pk).data_purged_at is not None
    with pytest.raises(CommandError):
        call_command("access_requests", "forget")


# --- candidates and open privacy cases ---------------------------------------------------------


def test_candidates_name_the_open_privacy_case_of_their_photograph(face_archive, role_users):
    legal = role_users["legal"]
    privacy_cases_refresh()
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    held_twice = PrivacyCase.objects.exclude(status=PrivacyCase.Status.DECIDED).filter(
        asset__renditions__faces__in=request.candidates.values("face_id")
    )
    assert held_twice.exists()  # the astronaut's original is held in two places

    client = Client()
    client.force_login(legal)
    candidates = client.get(f"/api/access-requests/{request.pk}/candidates/").json()
    linked = {case for c in candidates for case in c["privacy_cases"]}
    assert linked == set(held_twice.values_list("pk", flat=True))
    page = client.get(reverse("dsar-detail", args=[request.pk])).content.decode()
    for case in linked:
        assert f"open privacy case {case}" in page


# --- the pages ---------------------------------------------------------------------------------


def test_the_pages_record_a_reply_refuse_and_close_with_clear_errors(role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal, timezone.localdate() - 3 * DAY)
    client = Client()
    client.force_login(legal)
    today = timezone.localdate().isoformat()

    detail = client.get(reverse("dsar-detail", args=[request.pk])).content.decode()
    assert 'id="reply-form"' in detail and 'id="refuse-form"' in detail
    no_reasons = client.post(
        reverse("dsar-reply", args=[request.pk]),
        {"kind": "partial", "sent_on": today, "means": "post"},
    )
    assert no_reasons.status_code == 400 and "s19(2)" in no_reasons.content.decode()
    no_means = client.post(reverse("dsar-reply", args=[request.pk]), {"kind": "full"})
    assert no_means.status_code == 400 and "means" in no_means.content.decode()
    bad_pack = client.post(
        reverse("dsar-reply", args=[request.pk]),
        {"kind": "full", "sent_on": today, "means": "post", "pack": "999"},
    )
    assert bad_pack.status_code == 400 and "not one of this request" in bad_pack.content.decode()

    sent = client.post(
        reverse("dsar-reply", args=[request.pk]),
        {"kind": "partial", "sent_on": today, "means": "post", "reasons": "tapes off site"},
        follow=True,
    )
    assert sent.status_code == 200 and "Partial reply" in sent.content.decode()
    refused = client.post(
        reverse("dsar-refuse", args=[request.pk]),
        {"ground": "other_controller", "reasons": "the agency holds them", "notified_on": today},
        follow=True,
    )
    assert refused.status_code == 200 and "refusal log" in refused.content.decode()
    closed = client.post(reverse("dsar-close", args=[request.pk]), {"note": ""}, follow=True)
    assert closed.status_code == 200 and "will be deleted on" in closed.content.decode()
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.CLOSED
    again = client.post(reverse("dsar-close", args=[request.pk]), {"note": ""})
    assert again.status_code == 400 and "already closed" in again.content.decode()


def test_the_api_refuses_bad_replies_with_a_message(role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    client = Client()
    client.force_login(legal)
    url = f"/api/access-requests/{request.pk}/"
    partial = client.post(
        f"{url}reply/",
        {"kind": "partial", "sent_on": timezone.localdate().isoformat(), "means": "post"},
        content_type="application/json",
    )
    assert partial.status_code == 400 and "s19(2)" in str(partial.json())
    refuse = client.post(f"{url}refuse/", {"ground": "x"}, content_type="application/json")
    assert refuse.status_code == 400 and "ground" in refuse.json()
    close = client.post(f"{url}close/", {}, content_type="application/json")
    assert close.status_code == 400 and "withdrew" in str(close.json())
