"""Tests for the inventory pages: what each role sees over the scanned sample archive."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.template.defaultfilters import filesizeformat
from django.test import Client

from inventory.models import Copy, Rendition, Scan
from inventory.sample_archive import ARCHIVE_LAYOUT
from inventory.selectors.groups import duplicate_groups
from tests.factories import UserFactory


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def copy_at(source: str, path: str) -> Copy:
    return Copy.objects.select_related("rendition").get(source__name=source, path=path)


def redundant_bytes(
    sample_archive: dict[str, Path], sources: set[str], keys: set[str] | None = None
) -> int:
    """Return the bytes of the byte and metadata-only copies of masters in these sources."""
    return sum(
        (sample_archive[e.source] / e.path).stat().st_size
        for e in ARCHIVE_LAYOUT
        if e.relation in {"exact_copy", "same_pixels"}
        and e.source in sources
        and (keys is None or e.key in keys)
    )


def page_urls() -> list[str]:
    """Return one URL of every page, for film_archive's objects (visible to LCSD and auditors)."""
    astronaut = copy_at("film_archive", "stills/astronaut.jpg")
    scan = Scan.objects.get(source__name="film_archive")
    return [
        "/",
        "/sources/",
        "/sources/film_archive/",
        "/scans/",
        f"/scans/{scan.pk}/",
        "/copies/",
        "/copies/?source=film_archive&state=present&format=JPEG&q=stills&problems=1",
        f"/copies/{astronaut.pk}/",
        "/groups/",
        "/groups/?source=film_archive&page=1",
        f"/groups/{astronaut.rendition.asset_id}/",
        "/errors/",
        f"/thumbnails/{astronaut.rendition_id}.jpg",
    ]


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["compliance", "auditor"])
def test_every_page_opens_for_compliance_officers_and_auditors(
    client: Client, role_users, scanned_archive, role: str
) -> None:
    login(client, role_users[role])

    for url in page_urls():
        response = client.get(url)
        assert response.status_code == 200, url


def test_every_page_redirects_anonymous_visitors_to_the_login_page(
    client: Client, scanned_archive
) -> None:
    for url in page_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_user_without_a_role_may_not_open_the_inventory_pages(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, UserFactory(department=role_users["compliance"].department))

    for url in ["/sources/", "/scans/", "/copies/", "/groups/"]:
        assert client.get(url).status_code == 403, url


def test_another_department_cannot_open_film_archives_pages(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["other_department"])
    brick = copy_at("film_archive", "stills/brick.jpg")
    scan = Scan.objects.get(source__name="film_archive")

    assert client.get("/sources/film_archive/").status_code == 404
    assert client.get(f"/scans/{scan.pk}/").status_code == 404
    assert client.get(f"/copies/{brick.pk}/").status_code == 404
    assert client.get("/sources/newsroom/").status_code == 200


def test_thumbnail_of_a_rendition_only_in_another_department_is_not_found(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["other_department"])
    brick = copy_at("film_archive", "stills/brick.jpg")
    astronaut = copy_at("film_archive", "stills/astronaut.jpg")

    hidden = client.get(f"/thumbnails/{brick.rendition_id}.jpg")
    # The newsroom holds byte copies of the astronaut, so its thumbnail is the newsroom's too.
    shared = client.get(f"/thumbnails/{astronaut.rendition_id}.jpg")

    assert hidden.status_code == 404
    assert shared.status_code == 200
    shared.close()


def test_thumbnail_is_a_jpeg(client: Client, role_users, scanned_archive) -> None:
    login(client, role_users["compliance"])
    astronaut = copy_at("film_archive", "stills/astronaut.jpg")

    response = client.get(f"/thumbnails/{astronaut.rendition_id}.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    response.close()
    assert body.startswith(b"\xff\xd8")
    assert body.endswith(b"\xff\xd9")


def test_thumbnail_of_an_unknown_rendition_is_not_found(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])

    assert client.get("/thumbnails/999999.jpg").status_code == 404


# --- what the pages show -----------------------------------------------------------------------


def test_dashboard_shows_every_department_and_the_reclaimable_bytes_to_an_auditor(
    client: Client, role_users, sample_archive, scanned_archive
) -> None:
    login(client, role_users["auditor"])

    page = text(client.get("/"))

    assert "<tr><td>LCSD</td>" in page
    assert "<tr><td>NEWS</td>" in page
    # The dashboard's total agrees with the groups' own figures ...
    reclaimable = sum(group.reclaimable_bytes for group in duplicate_groups())
    assert f'<div class="n">{filesizeformat(reclaimable)}</div><div class="l">reclaimable' in page
    # ... which cover at least every byte and metadata-only copy the archive was built with.
    assert reclaimable >= redundant_bytes(sample_archive, set(sample_archive)) > 0
    files = len(ARCHIVE_LAYOUT) + 4  # and the four bad files that are regular files
    assert f'<div class="n">{files}</div><div class="l">files present' in page


