"""Tests for manage.py export_findings: the findings export, version 1 (DESIGN.md)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inventory.sample_archive import ARCHIVE_LAYOUT, BAD_FILES, BAD_FILES_DIR

RELATIONS = {
    "master",
    "exact_copy",
    "same_pixels",
    "reencoded",
    "format_converted",
    "resized",
    "cropped",
    "rotated",
    "mirrored",
    "colour_adjusted",
    "grayscale",
    "watermarked",
    "bordered",
    "blurred",
    "edited",
    "similar",
}
TIERS = {"certain", "probable", "possible"}
MEMBER_FIELDS = {"source", "path", "sha256", "relation", "tier", "distance"}


def export(*args: str, tmp_path: Path) -> Path:
    target = tmp_path / "findings.out"
    call_command("export_findings", *args, "--output", str(target), stderr=io.StringIO())
    return target


def export_json(tmp_path: Path, *args: str) -> dict:
    target = export("--format", "json", *args, tmp_path=tmp_path)
    return json.loads(target.read_text(encoding="utf-8"))


def group_of(document: dict, source: str, path: str) -> dict | None:
    for group in document["groups"]:
        if any((m["source"], m["path"]) == (source, path) for m in group["members"]):
            return group
    return None


def member(group: dict, source: str, path: str) -> dict:
    (found,) = [m for m in group["members"] if (m["source"], m["path"]) == (source, path)]
    return found


def bad_file_keys(newsroom_root: Path) -> set[tuple[str, str]]:
    """Return (source, reported path) of every bad file the sample archive holds."""
    incoming = newsroom_root / BAD_FILES_DIR
    return {
        (
            "newsroom",
            f"{BAD_FILES_DIR}/"
            + name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace"),
        )
        for name in BAD_FILES
        if (incoming / name).is_symlink() or (incoming / name).exists()
    }


def test_json_export_has_the_version_1_top_level_keys(tmp_path, scanned_archive) -> None:
    document = export_json(tmp_path)

    assert {"schema", "generated_at", "sources", "groups", "errors"} <= set(document)
    assert document["schema"] == "provena.findings/1"
    generated = datetime.strptime(document["generated_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((datetime.now(UTC) - generated.replace(tzinfo=UTC)).total_seconds()) < 300


def test_json_export_lists_each_source_with_its_root_and_department(
    tmp_path, sample_archive, scanned_archive
) -> None:
    document = export_json(tmp_path)

    assert {(s["name"], s["root"], s["department"]) for s in document["sources"]} == {
        ("film_archive", str(sample_archive["film_archive"].resolve()), "LCSD"),
        ("newsroom", str(sample_archive["newsroom"].resolve()), "NEWS"),
        ("web_team", str(sample_archive["web_team"].resolve()), "NEWS"),
    }


def test_every_group_member_has_the_contract_fields_and_vocabulary(
    tmp_path, scanned_archive
) -> None:
    document = export_json(tmp_path)

    assert document["groups"]
    for group in document["groups"]:
        assert isinstance(group["id"], int)
        assert isinstance(group["asset"], int)
        assert set(group["master"]) == {"source", "path"}
        assert len(group["members"]) >= 2
        for m in group["members"]:
            assert set(m) >= MEMBER_FIELDS
            assert m["relation"] in RELATIONS
            assert m["tier"] in TIERS
            assert isinstance(m["distance"], int)
            assert m["distance"] >= 0
            assert len(m["sha256"]) == 64


def test_each_group_has_exactly_one_master_and_it_is_the_groups_master(
    tmp_path, scanned_archive
) -> None:
    document = export_json(tmp_path)

    for group in document["groups"]:
        masters = [m for m in group["members"] if m["relation"] == "master"]
        assert len(masters) == 1, group
        assert {"source": masters[0]["source"], "path": masters[0]["path"]} == group["master"]


def test_member_paths_are_relative_slash_separated_and_name_the_file_hashed(
    tmp_path, sample_archive, scanned_archive
) -> None:
    document = export_json(tmp_path)
    roots = {s["name"]: Path(s["root"]) for s in document["sources"]}

    for group in document["groups"]:
        for m in group["members"]:
            assert not m["path"].startswith("/")
            assert "\\" not in m["path"]
            on_disk = roots[m["source"]] / m["path"]
            assert on_disk.is_file(), m
            assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == m["sha256"]


def test_each_copy_appears_in_at_most_one_group(tmp_path, scanned_archive) -> None:
    document = export_json(tmp_path)

    keys = [(m["source"], m["path"]) for g in document["groups"] for m in g["members"]]
    assert len(keys) == len(set(keys))
    assert len({g["id"] for g in document["groups"]}) == len(document["groups"])


def test_byte_and_metadata_only_copies_are_grouped_with_their_master(
    tmp_path, scanned_archive
) -> None:
    document = export_json(tmp_path)

    checked = 0
    for entry in ARCHIVE_LAYOUT:
        if entry.relation not in {"exact_copy", "same_pixels"}:
            continue
        group = group_of(document, entry.source, entry.path)
        assert group is not None, entry.key
        assert group["master"] == {"source": "film_archive", "path": f"stills/{entry.photo}.jpg"}
        assert member(group, entry.source, entry.path)["relation"] == entry.relation
        assert member(group, entry.source, entry.path)["tier"] == "certain"
        checked += 1
    assert checked > 0
    # The web team's byte copy of the newsroom's PNG belongs with that PNG.
    png = group_of(document, "web_team", "assets/chelsea.png")
    assert png is not None
    assert member(png, "newsroom", "converted/chelsea.png")


def test_photographs_held_once_are_not_listed(tmp_path, scanned_archive) -> None:
    document = export_json(tmp_path)

    # Textures with no copies, and retina, whose only copy is the truncated bad file.
    for photo in ("brick", "gravel", "grass", "retina"):
        assert group_of(document, "film_archive", f"stills/{photo}.jpg") is None, photo


def test_errors_list_every_bad_file_of_the_sample_archive(
    tmp_path, sample_archive, scanned_archive
) -> None:
    document = export_json(tmp_path)

    reported = {(e["source"], e["path"]): e["error"] for e in document["errors"]}
    assert set(reported) == bad_file_keys(sample_archive["newsroom"])
    assert len(reported) >= 7
    assert reported[("newsroom", "incoming/truncated.jpg")] == "truncated JPEG data"
    assert all(reported.values())


def test_csv_export_has_one_row_per_group_member_with_the_same_fields(
    tmp_path, scanned_archive
) -> None:
    document = export_json(tmp_path)
    target = export("--format", "csv", tmp_path=tmp_path)

    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))

    assert set(rows[0]) >= MEMBER_FIELDS
    assert len(rows) == sum(len(g["members"]) for g in document["groups"])
    from_json = {
        (g["id"], m["source"], m["path"], m["sha256"], m["relation"], m["tier"], m["distance"])
        for g in document["groups"]
        for m in g["members"]
    }
    from_csv = {
        (
            int(r["group"]),
            r["source"],
            r["path"],
            r["sha256"],
            r["relation"],
            r["tier"],
            int(r["distance"]),
        )
        for r in rows
    }
    assert from_csv == from_json


def test_source_option_limits_the_export_to_groups_and_errors_touching_it(
    tmp_path, scanned_archive
) -> None:
    everything = export_json(tmp_path)
    document = export_json(tmp_path, "--source", "web_team")

    assert [s["name"] for s in document["sources"]] == ["web_team"]
    for group in document["groups"]:
        assert any(m["source"] == "web_team" for m in group["members"])
    assert [g for g in everything["groups"] if g in document["groups"]] == document["groups"]
    assert 0 < len(document["groups"]) < len(everything["groups"])
    grouped = {m["path"] for g in document["groups"] for m in g["members"]}
    assert {"images/hero.jpg", "images/launch.jpg", "assets/chelsea.png"} <= grouped
    assert document["errors"] == []


def test_unknown_source_is_refused_with_its_name(tmp_path, scanned_archive) -> None:
    target = tmp_path / "findings.json"

    with pytest.raises(CommandError, match="unknown source.*: photo_desk"):
        call_command(
            "export_findings",
            "--source",
            "photo_desk",
            "--source",
            "newsroom",
            "--output",
            str(target),
        )

    assert not target.exists()


def test_export_without_output_writes_the_document_to_stdout(tmp_path, scanned_archive) -> None:
    out = io.StringIO()

    call_command("export_findings", "--format", "json", stdout=out)

    document = json.loads(out.getvalue())
    assert document["schema"] == "provena.findings/1"
    assert document["groups"]
    assert document["groups"] == export_json(tmp_path)["groups"]


def test_export_to_a_file_reports_the_group_count_and_leaves_no_partial_file(
    tmp_path, scanned_archive
) -> None:
    target = tmp_path / "findings.json"
    err = io.StringIO()

    call_command("export_findings", "--output", str(target), stderr=err)

    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["schema"] == "provena.findings/1"
    assert f"wrote {len(document['groups'])} groups to {target}" in err.getvalue()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("findings")] == [
        "findings.json"
    ]


def test_export_to_a_folder_that_does_not_exist_is_a_command_error(
    tmp_path, scanned_archive
) -> None:
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_findings", "--output", str(tmp_path / "no" / "findings.json"))


def test_export_of_an_empty_inventory_is_a_valid_document(db) -> None:
    out = io.StringIO()

    call_command("export_findings", stdout=out)

    document = json.loads(out.getvalue())
    assert document["schema"] == "provena.findings/1"
    assert document["sources"] == document["groups"] == document["errors"] == []
