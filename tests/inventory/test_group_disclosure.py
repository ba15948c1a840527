"""Group members in another department's sources are counted, never listed (issue 18, item 3):
a NEWS officer reading a group that LCSD's film_archive shares (the coffee still) through
/groups/, /remediation/assets/N/dispose/, /api/groups/, /api/findings/ or a NEWS report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from inventory.models import Copy, Source
from inventory.selectors.findings import findings_csv
from reports.models import Report
from tests.reports.helpers import embedded_files

pytestmark = pytest.mark.django_db

FILM_STILL = "stills/coffee.jpg"  # film_archive (LCSD), authoritative: the group's master


@pytest.fixture
def coffee(scanned_archive) -> int:
    """Return the coffee photograph's asset: held by film_archive and by NEWS's sources."""
    still = Copy.objects.select_related("rendition").get(
        source__name="film_archive", path=FILM_STILL
    )
    held_by = set(
        Copy.objects.filter(rendition__asset=still.rendition.asset_id).values_list(
            "source__name", flat=True
        )
    )
    assert held_by == {"film_archive", "newsroom", "web_team"}
    return still.rendition.asset_id


def _film_copies_of(asset_id: int) -> int:
    return Copy.objects.filter(
        source__name="film_archive", rendition__asset=asset_id, state="present"
    ).count()


def _page(user, url: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def _api(user, url: str):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(url)


def test_the_group_page_counts_lcsd_copies_for_news_and_lists_them_for_the_auditor(
    coffee: int, role_users
) -> None:
    status, page = _page(role_users["other_department"], f"/groups/{coffee}/")

    assert status == 200
    assert "film_archive" not in page and FILM_STILL not in page
    assert f'<span id="elsewhere">{_film_copies_of(coffee)} cop' in page
    assert "in another department" in page
    assert "features/cafe_cup.jpg" in page  # NEWS's own copies stay listed

    status, page = _page(role_users["auditor"], f"/groups/{coffee}/")

    assert status == 200
    assert FILM_STILL in page and 'id="elsewhere"' not in page


def test_the_group_list_names_no_lcsd_file_for_news(coffee: int, role_users) -> None:
    status, page = _page(role_users["other_department"], "/groups/")

    assert status == 200
    assert "film_archive" not in page
    assert "coffee.jpg" not in page  # the master's file name is LCSD's too
    assert "in another department" in page


def test_the_dispose_page_counts_lcsd_copies_and_hides_the_lcsd_master(
    coffee: int, role_users
) -> None:
    status, page = _page(role_users["other_department"], f"/remediation/assets/{coffee}/dispose/")

    assert status == 200
    assert "film_archive" not in page and FILM_STILL not in page
    assert "a copy in another department" in page  # the still to keep, film_archive's

    status, page = _page(role_users["compliance"], f"/remediation/assets/{coffee}/dispose/")
    # compliance is LCSD's: NEWS's copies are the ones counted for it.
    assert FILM_STILL in page and "features/cafe_cup.jpg" not in page


def test_the_groups_api_lists_only_news_members_for_news(coffee: int, role_users) -> None:
    response = _api(role_users["other_department"], "/api/groups/?limit=1000")

    assert response.status_code == 200
    groups = response.json()
    assert groups
    assert all(m["source"] != "film_archive" for g in groups for m in g["members"])
    (group,) = [g for g in groups if g["asset"] == coffee]
    assert group["other_department_copies"] == _film_copies_of(coffee)

    everything = _api(role_users["auditor"], "/api/groups/?limit=1000").json()
    (whole,) = [g for g in everything if g["asset"] == coffee]
    assert whole["other_department_copies"] == 0
    assert len(whole["members"]) == len(group["members"]) + group["other_department_copies"]
    assert whole["reclaimable_bytes"] == group["reclaimable_bytes"]  # one figure for all


def test_the_findings_api_lists_no_lcsd_path_for_news(coffee: int, role_users) -> None:
    response = _api(role_users["other_department"], "/api/findings/")

    assert response.status_code == 200
    document = response.json()
    assert "film_archive" not in json.dumps(document)
    (group,) = [g for g in document["groups"] if g["asset"] == coffee]
    assert group["master"] is None  # film_archive holds it
    assert group["other_department_copies"] == _film_copies_of(coffee)
    assert "film_archive" not in findings_csv(document)


def test_a_report_on_news_sources_embeds_no_lcsd_row(coffee: int, role_users, settings) -> None:
    settings.PROVENA_BACKGROUND_REPORTS = False
    client = APIClient()
    client.force_authenticate(role_users["other_department"])

    response = client.post("/api/reports/", {"kind": "audit"}, format="json")

    assert response.status_code in (201, 202), response.content
    report = Report.objects.get()
    assert report.status == Report.Status.FINISHED, report.error
    assert report.scope["resolved_sources"] == ["newsroom", "web_team"]
    files = embedded_files(
        (Path(settings.PROVENA_MEDIA_ROOT) / "reports" / report.file).read_bytes()
    )
    csv_text = files["findings.csv"].decode("utf-8")
    assert "cafe_cup" in csv_text  # NEWS's own rows are there
    assert "film_archive" not in csv_text
    assert "film_archive" not in files["findings.json"].decode("utf-8")
    # The counts still say how many copies the groups hold.
    assert report.figures["copies_in_groups"] > csv_text.count("\n") - 1


def test_a_report_spanning_departments_is_for_organisation_wide_readers_and_lists_all(
    coffee: int, role_users, settings
) -> None:
    settings.PROVENA_BACKGROUND_REPORTS = False
    client = APIClient()
    client.force_authenticate(role_users["administrator"])

    response = client.post("/api/reports/", {"kind": "audit"}, format="json")

    assert response.status_code in (201, 202), response.content
    report = Report.objects.get()
    files = embedded_files(
        (Path(settings.PROVENA_MEDIA_ROOT) / "reports" / report.file).read_bytes()
    )
    assert FILM_STILL in files["findings.csv"].decode("utf-8")
    assert {s.name for s in Source.objects.all()} == set(report.scope["resolved_sources"])


def test_the_asset_pages_and_api_do_not_name_an_lcsd_master_for_news(
    coffee: int, role_users
) -> None:
    news = role_users["other_department"]

    status, page = _page(news, f"/assets/{coffee}/")
    assert status == 200
    assert "film_archive" not in page and FILM_STILL not in page
    assert 'id="master-elsewhere"' in page

    status, listing = _page(news, "/assets/?q=")
    assert status == 200 and "film_archive" not in listing

    body = _api(news, f"/api/assets/{coffee}/").json()
    assert body["master"]["in_another_department"] is True
    assert body["master"]["path"] is None and body["master"]["source"] is None
    assert "film_archive" not in json.dumps(_api(news, "/api/assets/").json())

    auditor = _api(role_users["auditor"], f"/api/assets/{coffee}/").json()
    assert auditor["master"] | {"in_another_department": False} == auditor["master"]
    assert (auditor["master"]["source"], auditor["master"]["path"]) == ("film_archive", FILM_STILL)