def test_dashboard_shows_a_department_only_its_own_figures(
    client: Client, role_users, sample_archive, scanned_archive
) -> None:
    login(client, role_users["compliance"])

    page = text(client.get("/"))

    assert "<tr><td>LCSD</td>" in page
    assert "NEWS" not in page
    assert "newsroom" not in page
    # Only the backups in film_archive itself count as reclaimable for LCSD.
    reclaimable = redundant_bytes(sample_archive, {"film_archive"})
    assert f'<div class="n">{filesizeformat(reclaimable)}</div><div class="l">reclaimable' in page
    files = sum(1 for e in ARCHIVE_LAYOUT if e.source == "film_archive")
    assert f'<div class="n">{files}</div><div class="l">files present' in page


def test_source_pages_show_the_sources_root_and_department(
    client: Client, role_users, sample_archive, scanned_archive
) -> None:
    login(client, role_users["compliance"])

    listing = text(client.get("/sources/"))
    detail = text(client.get("/sources/film_archive/"))

    assert 'href="/sources/film_archive/"' in listing
    assert "web_team" not in listing
    assert str(sample_archive["film_archive"].resolve()) in detail
    assert "LCSD" in detail
    assert "Scan now" in detail


def test_source_page_offers_no_scan_button_to_an_auditor(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])

    page = text(client.get("/sources/film_archive/"))

    assert "film_archive" in page
    assert "Scan now" not in page


def test_scan_pages_list_the_scans_and_the_files_that_could_not_be_read(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    newsroom = scanned_archive["newsroom"]

    listing = text(client.get("/scans/"))
    detail = text(client.get(f"/scans/{newsroom.pk}/"))

    for name in ("film_archive", "newsroom", "web_team"):
        assert name in listing
    assert "finished" in detail
    assert "incoming/truncated.jpg" in detail
    assert "truncated JPEG data" in detail
    assert "empty file (0 bytes)" in detail


def test_scan_page_shows_parameters_and_timings_as_readable_lists(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    scan = scanned_archive["newsroom"]

    html = client.get(f"/scans/{scan.pk}/").content.decode()

    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html))
    assert facts["Worker processes"] == "1"
    assert (
        facts["File types read"].startswith(".bmp, .gif, ") and "[" not in facts["File types read"]
    )
    assert facts["Batches ran"] == "in this process (a local pool)"
    assert facts["Total"] == f"{scan.timings['total_seconds']:,.3f} s"
    assert facts["Candidates"] == str(scan.timings["matching"]["candidates"])
    # No raw Python structures and no raw keys reach the page.
    assert "{'" not in html and "['" not in html and "total_seconds" not in html


def test_copy_list_filters_by_source_and_problems(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])

    problems = text(client.get("/copies/?source=newsroom&problems=1"))
    pngs = text(client.get("/copies/?format=png"))
    search = text(client.get("/copies/?q=backup/"))

    assert "incoming/truncated.jpg" in problems
    assert "incoming/notes.jpg" in problems
    assert "captioned/collins_captioned.jpg" not in problems
    assert "converted/chelsea.png" in pngs
    assert "assets/chelsea.png" in pngs
    assert "stills/chelsea.jpg" not in pngs
    assert "backup/2019-06/astronaut.jpg" in search
    assert "stills/astronaut.jpg" not in search


def test_copy_list_hides_another_departments_copies(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["compliance"])

    page = text(client.get("/copies/"))

    assert "stills/brick.jpg" in page
    assert "published/2015/collins_portrait.jpg" not in page


