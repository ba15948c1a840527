"""Build a report: check the inputs and certificate, render, sign, store and register it.

report_build() is the one service behind `manage.py build_report`, the reports page and the
API; the page and the API pass background=True and the work runs in report_run(), in a thread
without a broker or in the Celery task reports.tasks.report_build with one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from governance.audit import AuditHead, audit_head, audit_record
from governance.audit_checkpoints import CheckpointError, audit_checkpoint_write
from governance.files import write_bytes_atomic
from governance.models import User
from governance.version import VERSION
from inventory.models import Source
from reports.models import Report, ReportNumberCounter
from reports.rendering import findings_attachments, pdf_render, report_context, report_html
from reports.selectors.figures import report_data
from reports.selectors.scope import ReportScope, ScopeError, scope_sources
from reports.signing import (
    SigningCredentials,
    SigningError,
    file_sha256,
    pdf_sign,
    signing_credentials_load,
)
from reports.verification import signature_self_check

logger = logging.getLogger(__name__)

Progress = Callable[[Report, str], None]

REPORT_BUILD_TASK = "reports.tasks.report_build"


class ReportRefused(ValueError):
    """The report cannot be built as asked (bad kind, scope or certificate); nothing was done."""


class ReportFailed(RuntimeError):
    """The report was registered but its build failed; the report row holds the reason."""

    def __init__(self, report: Report, reason: str) -> None:
        super().__init__(reason)
        self.report = report


def reports_dir() -> Path:
    """Return the folder report files are stored in, under PROVENA_MEDIA_ROOT."""
    return settings.PROVENA_MEDIA_ROOT / "reports"


def report_path(report: Report) -> Path:
    """Return the stored file of a report."""
    return reports_dir() / report.file


def _highest_registered(year: int) -> int:
    prefix = f"PR-{year}-"
    last = (
        Report.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    return int(last.rsplit("-", 1)[1]) if last else 0


def _next_number(year: int) -> str:
    """Take the year's next report number from its counter (call inside a transaction)."""
    counter, _ = ReportNumberCounter.objects.select_for_update().get_or_create(year=year)
    # The registry's highest number counts too: rows from before the counter existed.
    following = max(counter.last, _highest_registered(year)) + 1
    counter.last = following
    counter.save(update_fields=["last"])
    return f"PR-{year}-{following:04d}"


def _report_register(
    *, kind: str, scope: ReportScope, sources: list[str], sign: bool, user: User | None
) -> Report:
    """Create the queued registry row with the next free number (PR-<year>-<nnnn>)."""
    year = timezone.localdate().year
    scope_json = {**scope.as_json(), "resolved_sources": sources}
    for _ in range(10):
        try:
            with transaction.atomic():
                return Report.objects.create(
                    number=_next_number(year),
                    kind=kind,
                    scope=scope_json,
                    sign_requested=sign,
                    created_by=user,
                    software_version=VERSION,
                )
        except IntegrityError:
            continue  # another build took the number at the same moment: take the next one
    raise RuntimeError("could not allocate a report number after 10 attempts")


def report_build(
    *,
    kind: str,
    sources: list[str] | tuple[str, ...] = (),
    departments: list[str] | tuple[str, ...] = (),
    period: tuple[date | None, date | None] | None = None,
    sign: bool = False,
    user: User | None = None,
    within: QuerySet[Source] | None = None,
    background: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Check the inputs and the certificate, register the report and build it (or queue it).

    `within` limits the sources a user may name (the page and the API pass the user's).
    Raises ReportRefused before any work for a bad kind, scope or certificate.
    """
    if kind not in Report.Kind.values:
        raise ReportRefused(f"unknown report kind {kind!r}; use one of {', '.join(Report.Kind)}")
    if kind == Report.Kind.MERGE_READINESS:
        raise ReportRefused(
            "a merge-readiness report is built from a partner's fingerprint bundle: use "
            "manage.py compare_archive BUNDLE --report FILE.pdf, or the Before a merge page"
        )
    date_from, date_to = period or (None, None)
    try:
        scope = ReportScope(
            sources=tuple(sorted(set(sources))),
            departments=tuple(sorted(set(departments))),
            date_from=date_from,
            date_to=date_to,
        )
        resolved = list(scope_sources(scope=scope, within=within).values_list("name", flat=True))
    except ScopeError as exc:
        raise ReportRefused(str(exc)) from exc
    if not resolved:
        raise ReportRefused(
            "no source is in scope: register and scan a source first (manage.py scan PATH)"
        )
    credentials = None
    if sign:
        try:
            credentials = signing_credentials_load()
        except SigningError as exc:
            raise ReportRefused(f"cannot sign: {exc}") from exc
    report = _report_register(kind=kind, scope=scope, sources=resolved, sign=sign, user=user)
    if background:
        report_launch(report=report)
        return report
    return report_run(report=report, credentials=credentials, progress=progress)


def _progress(report: Report, percent: int, stage: str, progress: Progress | None) -> None:
    report.progress = percent
    Report.objects.filter(pk=report.pk).update(progress=percent)
    if progress:
        progress(report, stage)


def report_run(
    *,
    report: Report,
    credentials: SigningCredentials | None = None,
    progress: Progress | None = None,
) -> Report:
    """Render, sign, store and register a queued report; on failure record why and raise."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 3)
        return now

    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, error="")
    report.status = Report.Status.RUNNING
    try:
        if report.sign_requested and credentials is None:
            credentials = signing_credentials_load()
        scope = ReportScope.from_json(report.scope)
        sources = Source.objects.filter(name__in=report.scope.get("resolved_sources", []))
        head = audit_head()
        _progress(report, 5, "collecting figures", progress)
        mark = time.perf_counter()
        data = report_data(sources=sources, scope=scope)
        mark = lap("collect_seconds", mark)
        _progress(report, 40, "rendering", progress)
        generated_at = timezone.now()
        context = report_context(
            report=report,
            data=data,
            audit_head=head,
            generated_at=generated_at,
            signing_subject=credentials.display_name if credentials else None,
        )
        html = report_html(context)
        attachments = findings_attachments(data.document)
        mark = lap("template_seconds", mark)
        pdf, pages = pdf_render(
            html=html, attachments=attachments, identifier=report.number, when=generated_at
        )
        mark = lap("pdf_seconds", mark)
        signed_at, timestamped = None, False
        if credentials is not None:
            _progress(report, 85, "signing", progress)
            pdf, signed_at, timestamped = pdf_sign_checked(
                pdf, credentials=credentials, report=report
            )
            mark = lap("sign_seconds", mark)
        _progress(report, 95, "storing", progress)
        report_store(
            report=report,
            pdf=pdf,
            pages=pages,
            signature=(credentials, signed_at, timestamped),
            head=head,
            figures=data.figures,
            timings=timings,
            since=(started, mark),
        )
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        if not isinstance(exc, SigningError | ReportRefused):
            logger.exception("report %s failed", report.number)
            reason = f"{type(exc).__name__}: {reason}"
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=reason, finished_at=timezone.now(), file=""
        )
        report.refresh_from_db()
        raise ReportFailed(report, reason) from exc
    try:
        # The report cites the head; a checkpoint keeps it outside the database too.
        audit_checkpoint_write()
    except CheckpointError as exc:
        logger.warning("report %s: no audit checkpoint written: %s", report.number, exc)
    if progress:
        progress(report, "finished")
    return report


