"""The asset pages over the scanned sample archive: the lineage SVG, copies, master, timeline,
the forms behind them by role, and the links from group and copy pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.models import AuditEvent
from inventory.models import Asset, Copy, Rendition, Supersession
from inventory.services.assets import asset_master_set

pytestmark = pytest.mark.django_db


def copy_at(source: str, path: str) -> Copy:
    return Copy.objects.select_related("rendition").get(source__name=source, path=path)


def asset_of(source: str, path: str) -> Asset:
    return Asset.objects.get(pk=copy_at(source, path).rendition.asset_id)


def page(client: Client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def svg_of(html: str) -> str:
    match = re.search(r'<svg class="lineage".*?</svg>', html, re.S)
    assert match, "no lineage SVG on the page"
    return match.group(0)


def test_the_asset_page_draws_the_lineage_with_its_relations(scanned_archive, role_users, client):
    rocket = asset_of("film_archive", "stills/rocket.jpg")
    svg = svg_of(page(client, role_users["compliance"], f"/assets/{rocket.pk}/"))
    still = copy_at("film_archive", "stills/rocket.jpg").rendition_id
    mono = copy_at("newsroom", "mono/dscovr_launch_bw.jpg").rendition_id
    assert f'<g class="node master" data-rendition="{still}">' in svg
    edge = re.search(
        rf'<g class="edge derived_from" data-start="{mono}" data-end="{still}">.*?</g>', svg, re.S
    )
    assert edge and ">grayscale</text>" in edge.group(0)
    assert 'marker-end="url(#arrow-derived_from)"' in edge.group(0)
    assert f'href="/thumbnails/{still}.jpg"' in svg


def test_each_relation_of_the_sample_archive_is_drawn(scanned_archive, role_users, client):
    labels = set()
    for photo in ("coffee", "chelsea", "camera", "coins", "rocket"):
        asset = asset_of("film_archive", f"stills/{photo}.jpg")
        svg = svg_of(page(client, role_users["auditor"], f"/assets/{asset.pk}/"))
        labels |= set(re.findall(r'paint-order="stroke">([a-z_]+)</text>', svg))
    assert {"resized", "format_converted", "reencoded", "cropped", "grayscale"} <= labels


def test_the_asset_page_lists_copies_metadata_and_the_timeline(scanned_archive, role_users, client):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    backup = copy_at("film_archive", "backup/2019-06/astronaut.jpg")
    asset_master_set(
        asset=astronaut, copy=backup, user=role_users["compliance"], reason="reference scan"
    )
    html = page(client, role_users["auditor"], f"/assets/{astronaut.pk}/")
    for path in ("stills/astronaut.jpg", "published/2015/collins_portrait.jpg",
                 "thumbs/astronaut_160.jpg", "images/hero.jpg"):  # fmt: skip
        assert path in html
    assert "compliance on" in html and "reference scan" in html
    timeline = html[html.index("<h2>Provenance</h2>") :]
    # Newest first: the master choice, then the scans' discoveries of the copies.
    assert timeline.index("master_set") < timeline.index("discovered")
    assert "metadata_extracted" in timeline
    # LCSD's compliance officer does not see NEWS's copies, only that they exist.
    lcsd = page(client, role_users["compliance"], f"/assets/{astronaut.pk}/")
    assert "published/2015/collins_portrait.jpg" not in lcsd
    assert "in sources of other departments" in lcsd


def test_a_retired_version_and_a_flagged_master_are_shown(scanned_archive, role_users, client):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition
    client.force_login(role_users["compliance"])
    done = client.post(
        f"/assets/{coffee.pk}/supersede/",
        {"newer": half.pk, "older": thumb.pk, "reason": "re-exported"},
    )
    assert done.status_code == 302
    html = page(client, role_users["auditor"], f"/assets/{coffee.pk}/")
    svg = svg_of(html)
    assert f'<g class="node retired" data-rendition="{thumb.pk}">' in svg
    assert f'<g class="edge supersedes" data-start="{half.pk}" data-end="{thumb.pk}">' in svg
    assert '<span class="badge retired">retired</span>' in html
    listed = page(client, role_users["auditor"], "/copies/?q=coffee_160")
    assert '<span class="badge retired">retired</span>' in listed
    api = APIClient()
    api.force_authenticate(role_users["auditor"])
    rows = api.get("/api/copies/?path=coffee").json()["results"]
    assert {r["path"] for r in rows if r["retired"]} == {"thumbs/coffee_160.jpg"}
    Asset.objects.filter(pk=coffee.pk).update(
        master_needs_review=True, master_review_reason="the chosen copy is missing"
    )
    flagged = page(client, role_users["auditor"], f"/assets/{coffee.pk}/")
    assert "Master needs review:</strong> the chosen copy is missing" in flagged


def test_a_compliance_officer_withdraws_a_supersession_on_the_page(
    scanned_archive, role_users, client
):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition
    client.force_login(role_users["compliance"])
    client.post(
        f"/assets/{coffee.pk}/supersede/",
        {"newer": half.pk, "older": thumb.pk, "reason": "re-exported"},
    )
    stated = Supersession.objects.get(newer=half, older=thumb)
    url = f"/assets/{coffee.pk}/supersessions/{stated.pk}/withdraw/"
    reader = page(client, role_users["auditor"], f"/assets/{coffee.pk}/")
    assert f'id="supersession-{stated.pk}"' in reader and url not in reader
    assert client.post(url, {"reason": "x"}).status_code == 403  # the auditor
    html = page(client, role_users["compliance"], f"/assets/{coffee.pk}/")
    assert f'action="{url}"' in html

    assert client.post(url, {"reason": ""}).status_code == 302
    assert "say why" in client.get(f"/assets/{coffee.pk}/").content.decode()
    done = client.post(url, {"reason": "the web team kept the old export"})

    assert done.status_code == 302
    html = client.get(f"/assets/{coffee.pk}/").content.decode()
    assert f"Withdrawn: rendition {thumb.pk} is no longer retired." in html
    assert "withdrawn</span> by compliance" in html and "the web team kept the old export" in html
    assert f'<g class="node retired" data-rendition="{thumb.pk}">' not in svg_of(html)
    assert f'action="{url}"' not in html
    (event,) = AuditEvent.objects.filter(event_type="supersession_withdrawn")
    assert event.object_id == str(coffee.pk)
    assert "supersession_withdrawn" in html  # on the provenance timeline


def test_group_and_copy_pages_link_to_the_asset_page(scanned_archive, role_users, client):
    coffee = copy_at("film_archive", "stills/coffee.jpg")
    asset_id = coffee.rendition.asset_id
    link = f'href="/assets/{asset_id}/"'
    assert link in page(client, role_users["compliance"], f"/groups/{asset_id}/")
    assert link in page(client, role_users["compliance"], f"/copies/{coffee.pk}/")


def test_the_asset_list_filters_and_searches(scanned_archive, role_users, client):
    brick = asset_of("film_archive", "stills/brick.jpg")
    Asset.objects.filter(pk=brick.pk).update(title="Brick wall, Kowloon")
    html = page(client, role_users["auditor"], "/assets/?q=kowloon")
    assert re.findall(r'href="/assets/(\d+)/"', html) == [str(brick.pk)]
    news = page(client, role_users["auditor"], "/assets/?department=NEWS")
    assert f'href="/assets/{brick.pk}/"' not in news
    unlicensed = page(client, role_users["auditor"], "/assets/?licence=unlicensed")
    assert f'href="/assets/{brick.pk}/"' in unlicensed


FORMS = ("master", "merge", "split", "supersede", "catalogue", "licences")


def test_auditors_and_readers_change_nothing_through_the_pages(scanned_archive, role_users, client):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    backup = copy_at("film_archive", "backup/2019-06/astronaut.jpg")
    data = {"copy": backup.pk, "reason": "x", "other": astronaut.pk, "title": "X",
            "renditions": [backup.rendition_id], "licence": 0}  # fmt: skip
    for role in ("auditor", "manager", "legal"):
        client.force_login(role_users[role])
        html = client.get(f"/assets/{astronaut.pk}/").content.decode()
        assert "Set master" not in html and "Split off" not in html
        for form in ("master", "merge", "split", "catalogue"):
            response = client.post(f"/assets/{astronaut.pk}/{form}/", data)
            assert response.status_code in (403, 404), (role, form, response.status_code)
        assert client.post(f"/assets/{astronaut.pk}/master/", data).status_code == 403
    astronaut.refresh_from_db()
    assert not astronaut.master_chosen and astronaut.title == ""


def test_another_department_gets_403_on_what_it_sees_and_404_on_the_rest(
    scanned_archive, role_users, client
):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    brick = asset_of("film_archive", "stills/brick.jpg")
    own = copy_at("newsroom", "published/2015/collins_portrait.jpg")
    client.force_login(role_users["other_department"])
    assert client.get(f"/assets/{astronaut.pk}/").status_code == 200
    assert (
        client.post(f"/assets/{astronaut.pk}/master/", {"copy": own.pk, "reason": "ours"})
    ).status_code == 403
    thumb = copy_at("web_team", "thumbs/astronaut_160.jpg").rendition_id
    assert (
        client.post(f"/assets/{astronaut.pk}/split/", {"renditions": [thumb], "reason": "x"})
    ).status_code == 403
    assert client.get(f"/assets/{brick.pk}/").status_code == 404
    hidden = client.post(f"/assets/{brick.pk}/master/", {"copy": "rule", "reason": "x"})
    assert hidden.status_code == 404
    assert Rendition.objects.get(pk=thumb).asset_id == astronaut.pk


def test_a_compliance_officer_chooses_the_master_on_the_page(scanned_archive, role_users, client):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    backup = copy_at("film_archive", "backup/2019-06/astronaut.jpg")
    client.force_login(role_users["compliance"])
    html = client.get(f"/assets/{astronaut.pk}/").content.decode()
    assert "Set master" in html
    missing = client.post(f"/assets/{astronaut.pk}/master/", {"copy": backup.pk, "reason": ""})
    assert missing.status_code == 302
    assert "say why" in client.get(f"/assets/{astronaut.pk}/").content.decode()
    done = client.post(
        f"/assets/{astronaut.pk}/master/", {"copy": backup.pk, "reason": "the reference scan"}
    )
    assert done.status_code == 302
    astronaut.refresh_from_db()
    assert astronaut.master_copy_id == backup.pk and astronaut.master_reason == "the reference scan"
