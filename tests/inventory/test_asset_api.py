"""The assets API by role over the scanned sample archive (LCSD: film_archive; NEWS: newsroom
and web_team): list and filters, set-master, merge, split, supersede, catalogue."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inventory.models import Asset, Copy, Match
from inventory.sample_archive import PHOTO_NAMES

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def copy_at(source: str, path: str) -> Copy:
    return Copy.objects.select_related("rendition").get(source__name=source, path=path)


def asset_of(source: str, path: str) -> Asset:
    return Asset.objects.get(pk=copy_at(source, path).rendition.asset_id)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_department_lists_the_assets_it_holds_copies_of(scanned_archive, role_users):
    every = {asset_of("film_archive", f"stills/{p}.jpg").pk for p in PHOTO_NAMES}
    assert ids(api_for(role_users["auditor"]).get("/api/assets/")) == every
    assert ids(api_for(role_users["compliance"]).get("/api/assets/")) == every
    news = ids(api_for(role_users["other_department"]).get("/api/assets/"))
    assert asset_of("film_archive", "stills/coffee.jpg").pk in news
    assert asset_of("film_archive", "stills/brick.jpg").pk not in news


def test_the_list_filters_by_department_source_and_text(scanned_archive, role_users):
    auditor = api_for(role_users["auditor"])
    brick = asset_of("film_archive", "stills/brick.jpg")
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    news = ids(auditor.get("/api/assets/?department=NEWS"))
    assert coffee.pk in news and brick.pk not in news
    web = ids(auditor.get("/api/assets/?source=web_team"))
    assert web == {
        asset_of("film_archive", f"stills/{p}.jpg").pk
        for p in ("astronaut", "rocket", "coffee", "chelsea")
    }
    admin = api_for(role_users["administrator"])
    response = admin.post(
        f"/api/assets/{brick.pk}/catalogue/",
        {
            "title": "Brick wall, Kowloon",
            "catalogue_numbers": [{"scheme": "LCSD", "number": "B-7"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["catalogue_numbers"] == [{"scheme": "LCSD", "number": "B-7"}]
    assert ids(auditor.get("/api/assets/?q=kowloon")) == {brick.pk}
    assert ids(auditor.get("/api/assets/?q=B-7")) == {brick.pk}
    assert auditor.get("/api/assets/?licence=bogus").status_code == 400


def test_an_asset_shows_its_master_renditions_and_licence_state(scanned_archive, role_users):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    body = api_for(role_users["manager"]).get(f"/api/assets/{coffee.pk}/").json()
    assert body["master"]["path"] == "stills/coffee.jpg"
    assert body["master"]["basis"] == "rule" and body["master"]["needs_review"] is False
    assert len(body["renditions"]) == 3
    assert body["licence_state"] == "unlicensed"


def test_set_master_by_role_and_department(scanned_archive, role_users):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    brick = asset_of("film_archive", "stills/brick.jpg")
    backup = copy_at("film_archive", "backup/2019-06/astronaut.jpg")
    body = {"copy": backup.pk, "reason": "the archive's reference scan"}
    url = f"/api/assets/{astronaut.pk}/set-master/"
    for role in ("auditor", "legal", "manager"):
        assert api_for(role_users[role]).post(url, body, format="json").status_code == 403, role
    news = api_for(role_users["other_department"])
    # NEWS holds copies of the astronaut but LCSD answers for it; the brick NEWS cannot see.
    own = copy_at("newsroom", "published/2015/collins_portrait.jpg")
    assert news.post(url, {**body, "copy": own.pk}, format="json").status_code == 403
    assert news.post(url, body, format="json").status_code == 404  # an LCSD copy: invisible
    brick_still = copy_at("film_archive", "stills/brick.jpg").pk
    assert (
        news.post(
            f"/api/assets/{brick.pk}/set-master/", {"copy": brick_still, "reason": "x"}
        ).status_code
        == 404
    )
    astronaut.refresh_from_db()
    assert not astronaut.master_chosen

    compliance = api_for(role_users["compliance"])
    assert compliance.post(url, {"copy": backup.pk}, format="json").status_code == 400
    done = compliance.post(url, body, format="json")
    assert done.status_code == 200
    master = done.json()["master"]
    assert (master["path"], master["basis"], master["set_by"]) == (
        "backup/2019-06/astronaut.jpg",
        "chosen",
        "compliance",
    )
    back = compliance.post(url, {"copy": None, "reason": "the rule is right"}, format="json")
    assert back.json()["master"]["basis"] == "rule"


def test_merge_and_split_by_role_and_department(scanned_archive, role_users):
    brick = asset_of("film_archive", "stills/brick.jpg")
    gravel = asset_of("film_archive", "stills/gravel.jpg")
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition_id
    merge = {"other": gravel.pk, "reason": "the same wall"}
    split = {"renditions": [half], "reason": "a different cup"}
    for role in ("auditor", "manager"):
        client = api_for(role_users[role])
        assert client.post(f"/api/assets/{brick.pk}/merge/", merge).status_code == 403
        response = client.post(f"/api/assets/{coffee.pk}/split/", split, format="json")
        assert response.status_code == 403
    news = api_for(role_users["other_department"])
    assert news.post(f"/api/assets/{brick.pk}/merge/", merge).status_code == 404
    assert news.post(f"/api/assets/{coffee.pk}/split/", split, format="json").status_code == 403
    assert not Match.objects.exclude(status=Match.Status.PROPOSED).exists()

    compliance = api_for(role_users["compliance"])
    merged = compliance.post(f"/api/assets/{brick.pk}/merge/", merge)
    assert merged.status_code == 200
    assert merged.json()["id"] == min(brick.pk, gravel.pk)
    assert len(merged.json()["renditions"]) == 2
    parts = compliance.post(f"/api/assets/{coffee.pk}/split/", split, format="json")
    assert parts.status_code == 200
    # The part split off is held by NEWS only: LCSD sees the asset it keeps.
    assert [a["id"] for a in parts.json()] == [coffee.pk]
    assert asset_of("newsroom", "web/cafe_cup_half.jpg").pk != coffee.pk
    missing_reason = compliance.post(
        f"/api/assets/{coffee.pk}/split/", {"renditions": [half]}, format="json"
    )
    assert missing_reason.status_code == 400


def test_supersede_retires_the_older_rendition_in_the_api(scanned_archive, role_users):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition_id
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition_id
    body = {"newer": half, "older": thumb, "reason": "the web team re-exported it"}
    url = f"/api/assets/{coffee.pk}/supersede/"
    assert api_for(role_users["auditor"]).post(url, body).status_code == 403
    done = api_for(role_users["compliance"]).post(url, body)
    assert done.status_code == 200
    retired = {r["id"] for r in done.json()["renditions"] if r["retired"]}
    assert retired == {thumb}
    # The master was neither: it stays where the rule put it.
    assert done.json()["master"]["path"] == "stills/coffee.jpg"


def test_withdrawing_a_supersession_in_the_api_needs_the_role_and_a_reason(
    scanned_archive, role_users
):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition_id
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition_id
    compliance = api_for(role_users["compliance"])
    stated = compliance.post(
        f"/api/assets/{coffee.pk}/supersede/",
        {"newer": half, "older": thumb, "reason": "the web team re-exported it"},
    ).json()["supersessions"]
    assert [(s["newer"], s["older"], s["withdrawn_at"]) for s in stated] == [(half, thumb, None)]
    url = f"/api/assets/{coffee.pk}/withdraw-supersession/"
    body = {"supersession": stated[0]["id"], "reason": "the old export is still the one in use"}
    assert api_for(role_users["auditor"]).post(url, body).status_code == 403
    assert api_for(role_users["other_department"]).post(url, body).status_code == 403
    assert compliance.post(url, {**body, "reason": ""}).status_code == 400
    assert compliance.post(url, {**body, "supersession": 0}).status_code == 404

    done = compliance.post(url, body)

    assert done.status_code == 200, done.content
    assert not any(r["retired"] for r in done.json()["renditions"])
    (record,) = done.json()["supersessions"]
    assert record["withdrawn_by"] == "compliance"
    assert record["withdrawn_reason"] == "the old export is still the one in use"
    again = compliance.post(url, body)
    assert again.status_code == 400 and "already withdrawn" in str(again.json())
