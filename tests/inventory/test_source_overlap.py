"""Sources may not nest in or overlap another department's (issue 18, item 1): the attack of a
NEWS compliance officer registering a folder inside, or around, an LCSD source, through the API,
the scan command and the service; and a source left from before the rule seen by neither side."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from governance.models import AuditEvent, Department
from inventory.models import Copy, Scan, Source
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.fixity import fixity_check
from inventory.services.scan import scan_run
from inventory.services.sources import SourceNestingUnconfirmed, SourceRefused, source_register
from inventory.source_overlap import contested_roots, relation
from tests.inventory.scan_helpers import scan_folder

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def film(sample_archive, role_users) -> Source:
    """film_archive, LCSD's, scanned."""
    scan_folder(sample_archive["film_archive"], department="LCSD")
    return Source.objects.get(name="film_archive")


def test_relation_says_how_two_roots_stand() -> None:
    assert relation("/a/b", "/a/b") == "same"
    assert relation("/a/b/c", "/a/b") == "inside"
    assert relation("/a", "/a/b") == "encloses"
    assert relation("/a/bc", "/a/b") is None  # a shared prefix is not a shared folder
    assert relation("/", "/a") == "encloses"


def test_contested_roots_are_the_overlaps_across_departments_only() -> None:
    rows = [
        (1, "/data/lcsd", "LCSD"),
        (2, "/data/lcsd/stills", "NEWS"),  # inside LCSD's
        (3, "/data/lcsd/backup", "LCSD"),  # nested within its own department
        (4, "/data/newsroom", "NEWS"),
        (5, "/data/lcsdx", "NEWS"),  # only a shared prefix
    ]

    assert contested_roots(rows) == {1, 2}


