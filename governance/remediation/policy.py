"""The remediation policy: severity and due dates by risk (plain functions, no models)."""

from __future__ import annotations

from datetime import date, timedelta

# The severities in order, as RemediationTask.Severity names them.
SEVERITIES = ("critical", "high", "medium", "low")
DEFAULT_DUE_DAYS = "7,14,30,90"


def parse_due_days(raw: str) -> dict[str, int]:
    """Return days to the due date by severity from "critical,high,medium,low" day counts."""
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) != len(SEVERITIES):
        raise ValueError(
            f"{raw!r} must list {len(SEVERITIES)} day counts, for {', '.join(SEVERITIES)}"
        )
    days = {}
    for severity, part in zip(SEVERITIES, parts, strict=True):
        try:
            value = int(part)
        except ValueError:
            raise ValueError(f"{part!r} (for {severity}) is not a whole number of days") from None
        if value < 1:
            raise ValueError(f"{value} days (for {severity}) must be at least 1")
        days[severity] = value
    return days


def severity_for(*, personal_data: bool, risk_tier: str) -> str:
    """Return the severity name: personal data in an external-facing source comes first."""
    external = risk_tier == "external"
    if personal_data and external:
        return "critical"
    if personal_data:
        return "high"
    if external:
        return "medium"
    return "low"


def due_date_for(*, severity: str, start: date, due_days: dict[str, int]) -> date:
    """Return the due date of work of this severity that starts on the given day."""
    return start + timedelta(days=due_days[severity])
