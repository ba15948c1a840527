"""Celery tasks: thin entry points over the governance services."""

from __future__ import annotations

import logging

from celery import shared_task

from governance.audit import audit_verify

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def audit_log_verify() -> dict[str, object]:
    """Walk the audit chain (for Celery beat); log an error naming the first bad event."""
    result = audit_verify()
    if not result.ok:
        logger.error(
            "audit log does NOT verify at event %s: %s", result.first_bad_seq, result.reason
        )
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq}