def test_a_news_officer_may_not_register_a_folder_inside_an_lcsd_source(
    film: Source, role_users
) -> None:
    inside = Path(film.root) / "stills"

    response = _api(role_users["other_department"]).post(
        "/api/sources/", {"root": str(inside)}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["root"][0]
    assert "lies inside source 'film_archive' (department LCSD)" in message
    assert "may not nest or overlap" in message
    assert list(Source.objects.values_list("name", flat=True)) == ["film_archive"]
    assert not AuditEvent.objects.filter(event_type="source_registered", agent="newsdesk").exists()


def test_a_news_officer_may_not_register_a_folder_enclosing_an_lcsd_source(
    film: Source, role_users
) -> None:
    around = Path(film.root).parent  # the demo folder holding all three sources

    response = _api(role_users["other_department"]).post(
        "/api/sources/", {"root": str(around)}, format="json"
    )

    assert response.status_code == 400
    assert "encloses source 'film_archive' (department LCSD)" in response.json()["root"][0]
    assert Source.objects.count() == 1


def test_allow_nested_does_not_open_another_departments_source(film: Source, role_users) -> None:
    response = _api(role_users["other_department"]).post(
        "/api/sources/",
        {"root": str(Path(film.root) / "stills"), "allow_nested": True},
        format="json",
    )

    assert response.status_code == 400
    assert "department LCSD" in response.json()["root"][0]


def test_an_organisation_wide_administrator_may_not_overlap_departments_either(
    film: Source, role_users
) -> None:
    response = _api(role_users["administrator"]).post(
        "/api/sources/",
        {"root": str(Path(film.root) / "stills"), "department": "NEWS"},
        format="json",
    )

    assert response.status_code == 400
    assert "lies inside source 'film_archive'" in response.json()["root"][0]


def test_reregistering_an_lcsd_root_for_news_is_refused_not_handed_over(
    film: Source, role_users
) -> None:
    response = _api(role_users["other_department"]).post(
        "/api/sources/", {"root": film.root}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["root"][0]
    assert "already registered as source 'film_archive' of department LCSD" in message
    assert "id" not in response.json()


def test_nesting_within_one_department_needs_an_explicit_choice(film: Source, role_users) -> None:
    client = _api(role_users["compliance"])
    body = {"root": str(Path(film.root) / "stills"), "name": "film_stills"}

    refused = client.post("/api/sources/", body, format="json")

    assert refused.status_code == 400
    message = refused.json()["root"][0]
    assert "lies inside source 'film_archive' (department LCSD)" in message
    assert "allow_nested" in message
    assert not Source.objects.filter(name="film_stills").exists()

    confirmed = client.post("/api/sources/", {**body, "allow_nested": True}, format="json")

    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["department"] == "LCSD"
    event = AuditEvent.objects.get(event_type="source_registered", object_id=confirmed.json()["id"])
    assert event.detail["nested_with"] == ["film_archive"]


def test_the_scan_command_refuses_an_overlap_and_names_the_source(film: Source) -> None:
    with pytest.raises(CommandError, match="lies inside source 'film_archive'"):
        call_command(
            "scan", str(Path(film.root) / "stills"), "--department", "NEWS", stdout=StringIO()
        )
    with pytest.raises(SourceNestingUnconfirmed, match="--allow-nested"):
        source_register(root=Path(film.root) / "stills", department_code="LCSD")

    out = StringIO()
    call_command(
        "scan",
        str(Path(film.root) / "stills"),
        "--source",
        "film_stills",
        "--department",
        "LCSD",
        "--allow-nested",
        stdout=out,
    )

    assert "scan" in out.getvalue() and "finished" in out.getvalue()
    assert Source.objects.get(name="film_stills").department.code == "LCSD"


def test_the_scan_command_refuses_an_existing_root_under_another_department(film: Source) -> None:
    with pytest.raises(CommandError, match="already registered as source 'film_archive' of"):
        call_command("scan", film.root, "--department", "NEWS", stdout=StringIO())


def test_a_source_overlapping_another_department_from_before_the_rule_is_hidden_and_not_scanned(
    film: Source, role_users
) -> None:
    # The state the attack left behind: NEWS's source inside film_archive, with its copies.
    news = Department.objects.get(code="NEWS")
    legacy = Source.objects.create(name="news_inside", root=f"{film.root}/stills", department=news)
    for copy in Copy.objects.filter(source=film, path__startswith="stills/"):
        Copy.objects.create(
            source=legacy,
            path=copy.path.removeprefix("stills/"),
            size=copy.size,
            mtime_ns=copy.mtime_ns,
            sha256=copy.sha256,
            rendition=copy.rendition,
            first_seen_at=copy.first_seen_at,
            last_seen_at=copy.last_seen_at,
        )
    stolen = Copy.objects.filter(source=legacy).first()
    newsdesk = _api(role_users["other_department"])

    names = {s["name"] for s in newsdesk.get("/api/sources/").json()["results"]}
    assert "news_inside" not in names
    assert newsdesk.get(f"/api/copies/{stolen.pk}/").status_code == 404
    assert newsdesk.get(f"/api/sources/{legacy.pk}/scan/").status_code in (404, 405)
    assert newsdesk.post(f"/api/sources/{legacy.pk}/scan/").status_code == 404
    # LCSD's own source overlaps NEWS's, so it is hidden from LCSD's officer too until an
    # administrator resolves it; organisation-wide roles still see both.
    compliance_lcsd = role_users["compliance"]
    assert {
        s["name"] for s in _api(compliance_lcsd).get("/api/sources/").json()["results"]
    } == set()
    assert {
        s["name"] for s in _api(role_users["auditor"]).get("/api/sources/").json()["results"]
    } >= {"film_archive", "news_inside"}

    scan = scan_run(source=legacy)

    assert scan.status == Scan.Status.FAILED
    assert "source 'news_inside' may no longer be scanned" in scan.failure_reason
    assert "lies inside source 'film_archive' (department LCSD)" in scan.failure_reason


def test_a_root_no_longer_under_the_allowed_roots_fails_its_scan_and_reads_nothing(
    sample_archive, settings, tmp_path
) -> None:
    scan = scan_folder(sample_archive["web_team"], department="NEWS")
    assert scan.status == Scan.Status.FINISHED
    copies = Copy.objects.count()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings.PROVENA_ALLOWED_ROOTS = [elsewhere.resolve()]

    again = scan_run(source=Source.objects.get(name="web_team"))

    assert again.status == Scan.Status.FAILED
    assert "source 'web_team' may no longer be scanned" in again.failure_reason
    assert "is not under PROVENA_ALLOWED_ROOTS" in again.failure_reason
    assert again.files_seen == 0
    assert Copy.objects.count() == copies
    assert not Copy.objects.exclude(state=Copy.State.PRESENT).filter(source__name="web_team")
    failed = AuditEvent.objects.filter(event_type="scan_failed").last()
    assert "PROVENA_ALLOWED_ROOTS" in failed.detail["reason"]


def test_a_root_changed_behind_the_services_is_refused_at_the_next_scan(
    sample_archive, tmp_path, settings
) -> None:
    # As the Django admin once allowed: the row's root edited to a folder outside the roots.
    scan_folder(sample_archive["web_team"], department="NEWS")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(PHOTOS_DIR / "coffee.jpg", outside / "private.jpg")
    Source.objects.filter(name="web_team").update(root=str(outside.resolve()))

    with pytest.raises(CommandError, match="is not under PROVENA_ALLOWED_ROOTS"):
        call_command("scan", str(outside), stdout=StringIO())
    scan = scan_run(source=Source.objects.get(name="web_team"))

    assert scan.status == Scan.Status.FAILED
    assert "is not under PROVENA_ALLOWED_ROOTS" in scan.failure_reason
    assert not Copy.objects.filter(source__name="web_team", path="private.jpg").exists()


def test_registering_refuses_before_creating_a_department(film: Source) -> None:
    with pytest.raises(SourceRefused):
        source_register(root=Path(film.root) / "stills", department_code="PRESS")

    assert not Department.objects.filter(code="PRESS").exists()


def test_a_fixity_check_of_a_root_no_longer_allowed_is_refused(
    sample_archive, settings, tmp_path
) -> None:
    scan_folder(sample_archive["web_team"], department="NEWS")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings.PROVENA_ALLOWED_ROOTS = [elsewhere.resolve()]

    result = fixity_check(source=Source.objects.get(name="web_team"))

    (reason,) = result.refused
    assert "source 'web_team' may no longer be checked" in reason
    assert "PROVENA_ALLOWED_ROOTS" in reason
    assert not Copy.objects.filter(source__name="web_team").exclude(state=Copy.State.PRESENT)