def test_copy_page_shows_the_files_hash_and_its_other_copies(
    client: Client, role_users, sample_archive, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    copy = copy_at("film_archive", "stills/astronaut.jpg")
    digest = hashlib.sha256(
        (sample_archive["film_archive"] / "stills" / "astronaut.jpg").read_bytes()
    ).hexdigest()

    page = text(client.get(f"/copies/{copy.pk}/"))

    assert digest in page
    assert "Other copies of this photograph" in page
    assert "captioned/collins_captioned.jpg" in page
    assert "images/hero.jpg" in page


def test_the_page_of_a_copy_in_no_asset_lists_no_other_photographs_copies(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    astronaut = copy_at("film_archive", "stills/astronaut.jpg")
    brick = copy_at("film_archive", "stills/brick.jpg")
    # Between a scan's examination and its grouping, renditions are in no asset.
    Rendition.objects.filter(pk__in=[astronaut.rendition_id, brick.rendition_id]).update(asset=None)

    page = text(client.get(f"/copies/{astronaut.pk}/"))

    assert "stills/brick.jpg" not in page
    assert "captioned/collins_captioned.jpg" not in page


def test_group_pages_show_the_copies_and_how_they_relate(
    client: Client, role_users, sample_archive, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    astronaut = copy_at("film_archive", "stills/astronaut.jpg")

    listing = text(client.get("/groups/"))
    detail = text(client.get(f"/groups/{astronaut.rendition.asset_id}/"))

    assert f'href="/groups/{astronaut.rendition.asset_id}/"' in listing
    assert re.search(r"\d+ copies in film_archive, newsroom, web_team", listing)
    assert "<strong>same_pixels</strong>" in detail
    assert "<strong>exact_copy</strong>" in detail
    assert "<strong>master</strong>" in detail
    assert "captioned/collins_captioned.jpg" in detail
    astronaut_copies = {e.key for e in ARCHIVE_LAYOUT if e.photo == "astronaut"}
    assert (
        filesizeformat(redundant_bytes(sample_archive, set(sample_archive), keys=astronaut_copies))
        in detail
    )


def test_group_page_of_a_photograph_held_once_is_not_found(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])
    brick = copy_at("film_archive", "stills/brick.jpg")

    assert client.get(f"/groups/{brick.rendition.asset_id}/").status_code == 404


def test_errors_page_lists_the_bad_files_of_visible_sources(
    client: Client, role_users, scanned_archive
) -> None:
    auditor = text(login(client, role_users["auditor"]).get("/errors/"))
    compliance = text(login(Client(), role_users["compliance"]).get("/errors/"))

    assert "truncated JPEG data" in auditor
    assert "incoming/bomb.png" in auditor
    assert "decompression bomb" in auditor
    assert "truncated JPEG data" not in compliance
    assert "None." in compliance


# --- scanning from a page ----------------------------------------------------------------------


def test_auditor_may_not_start_a_scan_from_the_source_page(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["auditor"])

    response = client.post("/sources/film_archive/scan/")

    assert response.status_code == 403
    assert Scan.objects.filter(source__name="film_archive").count() == 1


def test_compliance_officer_starts_a_scan_and_returns_to_the_source_page(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["compliance"])

    response = client.post("/sources/film_archive/scan/", follow=True)

    assert response.redirect_chain == [("/sources/film_archive/", 302)]
    assert "of film_archive finished." in text(response)
    latest = Scan.objects.filter(source__name="film_archive").first()
    assert latest.pk != scanned_archive["film_archive"].pk
    assert latest.status == Scan.Status.FINISHED
    assert latest.started_by == role_users["compliance"]


def test_scan_of_another_departments_source_is_not_found(
    client: Client, role_users, scanned_archive
) -> None:
    login(client, role_users["other_department"])

    response = client.post("/sources/film_archive/scan/")

    assert response.status_code == 404
    assert Scan.objects.filter(source__name="film_archive").count() == 1


def test_scan_url_refuses_a_get(client: Client, role_users, scanned_archive) -> None:
    login(client, role_users["compliance"])

    assert client.get("/sources/film_archive/scan/").status_code == 405


# --- logging in and the admin ------------------------------------------------------------------


def test_login_page_logs_a_user_in_with_the_right_password(client: Client, role_users) -> None:
    response = client.post("/login/", {"username": "compliance", "password": "test-password"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(role_users["compliance"].pk)
    assert client.get("/").status_code == 200


def test_login_page_refuses_a_wrong_password_and_says_so(client: Client, role_users) -> None:
    response = client.post("/login/", {"username": "compliance", "password": "guess"})

    assert response.status_code == 200
    assert "did not match" in text(response)
    assert "_auth_user_id" not in client.session


def test_login_returns_the_user_to_the_page_asked_for(client: Client, role_users) -> None:
    response = client.post(
        "/login/",
        {"username": "auditor", "password": "test-password", "next": "/errors/"},
    )

    assert response["Location"] == "/errors/"


def test_logout_ends_the_session(client: Client, role_users) -> None:
    login(client, role_users["auditor"])

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_admin_is_reachable_by_a_staff_superuser(client: Client, role_users) -> None:
    UserFactory(username="root", department=None, is_staff=True, is_superuser=True)
    client.login(username="root", password="test-password")

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "Site administration" in text(response)


@pytest.mark.parametrize("role", ["administrator", "compliance", "auditor"])
def test_admin_redirects_users_who_are_not_staff_to_its_login(
    client: Client, role_users, role: str
) -> None:
    login(client, role_users[role])

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
