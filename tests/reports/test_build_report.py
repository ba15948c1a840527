"""Tests for manage.py build_report: each kind renders, figures, scope, registry, bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.models import AuditEvent
from inventory.models import Copy, Source
from inventory.selectors.sources import current_errors
from reports.models import Report
from reports.services import report_path
from tests.reports.helpers import build, pdf_text

pytestmark = pytest.mark.django_db

SECTION_TITLES = {
    "audit": [
        "Executive summary",
        "Methodology",
        "Inventory by source and department",
        "Duplication by tier and relation",
        "Largest duplicate groups",
        "Exceptions and scan errors",
        "Audit log",
        "Appendix",
    ],
    "privacy": [
        "Executive summary",
        "Methodology",
        "Personal-data holdings",
        "External-facing sources and their duplicates",
        "Exceptions and scan errors",
        "Audit log",
        "Appendix",
    ],
    "remediation": [
        "Executive summary",
        "Methodology",
        "Decisions and remediation",
        "Duplicates awaiting a decision",
        "Audit log",
        "Appendix",
    ],
}


@pytest.mark.parametrize("kind", ["audit", "privacy", "remediation"])
def test_each_kind_renders_a_pdf_with_its_sections_and_key_figures(
    kind: str, scanned_archive, tmp_path: Path
) -> None:
    output = build(tmp_path, kind)

    data = output.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(output)
    report = Report.objects.get()
    assert report.status == Report.Status.FINISHED
    assert report.number in text
    assert "Provena demo organisation" in text
    for number, title in enumerate(SECTION_TITLES[kind], start=1):
        assert f"{number}. {title}" in text, title
    present = Copy.objects.filter(state=Copy.State.PRESENT).count()
    assert report.figures["files"] == present
    assert f"{present:,}" in text
    assert f"{report.figures['duplicate_groups']:,}" in text
    assert "Page 3 of" in text


def test_audit_report_states_methods_limits_and_costs(scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, "audit")

    text = " ".join(pdf_text(output).split())
    figures = Report.objects.get().figures
    assert figures["duplicate_groups"] > 0
    assert figures["reclaimable_bytes"] > 0
    assert "SHA-256 of the file's bytes" in text
    assert "pixel identity" in text
    assert "Crops are treated as distinct works" in text
    assert "Near-duplicates are proposed, not decided" in text
    assert "not part of this version" not in text
    # The master rule in force, in words, and the reclaimable definition of issue 14.
    assert "never a derivative while what it was made from is held" in text
    assert "every byte or pixel copy beyond the one kept of each distinct picture" in text
    assert "per GB-month" in text
    # The scan errors of the sample archive's bad files are listed with their reasons.
    errors = list(current_errors(sources=Source.objects.all()))
    assert figures["scan_errors"] == len(errors) >= 6
    for error in errors:
        assert f"{error.path} {error.error}" in text


def test_privacy_report_says_plainly_when_personal_data_was_not_assessed(
    scanned_archive, tmp_path: Path
) -> None:
    output = build(tmp_path, "privacy")

    text = " ".join(pdf_text(output).split())
    assert "Personal data not yet assessed" in text
    assert "Copies checked for faces 0 of" in text
    # scanned_archive registers every source as internal: none is external-facing.
    assert "No source in scope is registered as external-facing" in text
    assert Report.objects.get().figures["personal_data_detected"] is False


def test_privacy_report_lists_external_facing_sources_and_their_duplicates(
    scanned_archive, tmp_path: Path
) -> None:
    Source.objects.filter(name="web_team").update(risk_tier=Source.RiskTier.EXTERNAL)

    output = build(tmp_path, "privacy")

    figures = Report.objects.get().figures
    assert figures["external_sources"] == 1
    assert figures["groups_touching_external"] > 0
    text = pdf_text(output)
    assert "web_team" in text.split("External-facing sources and their duplicates")[-1]


def test_remediation_report_says_when_no_tasks_exist_yet(scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, "remediation")

    text = " ".join(pdf_text(output).split())
    assert "No remediation tasks yet" in text
    assert "Redundant copies awaiting any decision" in text
    assert Report.objects.get().figures["remediation"]["total"] == 0


def test_remediation_report_counts_the_seeded_organisations_tasks(
    archives, role_users, tmp_path: Path
) -> None:
    from tests.remediation.conftest import Archive, build_tree
    from tests.remediation.seed import seed_tasks

    library, website = build_tree(archives)
    from tests.inventory.scan_helpers import scan_folder

    scan_folder(library, name="library", department="LCSD")
    scan_folder(website, name="website", department="NEWS")
    seeded = seed_tasks(Archive(library=library, website=website), role_users)

    output = build(tmp_path, "remediation")

    remediation = Report.objects.get().figures["remediation"]
    assert remediation["total"] == 5
    assert remediation["by_status"]["verified"] == 1 and remediation["overdue"] == 1
    assert remediation["reclaimed_bytes"] == seeded.backup.size > 0
    text = " ".join(pdf_text(output).split())
    assert "No remediation tasks yet" not in text
    assert "on copies showing identifiable people 3" in text


def test_same_inventory_gives_the_same_figures(scanned_archive, tmp_path: Path) -> None:
    build(tmp_path, "audit", name="first.pdf")
    build(tmp_path, "audit", name="second.pdf")

    first, second = Report.objects.order_by("pk")
    assert first.number != second.number
    assert first.figures == second.figures
    assert first.sha256 != second.sha256  # different numbers and times, same figures


def test_reports_are_numbered_per_year_and_registered_with_their_file(
    scanned_archive, tmp_path: Path
) -> None:
    output = build(tmp_path, "audit")
    build(tmp_path, "privacy")

    first, second = Report.objects.order_by("pk")
    assert first.number.endswith("-0001")
    assert second.number.endswith("-0002")
    assert first.number.startswith("PR-20")
    stored = report_path(first)
    assert stored.read_bytes() == output.read_bytes()
    assert first.size == stored.stat().st_size
    assert first.pages >= 8
    assert first.signed is False
    assert first.scope["resolved_sources"] == ["film_archive", "newsroom", "web_team"]


def test_source_scope_limits_the_figures(scanned_archive, tmp_path: Path) -> None:
    build(tmp_path, "audit", "--source", "film_archive")

    report = Report.objects.get()
    expected = Copy.objects.filter(source__name="film_archive", state="present").count()
    assert report.figures["files"] == expected
    assert [row["name"] for row in report.figures["by_source"]] == ["film_archive"]
    assert report.scope["sources"] == ["film_archive"]


def test_department_scope_selects_its_sources(scanned_archive, tmp_path: Path) -> None:
    build(tmp_path, "audit", "--department", "NEWS")

    report = Report.objects.get()
    assert report.scope["resolved_sources"] == ["newsroom", "web_team"]


def test_a_period_before_any_scan_counts_no_files(scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, "audit", "--from", "2001-01-01", "--to", "2001-12-31")

    report = Report.objects.get()
    assert report.figures["files"] == 0
    assert report.figures["duplicate_groups"] == 0
    assert report.figures["scan_errors"] == 0
    assert "01 Jan 2001 to 31 Dec 2001" in pdf_text(output)


def test_unknown_source_is_refused_before_any_work(scanned_archive, tmp_path: Path) -> None:
    output = tmp_path / "report.pdf"

    with pytest.raises(CommandError, match="unknown source.*no_such_source"):
        call_command(
            "build_report", "--kind", "audit", "--source", "no_such_source", "--output", output
        )

    assert not output.exists()
    assert not Report.objects.exists()


def test_reversed_period_is_refused(scanned_archive, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="starts .* after it ends"):
        build(tmp_path, "audit", "--from", "2026-02-01", "--to", "2026-01-01")

    assert not Report.objects.exists()


def test_existing_output_is_not_overwritten_without_force(scanned_archive, tmp_path: Path) -> None:
    output = tmp_path / "report.pdf"
    output.write_bytes(b"keep me")

    with pytest.raises(CommandError, match="already exists"):
        call_command("build_report", "--kind", "audit", "--output", output)

    assert output.read_bytes() == b"keep me"


def test_building_a_report_is_recorded_in_the_audit_log(scanned_archive, tmp_path: Path) -> None:
    before = AuditEvent.objects.count()

    build(tmp_path, "audit")

    report = Report.objects.get()
    event = AuditEvent.objects.get(event_type="cited_in_report")
    assert event.object_type == "report"
    assert event.object_id == report.number
    assert event.detail["sha256"] == report.sha256
    # The report cites the chain as it stood before its own event.
    assert report.audit_event_count == before
    assert event.seq == before + 1


@pytest.mark.parametrize("kind", ["audit", "privacy", "remediation"])
def test_every_page_renders_to_an_image(kind: str, scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, kind)

    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(output), str(tmp_path / "page")], check=True
    )

    assert len(list(tmp_path.glob("page-*.png"))) == Report.objects.get().pages


def test_privacy_report_counts_holdings_of_identifiable_people_and_cases(
    settings, sample_archive, role_users, tmp_path: Path
) -> None:
    from governance.privacy.models import PrivacyCase
    from tests.conftest import SAMPLE_DEPARTMENTS
    from tests.inventory.scan_helpers import scan_folder

    settings.PROVENA_FACES = True
    for name, root in sample_archive.items():
        scan_folder(root, department=SAMPLE_DEPARTMENTS[name])

    output = build(tmp_path, "privacy")

    text = " ".join(pdf_text(output).split())
    privacy = Report.objects.get().figures["privacy"]
    assert privacy["photographs_with_people"] == 1
    # The 160 px thumbnail shows her face only 28 px across, yet it is the same photograph of
    # her: identifiability belongs to the photograph, so all six copies are holdings.
    assert privacy["holdings_with_people"] == 6
    assert privacy["cases_awaiting"] == PrivacyCase.objects.count() == 1
    assert "Personal data not yet assessed" not in text
    assert "Their holdings 6, of which 0 in external-facing sources" in text
    assert "Privacy cases by status open: 1" in text
