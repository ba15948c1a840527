"""Tests for the findings embedded in report PDFs: they equal the findings export."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from inventory.models import Source
from inventory.selectors.findings import findings_csv, findings_document
from inventory.selectors.visibility import member_scope_for_audience
from tests.reports.helpers import build, embedded_files

pytestmark = pytest.mark.django_db


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "generated_at"}


def test_signed_report_embeds_the_findings_export_as_json_and_csv(
    scanned_archive, signing_cert, tmp_path: Path
) -> None:
    output = build(tmp_path, "audit", "--sign")

    files = embedded_files(output.read_bytes())

    assert set(files) == {"findings.json", "findings.csv"}
    embedded = json.loads(files["findings.json"])
    expected = findings_document(sources=Source.objects.all())
    assert embedded["groups"], "the sample archive has duplicate groups"
    assert without_time(embedded) == without_time(expected)
    assert files["findings.csv"].decode("utf-8") == findings_csv(expected)


def test_embedded_findings_are_scoped_like_the_report(scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, "audit", "--source", "web_team")

    embedded = json.loads(embedded_files(output.read_bytes())["findings.json"])

    web_team = Source.objects.filter(name="web_team")
    # Anyone in NEWS may read a report on NEWS's web_team, so LCSD's members are counted.
    expected = findings_document(
        sources=web_team, scope=member_scope_for_audience(sources=web_team)
    )
    assert without_time(embedded) == without_time(expected)
    assert [s["name"] for s in embedded["sources"]] == ["web_team"]
    assert "film_archive" not in json.dumps(embedded)
    assert any(g["other_department_copies"] for g in embedded["groups"])


def test_poppler_lists_the_attachments_of_a_signed_report(
    scanned_archive, signing_cert, tmp_path: Path
) -> None:
    output = build(tmp_path, "audit", "--sign")

    listing = subprocess.run(
        ["pdfdetach", "-list", str(output)], capture_output=True, text=True, check=True
    ).stdout

    assert "2 embedded files" in listing
    assert "findings.json" in listing
    assert "findings.csv" in listing


def test_report_declares_pdf_a_3b(scanned_archive, tmp_path: Path) -> None:
    output = build(tmp_path, "remediation")

    xmp = subprocess.run(
        ["pdfinfo", "-meta", str(output)], capture_output=True, text=True, check=True
    ).stdout

    # The XMP metadata names the PDF/A part and conformance the file was written for.
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert "Remediation progress" in xmp
