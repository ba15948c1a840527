"""Tests for the inventory API: what each role sees and may do, over the scanned sample archive."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from inventory.models import Copy, Scan, Source
from inventory.sample_archive import ARCHIVE_LAYOUT, BAD_FILES, BAD_FILES_DIR, NON_UTF8_NAME
from tests.factories import UserFactory

ALL_SOURCES = {"film_archive", "newsroom", "web_team"}
# What each bad file of the sample archive is reported as (DESIGN.md: errors a user can act on).
BAD_FILE_REASONS = {
    "empty.jpg": "empty file",
    "truncated.jpg": "truncated JPEG data",
    "notes.jpg": "not an image",
    "bomb.png": "decompression bomb",
    "missing_link.jpg": "broken symbolic link",
    "loop_a.jpg": "symbolic link loop",
    "loop_b.jpg": "symbolic link loop",
    NON_UTF8_NAME: "not valid UTF-8",
}
# The regular files that the bad-files folder holds (the rest are links or unreadable names).
BAD_REGULAR_FILES = {"empty.jpg", "truncated.jpg", "notes.jpg", "bomb.png"}
# Every inventoried file: the archive's layout plus the bad files that are regular files.
ALL_COPIES = len(ARCHIVE_LAYOUT) + len(BAD_REGULAR_FILES)


def files_in(source: str) -> int:
    """Return how many regular image files the sample archive puts in the source."""
    return sum(1 for e in ARCHIVE_LAYOUT if e.source == source)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def expected_bad_paths(newsroom_root: Path) -> dict[str, str]:
    """Return the reported path of each bad file the archive holds -> its expected reason."""
    incoming = newsroom_root / BAD_FILES_DIR
    found = {}
    for name, reason in BAD_FILE_REASONS.items():
        if not (incoming / name).is_symlink() and not (incoming / name).exists():
            continue  # the filesystem refused the non-UTF-8 name
        shown = name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        found[f"{BAD_FILES_DIR}/{shown}"] = reason
    return found


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


def paths(response) -> set[tuple[str, str]]:
    return {(row["source"], row["path"]) for row in response.json()["results"]}


def group_with_master(groups: list[dict], path: str) -> dict:
    (group,) = [g for g in groups if g["members"][0]["path"] == path]
    return group


# --- sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("compliance", {"film_archive"}),
        ("legal", ALL_SOURCES),  # legal reviewers are organisation-wide (PDPO)
        ("manager", {"film_archive"}),
        ("auditor", ALL_SOURCES),
        ("administrator", ALL_SOURCES),
        ("other_department", {"newsroom", "web_team"}),
    ],
)
def test_source_list_shows_each_role_its_departments_sources(
    role_users, scanned_archive, role: str, expected: set[str]
) -> None:
    response = client_for(role_users[role]).get("/api/sources/")

    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


def test_source_list_names_each_sources_department(role_users, scanned_archive) -> None:
    response = client_for(role_users["auditor"]).get("/api/sources/")

    departments = {row["name"]: row["department"] for row in response.json()["results"]}
    assert departments == {"film_archive": "LCSD", "newsroom": "NEWS", "web_team": "NEWS"}


def test_source_list_refuses_anonymous_callers_with_a_token_challenge(scanned_archive) -> None:
    response = client_for().get("/api/sources/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_source_list_refuses_a_user_without_a_role(scanned_archive) -> None:
    nobody = UserFactory(department=Source.objects.get(name="film_archive").department)

    response = client_for(nobody).get("/api/sources/")

    assert response.status_code == 403


def test_source_of_another_department_is_not_found(role_users, scanned_archive) -> None:
    film = Source.objects.get(name="film_archive")

    response = client_for(role_users["other_department"]).get(f"/api/sources/{film.pk}/")

    assert response.status_code == 404


def test_token_from_api_token_authenticates_api_calls(role_users, scanned_archive) -> None:
    client = APIClient()
    issued = client.post(
        "/api/token/", {"username": "compliance", "password": "test-password"}, format="json"
    )
    assert issued.status_code == 200
    token = issued.json()["token"]

    response = client.get("/api/sources/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert names(response) == {"film_archive"}


def test_api_token_refuses_a_wrong_password(role_users) -> None:
    response = APIClient().post(
        "/api/token/", {"username": "compliance", "password": "not-it"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


def test_unknown_token_is_refused(role_users, scanned_archive) -> None:
    response = APIClient().get("/api/sources/", HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_compliance_officer_registers_a_folder_under_the_allowed_roots(
    role_users, archives: Path
) -> None:
    folder = archives / "press_office"
    folder.mkdir()

    response = client_for(role_users["compliance"]).post(
        "/api/sources/",
        {"root": str(folder), "department": "LCSD", "risk_tier": "external"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "press_office"
    assert body["department"] == "LCSD"
    assert body["risk_tier"] == "external"
    source = Source.objects.get(pk=body["id"])
    assert source.root == str(folder.resolve())
    assert source.created_by == role_users["compliance"]


@pytest.mark.parametrize("role", ["auditor", "manager", "legal"])
def test_roles_without_add_source_may_not_register_sources(
    role_users, archives: Path, role: str
) -> None:
    folder = archives / "press_office"
    folder.mkdir()

    response = client_for(role_users[role]).post(
        "/api/sources/", {"root": str(folder), "department": "LCSD"}, format="json"
    )

    assert response.status_code == 403
    assert not Source.objects.exists()


def test_registering_a_folder_outside_the_allowed_roots_is_refused_with_the_setting_named(
    role_users, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    response = client_for(role_users["compliance"]).post(
        "/api/sources/", {"root": str(outside)}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["root"][0]
    assert "PROVENA_ALLOWED_ROOTS" in message
    assert str(outside.resolve()) in message
    assert not Source.objects.exists()


def test_registering_a_folder_that_does_not_exist_is_refused(role_users, archives: Path) -> None:
    response = client_for(role_users["compliance"]).post(
        "/api/sources/", {"root": str(archives / "not-there")}, format="json"
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["root"][0]
    assert not Source.objects.exists()


def test_registering_without_a_root_is_refused(role_users) -> None:
    response = client_for(role_users["compliance"]).post("/api/sources/", {}, format="json")

    assert response.status_code == 400
    assert "root" in response.json()


# --- starting scans ----------------------------------------------------------------------------


def test_compliance_officer_starts_a_scan_that_finishes(role_users, scanned_archive) -> None:
    film = Source.objects.get(name="film_archive")
    before = set(film.scans.values_list("pk", flat=True))

    response = client_for(role_users["compliance"]).post(f"/api/sources/{film.pk}/scan/")

    assert response.status_code == 202
    assert "film_archive" in response.json()["detail"]
    (scan,) = film.scans.exclude(pk__in=before)
    assert scan.status == Scan.Status.FINISHED
    assert scan.started_by == role_users["compliance"]
    assert scan.files_unchanged == scan.files_seen == files_in("film_archive")


def test_auditor_may_not_start_a_scan(role_users, scanned_archive) -> None:
    film = Source.objects.get(name="film_archive")

    response = client_for(role_users["auditor"]).post(f"/api/sources/{film.pk}/scan/")

    assert response.status_code == 403
    assert film.scans.count() == 1


def test_scan_of_another_departments_source_is_not_found(role_users, scanned_archive) -> None:
    film = Source.objects.get(name="film_archive")

    response = client_for(role_users["other_department"]).post(f"/api/sources/{film.pk}/scan/")

    assert response.status_code == 404
    assert film.scans.count() == 1


def test_scan_is_refused_with_409_while_another_runs(role_users, scanned_archive) -> None:
    film = Source.objects.get(name="film_archive")
    Scan.objects.create(source=film, status=Scan.Status.RUNNING, software_version="test")

    response = client_for(role_users["compliance"]).post(f"/api/sources/{film.pk}/scan/")

    assert response.status_code == 409
    assert "already running" in response.json()["detail"]
    assert film.scans.count() == 2


# --- scans and their errors --------------------------------------------------------------------


def test_scan_list_shows_the_scans_of_visible_sources(role_users, scanned_archive) -> None:
    auditor = client_for(role_users["auditor"]).get("/api/scans/").json()
    compliance = client_for(role_users["compliance"]).get("/api/scans/").json()

    assert {row["source"] for row in auditor["results"]} == ALL_SOURCES
    assert {row["status"] for row in auditor["results"]} == {"finished"}
    assert [row["source"] for row in compliance["results"]] == ["film_archive"]


def test_scan_detail_reports_the_newsroom_counters(
    role_users, sample_archive, scanned_archive
) -> None:
    scan = scanned_archive["newsroom"]

    response = client_for(role_users["auditor"]).get(f"/api/scans/{scan.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "newsroom"
    assert body["status"] == "finished"
    assert body["errors"] == len(expected_bad_paths(sample_archive["newsroom"]))
    assert body["finished_at"] is not None


def test_scan_errors_list_every_bad_file_with_its_reason(
    role_users, sample_archive, scanned_archive
) -> None:
    scan = scanned_archive["newsroom"]

    response = client_for(role_users["auditor"]).get(f"/api/scans/{scan.pk}/errors/")

    assert response.status_code == 200
    reported = {row["path"]: row["error"] for row in response.json()["results"]}
    expected = expected_bad_paths(sample_archive["newsroom"])
    assert set(BAD_FILE_REASONS) == set(BAD_FILES)  # every bad file the archive defines
    assert set(reported) == set(expected)
    for path, reason in expected.items():
        assert reason in reported[path], (path, reported[path])


def test_scan_errors_of_another_departments_scan_are_not_found(role_users, scanned_archive) -> None:
    scan = scanned_archive["newsroom"]

    response = client_for(role_users["compliance"]).get(f"/api/scans/{scan.pk}/errors/")

    assert response.status_code == 404


# --- copies ------------------------------------------------------------------------------------


def test_copy_list_filters_by_source(role_users, sample_archive, scanned_archive) -> None:
    response = client_for(role_users["auditor"]).get("/api/copies/?source=newsroom")

    assert response.status_code == 200
    assert {s for s, _ in paths(response)} == {"newsroom"}
    on_disk = {
        str(p.relative_to(sample_archive["newsroom"]))
        for p in sample_archive["newsroom"].rglob("*")
        if p.is_file() and not p.is_symlink() and p.name != NON_UTF8_NAME
    }
    assert {p for _, p in paths(response)} == on_disk


def test_copy_list_counts_every_present_copy_and_fits_one_page(role_users, scanned_archive) -> None:
    response = client_for(role_users["auditor"]).get("/api/copies/?state=present")

    body = response.json()
    assert body["count"] == Copy.objects.count() == ALL_COPIES
    assert len(body["results"]) == body["count"]
    assert body["next"] is None
    assert client_for(role_users["auditor"]).get("/api/copies/?page=2").status_code == 404


def test_copy_list_state_filter_finds_a_file_gone_missing(
    role_users, sample_archive, scanned_archive
) -> None:
    from tests.inventory.scan_helpers import scan_folder

    (sample_archive["web_team"] / "thumbs" / "coffee_160.jpg").unlink()
    scan_folder(sample_archive["web_team"])
    client = client_for(role_users["auditor"])

    missing = client.get("/api/copies/?state=missing")
    present = client.get("/api/copies/?state=present&source=web_team")

    assert paths(missing) == {("web_team", "thumbs/coffee_160.jpg")}
    assert ("web_team", "thumbs/coffee_160.jpg") not in paths(present)
    assert present.json()["count"] == files_in("web_team") - 1


def test_copy_list_has_problem_filter_lists_the_files_that_are_not_images(
    role_users, scanned_archive
) -> None:
    client = client_for(role_users["auditor"])

    with_problem = client.get("/api/copies/?has_problem=true").json()
    without = client.get("/api/copies/?has_problem=false").json()

    assert {(r["source"], r["path"]) for r in with_problem["results"]} == {
        ("newsroom", f"{BAD_FILES_DIR}/{name}") for name in BAD_REGULAR_FILES
    }
    assert all(r["problem"] and r["rendition"] is None for r in with_problem["results"])
    assert without["count"] == ALL_COPIES - len(BAD_REGULAR_FILES)
    assert all(r["problem"] == "" for r in without["results"])


def test_copy_list_path_filter_matches_part_of_the_path(role_users, scanned_archive) -> None:
    response = client_for(role_users["auditor"]).get("/api/copies/?path=INCOMING")

    assert {p for _, p in paths(response)} == {
        f"{BAD_FILES_DIR}/{name}" for name in BAD_REGULAR_FILES
    }


@pytest.mark.parametrize("value", ["PNG", "png"])
def test_copy_list_format_filter_selects_by_image_format(
    role_users, scanned_archive, value: str
) -> None:
    response = client_for(role_users["auditor"]).get(f"/api/copies/?format={value}")

    assert response.status_code == 200
    assert paths(response) == {
        ("newsroom", "converted/chelsea.png"),
        ("web_team", "assets/chelsea.png"),
    }
    assert {r["rendition"]["format"] for r in response.json()["results"]} == {"PNG"}


def test_copy_list_shows_a_department_only_its_own_copies(role_users, scanned_archive) -> None:
    client = client_for(role_users["compliance"])

    everything = client.get("/api/copies/").json()
    newsroom = client.get("/api/copies/?source=newsroom").json()

    assert everything["count"] == files_in("film_archive")
    assert {r["source"] for r in everything["results"]} == {"film_archive"}
    assert newsroom["count"] == 0


def test_copy_detail_reports_the_files_size_and_sha256(
    role_users, sample_archive, scanned_archive
) -> None:
    copy = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    on_disk = sample_archive["film_archive"] / "stills" / "astronaut.jpg"

    body = client_for(role_users["compliance"]).get(f"/api/copies/{copy.pk}/").json()

    assert body["size"] == on_disk.stat().st_size
    assert body["sha256"] == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    assert body["state"] == "present"
    assert body["rendition"]["format"] == "JPEG"
    assert body["rendition"]["width"] > 0


def test_copy_detail_of_another_department_is_not_found(role_users, scanned_archive) -> None:
    copy = Copy.objects.get(source__name="film_archive", path="stills/brick.jpg")

    response = client_for(role_users["other_department"]).get(f"/api/copies/{copy.pk}/")

    assert response.status_code == 404


# --- duplicate groups --------------------------------------------------------------------------


def test_groups_list_the_astronauts_copies_with_their_relations(
    role_users, sample_archive, scanned_archive
) -> None:
    response = client_for(role_users["auditor"]).get("/api/groups/")

    assert response.status_code == 200
    group = group_with_master(response.json(), "stills/astronaut.jpg")
    # Byte and metadata-only copies are certain; near-duplicates may join later as probable.
    relations = {
        (m["source"], m["path"]): m["relation"] for m in group["members"] if m["tier"] == "certain"
    }
    assert relations == {
        ("film_archive", "stills/astronaut.jpg"): "master",
        ("film_archive", "backup/2019-06/astronaut.jpg"): "exact_copy",
        ("newsroom", "published/2015/collins_portrait.jpg"): "exact_copy",
        ("newsroom", "captioned/collins_captioned.jpg"): "same_pixels",
        ("web_team", "images/hero.jpg"): "exact_copy",
    }
    assert group["members"][0]["relation"] == "master"


def test_group_reclaimable_bytes_are_the_sizes_of_the_certain_non_master_copies(
    role_users, sample_archive, scanned_archive
) -> None:
    groups = client_for(role_users["auditor"]).get("/api/groups/").json()

    assert groups
    for group in groups:
        for member in group["members"]:
            on_disk = sample_archive[member["source"]] / member["path"]
            assert member["size"] == on_disk.stat().st_size
        assert group["reclaimable_bytes"] == sum(
            m["size"] for m in group["members"][1:] if m["tier"] == "certain"
        )
    astronaut = group_with_master(groups, "stills/astronaut.jpg")
    assert astronaut["reclaimable_bytes"] == sum(
        (sample_archive[source] / path).stat().st_size
        for source, path in [
            ("film_archive", "backup/2019-06/astronaut.jpg"),
            ("newsroom", "published/2015/collins_portrait.jpg"),
            ("newsroom", "captioned/collins_captioned.jpg"),
            ("web_team", "images/hero.jpg"),
        ]
    )


def test_groups_of_a_department_are_those_touching_its_sources(role_users, scanned_archive) -> None:
    groups = client_for(role_users["compliance"]).get("/api/groups/").json()

    masters = {g["members"][0]["path"] for g in groups}
    assert {
        "stills/astronaut.jpg",
        "stills/rocket.jpg",
        "stills/chelsea.jpg",
        "stills/coffee.jpg",
    } <= masters
    assert all(any(m["source"] == "film_archive" for m in g["members"]) for g in groups)


def test_groups_source_filter_and_limit(role_users, scanned_archive) -> None:
    client = client_for(role_users["auditor"])

    everything = client.get("/api/groups/").json()
    web_team = client.get("/api/groups/?source=web_team").json()
    first_two = client.get("/api/groups/?limit=2").json()
    rest = client.get("/api/groups/?offset=2").json()

    assert all(any(m["source"] == "web_team" for m in g["members"]) for g in web_team)
    grouped = {m["path"] for g in web_team for m in g["members"] if m["source"] == "web_team"}
    assert {"images/hero.jpg", "images/launch.jpg", "assets/chelsea.png"} <= grouped
    assert len(web_team) < len(everything)
    assert len(first_two) == 2
    assert [g["asset"] for g in first_two + rest] == [g["asset"] for g in everything]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=1001", "offset=-1"])
def test_groups_refuse_a_bad_limit_or_offset_with_400(
    role_users, scanned_archive, query: str
) -> None:
    response = client_for(role_users["auditor"]).get(f"/api/groups/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_groups_refuse_anonymous_callers(scanned_archive) -> None:
    assert client_for().get("/api/groups/").status_code == 401


# --- findings ----------------------------------------------------------------------------------


def test_findings_export_returns_the_version_1_document(
    role_users, sample_archive, scanned_archive
) -> None:
    response = client_for(role_users["auditor"]).get("/api/findings/")

    assert response.status_code == 200
    body = response.json()
    assert body["schema"] == "provena.findings/1"
    assert {s["name"] for s in body["sources"]} == ALL_SOURCES
    groups = client_for(role_users["auditor"]).get("/api/groups/").json()
    assert [g["asset"] for g in body["groups"]] == [g["asset"] for g in groups]
    assert {(e["source"], e["path"]) for e in body["errors"]} == {
        ("newsroom", path) for path in expected_bad_paths(sample_archive["newsroom"])
    }


def test_findings_export_is_scoped_to_the_users_department(role_users, scanned_archive) -> None:
    body = client_for(role_users["compliance"]).get("/api/findings/").json()

    assert [s["name"] for s in body["sources"]] == ["film_archive"]
    assert body["errors"] == []
    groups = client_for(role_users["compliance"]).get("/api/groups/").json()
    assert [g["asset"] for g in body["groups"]] == [g["asset"] for g in groups]
    # Every group shown touches the user's own source; the auditor sees at least as many.
    assert all(any(m["source"] == "film_archive" for m in g["members"]) for g in groups)
    assert len(groups) <= len(client_for(role_users["auditor"]).get("/api/groups/").json())


def test_findings_export_refuses_anonymous_callers(scanned_archive) -> None:
    response = client_for().get("/api/findings/")

    assert response.status_code == 401
    assert "groups" not in response.json()


def test_findings_export_refuses_a_user_without_the_export_permission(scanned_archive) -> None:
    nobody = UserFactory(department=Source.objects.get(name="film_archive").department)

    response = client_for(nobody).get("/api/findings/")

    assert response.status_code == 403


# --- schema and docs ---------------------------------------------------------------------------


def test_openapi_schema_lists_the_inventory_endpoints(role_users) -> None:
    response = client_for(role_users["compliance"]).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/sources/", "/api/copies/", "/api/groups/", "/api/findings/"} <= set(
        schema["paths"]
    )
    copy_params = {p["name"] for p in schema["paths"]["/api/copies/"]["get"]["parameters"]}
    assert {"source", "state", "path", "format", "has_problem", "page"} <= copy_params


def test_api_docs_page_is_served_to_a_logged_in_user(role_users, client) -> None:
    client.force_login(role_users["auditor"])

    response = client.get("/api/docs/")
    # The start-up script is a file of its own (the Content-Security-Policy allows no inline one).
    script = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/api/schema/" in script.content