def pdf_sign_checked(
    pdf: bytes, *, credentials: SigningCredentials, report: Report
) -> tuple[bytes, datetime | None, bool]:
    """Return the signed PDF, when it was signed and whether it was timestamped.

    The signature is checked straight away: a file that does not verify is never stored.
    """
    pdf = pdf_sign(
        pdf,
        credentials=credentials,
        reason=f"Provena report {report.number}",
        location=settings.PROVENA_ORGANISATION,
    )
    check = signature_self_check(data=pdf, certificate_pem=credentials.certificate_pem)
    if not check.ok:
        reasons = "; ".join(c.detail for c in check.failures)
        raise SigningError(f"the signed file does not verify: {reasons}")
    return pdf, check.signed_at, check.timestamped


def report_store(
    *,
    report: Report,
    pdf: bytes,
    pages: int,
    signature: tuple[SigningCredentials | None, datetime | None, bool],
    head: AuditHead,
    figures: dict,
    timings: dict[str, float],
    since: tuple[float, float],
) -> None:
    """Write the report's file, finish its registry row and cite it in the audit log."""
    credentials, signed_at, timestamped = signature
    started, mark = since
    report.file = report.file_name
    write_bytes_atomic(report_path(report), pdf)  # never a half-written report
    timings["store_seconds"] = round(time.perf_counter() - mark, 3)
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    report.status = Report.Status.FINISHED
    report.progress = 100
    report.finished_at = timezone.now()
    report.size = len(pdf)
    report.pages = pages
    report.sha256 = file_sha256(pdf)
    report.signed = credentials is not None
    if credentials is not None:
        report.signer_subject = credentials.subject
        report.signer_certificate = credentials.certificate_pem
        report.signer_certificate_sha256 = credentials.certificate_sha256
        report.signed_at = signed_at
        report.timestamped = timestamped
    report.audit_head_hash = head.hash
    report.audit_head_seq = head.seq
    report.audit_event_count = head.count
    report.figures = figures
    report.timings = timings
    with transaction.atomic():
        report.save()
        audit_record(
            event_type="cited_in_report",
            object_type="report",
            object_id=report.number,
            user=report.created_by,
            detail={
                "kind": report.kind,
                "sha256": report.sha256,
                "signed": report.signed,
                "signer": report.signer_subject,
                "sources": report.scope.get("resolved_sources", []),
                "period": {"from": report.scope.get("from"), "to": report.scope.get("to")},
                "audit_head_hash": head.hash,
                "audit_head_seq": head.seq,
                "audit_event_count": head.count,
            },
        )


def report_run_queued(*, report_id: int) -> str | None:
    """Build a queued report by id (for a task or a thread); return its status.

    A report that is gone returns None and a finished one is left as it is, so a repeated
    or redelivered task changes nothing.
    """
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return None
    if report.status == Report.Status.FINISHED:
        return report.status
    try:
        return report_run(report=report).status
    except ReportFailed as exc:
        return exc.report.status


def _run_in_thread(report_id: int) -> None:
    try:
        report_run_queued(report_id=report_id)
    finally:
        close_old_connections()


def report_launch(*, report: Report) -> None:
    """Run a queued report on Celery when a broker is set, else in a thread (or inline)."""
    if settings.CELERY_BROKER_URL:
        # Sent by name: the tasks module is an entry point over this one, never imported by it.
        transaction.on_commit(lambda: current_app.send_task(REPORT_BUILD_TASK, args=(report.pk,)))
    elif settings.PROVENA_BACKGROUND_REPORTS:
        thread = threading.Thread(
            target=_run_in_thread, args=(report.pk,), name=f"report-{report.number}", daemon=True
        )
        transaction.on_commit(thread.start)
    else:
        # A failure is recorded on the report, and the page shows the reason.
        with contextlib.suppress(ReportFailed):
            report_run(report=report)
        report.refresh_from_db()
