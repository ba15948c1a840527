"""Catalogue import: manage.py import_catalogue and the upload page, all rows or none."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from governance.models import AuditEvent
from inventory.models import Asset, CatalogueNumber, Copy

pytestmark = pytest.mark.django_db

HEADER = "path,source,sha256,title,creator,credit_line,catalogue_scheme,catalogue_number\n"


def asset_at(source: str, path: str) -> Asset:
    copy = Copy.objects.select_related("rendition").get(source__name=source, path=path)
    return Asset.objects.get(pk=copy.rendition.asset_id)


def run(tmp_path: Path, content: bytes | str, *args: str) -> str:
    """Run import_catalogue on the content; return its output (raise CommandError on failure)."""
    target = tmp_path / "catalogue.csv"
    target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    out = io.StringIO()
    try:
        call_command("import_catalogue", str(target), *args, stdout=out)
    except CommandError as exc:
        exc.output = out.getvalue()
        raise
    return out.getvalue()


def nothing_written() -> bool:
    return (
        not CatalogueNumber.objects.exists()
        and not Asset.objects.exclude(title="").exists()
        and not AuditEvent.objects.filter(event_type="catalogued").exists()
    )


def test_rows_match_by_source_path_by_source_column_and_by_sha256(
    scanned_archive, sample_archive, tmp_path
):
    camera_sha = hashlib.sha256(
        (sample_archive["newsroom"] / "web/camera_q60.jpg").read_bytes()
    ).hexdigest()
    csv_text = (
        HEADER
        + "film_archive:stills/coffee.jpg,,,Coffee cup,A. Photographer,© LCSD,LCSD-PH,0001\n"
        + "stills/coffee.jpg,film_archive,,,,,NEG,1987/44\n"
        + f",,{camera_sha.upper()},Old camera,,,LCSD-PH,0002\n"
    )
    output = run(tmp_path, csv_text)

    coffee = asset_at("film_archive", "stills/coffee.jpg")
    camera = asset_at("film_archive", "stills/camera.jpg")  # the re-encode's photograph
    assert (coffee.title, coffee.creator, coffee.credit_line) == (
        "Coffee cup",
        "A. Photographer",
        "© LCSD",
    )
    assert camera.title == "Old camera"
    assert set(coffee.catalogue_numbers.values_list("scheme", "number")) == {
        ("LCSD-PH", "0001"),
        ("NEG", "1987/44"),
    }
    assert list(camera.catalogue_numbers.values_list("number", flat=True)) == ["0002"]
    assert "imported 3 rows: 2 assets changed" in output
    assert f"row 4 ({camera_sha}): asset {camera.pk} via newsroom:web/camera_q60.jpg" in output
    event = AuditEvent.objects.get(event_type="catalogued", object_id=str(coffee.pk))
    assert event.detail["rows"] == [2, 3] and event.detail["file"] == "catalogue.csv"
    assert event.agent_user is None  # a command-line run: the software is the agent


def test_a_dry_run_shows_the_plan_and_writes_nothing(scanned_archive, tmp_path):
    output = run(tmp_path, HEADER + "film_archive:stills/brick.jpg,,,Brick wall,,,,\n", "--dry-run")
    brick = asset_at("film_archive", "stills/brick.jpg")
    assert f"row 2 (film_archive:stills/brick.jpg): asset {brick.pk}" in output
    assert "title='Brick wall'" in output
    assert "dry run: 1 rows for 1 assets would be applied; nothing written" in output
    assert nothing_written()


def test_an_unknown_column_writes_nothing_and_names_the_column(scanned_archive, tmp_path):
    csv_text = "path,title,photographer\nfilm_archive:stills/brick.jpg,Brick wall,Someone\n"
    with pytest.raises(CommandError, match="nothing written: 1 problem"):
        run(tmp_path, csv_text)
    try:
        run(tmp_path, csv_text)
    except CommandError as exc:
        assert "file: unknown columns: 'photographer'" in exc.output
        # The rows are still checked and reported.
        assert "ok    row 2 (film_archive:stills/brick.jpg)" in exc.output
    assert nothing_written()


def test_a_file_that_is_not_utf8_writes_nothing_and_names_the_line(scanned_archive, tmp_path):
    content = (HEADER + "film_archive:stills/coffee.jpg,,,Café au lait,,,,\n").encode("cp1252")
    with pytest.raises(CommandError) as caught:
        run(tmp_path, content)
    assert "line 2: byte 0xe9 at column 37 is not UTF-8" in caught.value.output
    assert 'save the file as "CSV UTF-8"' in caught.value.output
    assert nothing_written()


def test_rows_that_match_nothing_are_named_and_nothing_is_written(scanned_archive, tmp_path):
    csv_text = (
        HEADER
        + "film_archive:stills/coffee.jpg,,,Coffee cup,,,LCSD-PH,0001\n"
        + "film_archive:stills/teapot.jpg,,,Teapot,,,,\n"
        + f",,{'0' * 64},Nothing,,,,\n"
        + "stills/astronaut.jpg,,,Ambiguous?,,,,\n"
        + "incoming/notes.jpg,newsroom,,Notes,,,,\n"
        + "film_archive:stills/brick.jpg,,,,,,LCSD-PH,\n"
    )
    with pytest.raises(CommandError, match="4 of 6 row"):
        run(tmp_path, csv_text)
    try:
        run(tmp_path, csv_text)
    except CommandError as exc:
        lines = exc.output.splitlines()
    assert lines[0].startswith("ok    row 2 (film_archive:stills/coffee.jpg)")
    assert (
        "ERROR row 3 (film_archive:stills/teapot.jpg): no copy at film_archive:stills/teapot"
        in lines[1]
    )
    assert f"ERROR row 4 ({'0' * 64}): no copy with SHA-256 0000000000000000" in lines[2]
    # Only the film archive holds stills/astronaut.jpg, so a bare path is enough there...
    assert lines[3].startswith("ok    row 5")
    assert (
        "ERROR row 6 (newsroom:incoming/notes.jpg): newsroom:incoming/notes.jpg is not an "
        in lines[4]
    )
    assert "ERROR row 7" in lines[5] and "both catalogue_scheme and catalogue_number" in lines[5]
    assert nothing_written()


def test_a_catalogue_number_held_by_another_asset_or_given_twice_is_refused(
    scanned_archive, tmp_path
):
    run(tmp_path, HEADER + "film_archive:stills/coffee.jpg,,,,,,LCSD-PH,0001\n")
    csv_text = (
        HEADER
        + "film_archive:stills/brick.jpg,,,,,,LCSD-PH,0001\n"
        + "film_archive:stills/gravel.jpg,,,,,,LCSD-PH,0009\n"
        + "film_archive:stills/grass.jpg,,,,,,LCSD-PH,0009\n"
        + "film_archive:stills/grass.jpg,,,Grass,,,,\n"
        + "film_archive:stills/grass.jpg,,,Lawn,,,,\n"
    )
    with pytest.raises(CommandError) as caught:
        run(tmp_path, csv_text)
    coffee = asset_at("film_archive", "stills/coffee.jpg")
    gravel = asset_at("film_archive", "stills/gravel.jpg")
    output = caught.value.output
    assert (
        f"row 2 (film_archive:stills/brick.jpg): catalogue number LCSD-PH 0001 already names "
        f"asset {coffee.pk}" in output
    )
    assert (
        f"row 4 (film_archive:stills/grass.jpg): catalogue number LCSD-PH 0009 is given to "
        f"asset {gravel.pk} in row 3" in output
    )
    assert "row 6 (film_archive:stills/grass.jpg): title 'Lawn' contradicts row 5" in output
    assert CatalogueNumber.objects.count() == 1


# --- the upload page -------------------------------------------------------------------------


def upload(client, content: bytes, name: str = "catalogue.csv", dry_run: bool = False):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "1"
    return client.post("/assets/import/", data)


def test_the_upload_page_checks_then_imports_a_file(scanned_archive, role_users, client):
    client.force_login(role_users["compliance"])
    content = HEADER + "film_archive:stills/rocket.jpg,,,DSCOVR launch,NASA,,NASA,KSC-2015\n"
    checked = upload(client, content.encode(), dry_run=True)
    assert checked.status_code == 200 and b"Dry run: every row matched" in checked.content
    assert nothing_written()
    done = upload(client, content.encode())
    assert done.status_code == 200 and b"Imported 1 rows: 1 assets changed" in done.content
    rocket = asset_at("film_archive", "stills/rocket.jpg")
    assert rocket.title == "DSCOVR launch"
    event = AuditEvent.objects.get(event_type="catalogued")
    assert event.agent == "compliance"


def test_the_upload_page_refuses_other_files_and_reports_failed_rows(
    scanned_archive, role_users, client, settings
):
    client.force_login(role_users["compliance"])
    not_csv = upload(client, b"\x89PNG\r\n", name="photo.png")
    assert not_csv.status_code == 400 and b"photo.png is not a .csv file" in not_csv.content
    settings.PROVENA_CATALOGUE_MAX_BYTES = 1024
    too_big = upload(client, HEADER.encode() + b"x" * 2000)
    assert too_big.status_code == 400 and b"the limit is 1,024" in too_big.content
    settings.PROVENA_CATALOGUE_MAX_BYTES = 5 * 1024 * 1024
    failed = upload(client, (HEADER + "film_archive:stills/nothing.jpg,,,X,,,,\n").encode())
    assert failed.status_code == 400
    assert b"no copy at film_archive:stills/nothing.jpg" in failed.content
    assert nothing_written()


def test_the_upload_page_is_for_those_who_edit_the_catalogue_in_their_department(
    scanned_archive, role_users, client
):
    content = (HEADER + "film_archive:stills/brick.jpg,,,Brick wall,,,,\n").encode()
    client.force_login(role_users["auditor"])
    assert upload(client, content).status_code == 403
    client.force_login(role_users["manager"])
    assert client.get("/assets/import/").status_code == 403
    # Another department's compliance officer cannot even see the film archive.
    client.force_login(role_users["other_department"])
    refused = upload(client, content)
    assert refused.status_code == 400
    assert b"no copy at film_archive:stills/brick.jpg in any source you can see" in refused.content
    # Nor catalogue a photograph its department holds copies of but does not answer for.
    shared = upload(client, (HEADER + "newsroom:features/cafe_cup.jpg,,,Cup,,,,\n").encode())
    assert shared.status_code == 400 and b"answered for by another department" in shared.content
    assert nothing_written()
