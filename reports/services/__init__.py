"""Report services: building (build.py); `from reports.services import report_build`."""

from __future__ import annotations

from reports.services.build import (
    ReportFailed,
    ReportRefused,
    report_build,
    report_launch,
    report_path,
    report_run,
    reports_dir,
)

__all__ = [
    "ReportFailed",
    "ReportRefused",
    "report_build",
    "report_launch",
    "report_path",
    "report_run",
    "reports_dir",
]
