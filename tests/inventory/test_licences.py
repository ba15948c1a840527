"""Licences and their exposures over the scanned sample archive (LCSD: film_archive; NEWS:
newsroom and web_team), through the selectors, the page and the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from governance.models import AuditEvent, Department
from inventory.models import Asset, Copy, Licence, LicenceAttachment, Source
from inventory.selectors.assets import assets_visible_to
from inventory.selectors.licences import assets_by_licence_state, licence_exposures
from inventory.services.assets import assets_merge
from inventory.services.licences import licence_attach, licence_create

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def asset_of(path: str) -> Asset:
    copy = Copy.objects.select_related("rendition").get(source__name="film_archive", path=path)
    return Asset.objects.get(pk=copy.rendition.asset_id)


def paths(copies) -> set[tuple[str, str]]:
    return {(c.source.name, c.path) for c in copies}


@pytest.fixture
def licensed(scanned_archive, role_users):
    """Licences on four photographs: coffee (LCSD only, in force), chelsea (ended), astronaut
    (bought twice, overlapping), rocket (renewed: two periods, no overlap); the rest have none."""
    admin = role_users["administrator"]
    lcsd, news = Department.objects.get(code="LCSD"), Department.objects.get(code="NEWS")

    def licence(reference: str, asset: str, **terms) -> Licence:
        departments = terms.pop("departments", [])
        sources = [Source.objects.get(name=n) for n in terms.pop("sources", [])]
        created = licence_create(
            user=admin,
            licensor=terms.pop("licensor", "Agency"),
            reference=reference,
            departments=departments,
            sources=sources,
            **terms,
        )
        licence_attach(licence=created, asset=asset_of(asset), user=admin)
        return created

    return {
        "coffee": licence("AA-1", "stills/coffee.jpg", departments=[lcsd], start=days(-100),
                          cost=Decimal("1000"), currency="HK$"),
        "chelsea": licence("BB-7", "stills/chelsea.jpg", sources=["newsroom", "film_archive"],
                           start=days(-400), end=days(-30), cost=Decimal("250")),
        "astronaut": [
            licence("NASA-1", "stills/astronaut.jpg", departments=[lcsd, news], start=days(-200),
                    cost=Decimal("500"), currency="USD"),
            licence("NASA-2", "stills/astronaut.jpg", departments=[news], start=days(-50),
                    end=days(300), cost=Decimal("300"), currency="USD"),
        ],
        "rocket": [
            licence("R-2019", "stills/rocket.jpg", sources=["film_archive", "newsroom", "web_team"],
                    start=days(-1200), end=days(-800), cost=Decimal("90")),
            licence("R-2023", "stills/rocket.jpg", sources=["film_archive", "newsroom", "web_team"],
                    start=days(-799), cost=Decimal("90")),
        ],
    }  # fmt: skip


def test_copies_outside_what_a_licence_covers_are_exposed(licensed, role_users):
    exposures = licence_exposures(user=role_users["auditor"])
    coffee = asset_of("stills/coffee.jpg")
    # The licence covers LCSD's film archive only; the newsroom and web team hold copies too.
    assert paths(u.copy for u in exposures.uncovered) == {
        ("newsroom", "features/cafe_cup.jpg"),
        ("newsroom", "web/cafe_cup_half.jpg"),
        ("web_team", "thumbs/coffee_160.jpg"),
    }
    assert {u.asset_id for u in exposures.uncovered} == {coffee.pk}
    reason = exposures.uncovered[0].reason
    assert "(department NEWS) is not covered by AA-1" in reason


def test_assets_held_after_their_licence_ended_are_exposed(licensed, role_users):
    exposures = licence_exposures(user=role_users["auditor"])
    (expired,) = exposures.expired
    assert expired.asset == asset_of("stills/chelsea.jpg")
    assert expired.ended == days(-30)
    assert paths(expired.copies) == {
        ("film_archive", "stills/chelsea.jpg"),
        ("newsroom", "desk/IMG_0412.JPG"),
        ("newsroom", "converted/chelsea.png"),
        ("web_team", "assets/chelsea.png"),
    }


def test_the_same_photograph_licensed_twice_for_overlapping_periods_is_bought_twice(
    licensed, role_users
):
    exposures = licence_exposures(user=role_users["auditor"])
    (twice,) = exposures.bought_twice
    assert twice.asset == asset_of("stills/astronaut.jpg")
    assert {lic.reference for lic in twice.licences} == {"NASA-1", "NASA-2"}
    assert twice.costs == {"USD": Decimal("800")}
    assert twice.cost_text == "USD 800.00"
    # A renewal (the rocket's second period starts after the first ended) is not.
    rocket = asset_of("stills/rocket.jpg")
    assert rocket.pk not in {b.asset.pk for b in exposures.bought_twice}
    assert rocket.pk not in exposures.asset_ids


def test_two_licensed_assets_merged_into_one_are_bought_twice_with_the_summed_cost(
    licensed, role_users
):
    admin = role_users["administrator"]
    for reference, path, cost in (("G-1", "stills/gravel.jpg", "120"),
                                  ("G-2", "stills/grass.jpg", "80.50")):  # fmt: skip
        created = licence_create(user=admin, licensor="Textures Ltd", reference=reference,
                                 start=days(-10), cost=Decimal(cost),
                                 departments=[Department.objects.get(code="LCSD")])  # fmt: skip
        licence_attach(licence=created, asset=asset_of(path), user=admin)
    assert len(licence_exposures(user=admin).bought_twice) == 1  # the astronaut only

    merged = assets_merge(
        asset=asset_of("stills/gravel.jpg"),
        other=asset_of("stills/grass.jpg"),
        user=admin,
        reason="one print, scanned twice",
    )

    twice = {b.asset.pk: b for b in licence_exposures(user=admin).bought_twice}
    assert set(twice[merged.pk].costs.items()) == {("HK$", Decimal("200.50"))}
    assert {lic.reference for lic in twice[merged.pk].licences} == {"G-1", "G-2"}


def test_licence_states_filter_the_assets(licensed, role_users):
    auditor = role_users["auditor"]
    assets = assets_visible_to(user=auditor)

    def state(name: str) -> set[int]:
        return set(
            assets_by_licence_state(assets=assets, state=name, user=auditor).values_list(
                "pk", flat=True
            )
        )

    coffee, chelsea = asset_of("stills/coffee.jpg"), asset_of("stills/chelsea.jpg")
    astronaut, rocket = asset_of("stills/astronaut.jpg"), asset_of("stills/rocket.jpg")
    assert state("licensed") == {coffee.pk, astronaut.pk, rocket.pk}
    assert state("expired") == {chelsea.pk}
    assert state("exposed") == {coffee.pk, chelsea.pk}
    assert state("unlicensed") == set(assets.values_list("pk", flat=True)) - {
        coffee.pk, chelsea.pk, astronaut.pk, rocket.pk
    }  # fmt: skip


def test_a_department_sees_only_the_exposures_in_its_own_sources(licensed, role_users):
    lcsd = licence_exposures(user=role_users["compliance"])
    assert lcsd.uncovered == []  # the uncovered coffee copies are NEWS's
    assert paths(lcsd.expired[0].copies) == {("film_archive", "stills/chelsea.jpg")}
    news = licence_exposures(user=role_users["other_department"])
    assert {c.source.name for c in (u.copy for u in news.uncovered)} == {"newsroom", "web_team"}


def test_the_exposures_page_and_api_list_the_three_kinds(licensed, role_users, client):
    client.force_login(role_users["auditor"])
    page = client.get("/licences/exposures/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="uncovered"') == 3 and "web/cafe_cup_half.jpg" in html
    assert html.count('class="expired"') == 1 and "BB-7" in html
    assert html.count('class="bought-twice"') == 1 and "USD 800.00" in html
    api = APIClient()
    api.force_authenticate(role_users["auditor"])
    body = api.get("/api/exposures/").json()
    assert {(u["source"], u["path"]) for u in body["uncovered"]} == {
        ("newsroom", "features/cafe_cup.jpg"),
        ("newsroom", "web/cafe_cup_half.jpg"),
        ("web_team", "thumbs/coffee_160.jpg"),
    }
    assert [e["ended"] for e in body["expired"]] == [days(-30).isoformat()]
    assert body["bought_twice"][0]["costs"] == {"USD": "800.00"}


def test_attaching_a_licence_is_audited(licensed):
    coffee = asset_of("stills/coffee.jpg")
    (event,) = AuditEvent.objects.filter(
        event_type="licence_attached", object_type="asset", object_id=str(coffee.pk)
    )
    assert event.agent == "administrator"
    assert event.detail["reference"] == "AA-1" and event.detail["cost"] == "1000.00"


# --- who may write --------------------------------------------------------------------------


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


NEW_LICENCE = {
    "licensor": "Picture Agency",
    "reference": "PA-9",
    "start": "2026-01-01",
    "cost": "120.00",
    "currency": "HK$",
    "departments": ["LCSD"],
}


def test_compliance_officers_record_licences_for_their_own_department_only(licensed, role_users):
    compliance = api_for(role_users["compliance"])
    created = compliance.post("/api/licences/", NEW_LICENCE, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["departments"] == ["LCSD"]
    assert created.json()["created_by"] == "compliance"
    foreign = compliance.post(
        "/api/licences/", {**NEW_LICENCE, "departments": ["NEWS"]}, format="json"
    )
    assert foreign.status_code == 403 and "not for NEWS" in foreign.json()["detail"]
    backwards = compliance.post(
        "/api/licences/", {**NEW_LICENCE, "end": "2025-01-01"}, format="json"
    )
    assert backwards.status_code == 400 and "ends before it starts" in str(backwards.json())
    pk = created.json()["id"]
    coffee = asset_of("stills/coffee.jpg")
    attached = compliance.post(f"/api/licences/{pk}/attach/", {"asset": coffee.pk}, format="json")
    assert attached.status_code == 201 and attached.json()["assets"] == [coffee.pk]
    refused = compliance.delete(f"/api/licences/{pk}/")
    assert refused.status_code == 400 and "detach first" in str(refused.json())
    assert compliance.post(f"/api/licences/{pk}/detach/", {"asset": coffee.pk}).status_code == 200
    assert compliance.delete(f"/api/licences/{pk}/").status_code == 204
    assert AuditEvent.objects.filter(event_type="licence_detached").count() == 1


def test_auditors_read_licences_and_change_none(licensed, role_users):
    auditor = api_for(role_users["auditor"])
    listed = auditor.get("/api/licences/")
    assert listed.status_code == 200 and listed.json()["count"] == 6
    pk = licensed["coffee"].pk
    brick = asset_of("stills/brick.jpg")
    assert auditor.post("/api/licences/", NEW_LICENCE, format="json").status_code == 403
    assert auditor.patch(f"/api/licences/{pk}/", {"cost": "1"}, format="json").status_code == 403
    assert auditor.delete(f"/api/licences/{pk}/").status_code == 403
    assert auditor.post(f"/api/licences/{pk}/attach/", {"asset": brick.pk}).status_code == 403
    assert auditor.post(f"/api/licences/{pk}/detach/", {"asset": brick.pk}).status_code == 403
    assert LicenceAttachment.objects.filter(asset=brick).count() == 0
    assert Licence.objects.get(pk=pk).cost == Decimal("1000")


def test_another_department_cannot_change_a_licence_it_sees_and_cannot_see_the_rest(
    licensed, role_users
):
    news = api_for(role_users["other_department"])
    coffee_licence = licensed["coffee"]  # LCSD's, on a photograph NEWS holds copies of
    assert news.get(f"/api/licences/{coffee_licence.pk}/").status_code == 200
    changed = news.patch(f"/api/licences/{coffee_licence.pk}/", {"cost": "1"}, format="json")
    assert changed.status_code == 403
    # An LCSD licence on a photograph only LCSD holds is invisible: 404.
    hidden = licence_create(
        user=role_users["compliance"],
        licensor="Texture Co",
        reference="T-1",
        start=days(-1),
        departments=[Department.objects.get(code="LCSD")],
    )
    licence_attach(
        licence=hidden, asset=asset_of("stills/brick.jpg"), user=role_users["compliance"]
    )
    assert news.get(f"/api/licences/{hidden.pk}/").status_code == 404
    assert (
        news.patch(f"/api/licences/{hidden.pk}/", {"cost": "1"}, format="json").status_code == 404
    )
    assert news.delete(f"/api/licences/{hidden.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        licence_attach(
            licence=coffee_licence,
            asset=asset_of("stills/camera.jpg"),
            user=role_users["other_department"],
        )
    assert Licence.objects.get(pk=coffee_licence.pk).cost == Decimal("1000")


def test_a_licence_cannot_be_attached_twice(licensed, role_users):
    with pytest.raises(ValidationError, match="already attached"):
        licence_attach(
            licence=licensed["coffee"],
            asset=asset_of("stills/coffee.jpg"),
            user=role_users["administrator"],
        )


def test_recording_changing_and_deleting_a_licence_is_audited(licensed, role_users):
    compliance = api_for(role_users["compliance"])
    created = compliance.post("/api/licences/", NEW_LICENCE, format="json").json()
    pk = str(created["id"])
    film_archive = Source.objects.get(name="film_archive")
    (recorded,) = AuditEvent.objects.filter(event_type="licence_recorded", object_id=pk)
    assert (recorded.object_type, recorded.agent) == ("licence", "compliance")
    assert recorded.source_id == film_archive.pk  # LCSD's events reach LCSD's people
    assert recorded.detail == {
        "licensor": "Picture Agency",
        "reference": "PA-9",
        "permitted_uses": "",
        "start": "2026-01-01",
        "end": None,
        "cost": "120.00",
        "currency": "HK$",
        "departments": ["LCSD"],
        "sources": [],
    }

    changed = compliance.patch(
        f"/api/licences/{pk}/", {"cost": "150.00", "end": "2027-12-31"}, format="json"
    )
    assert changed.status_code == 200
    unchanged = compliance.patch(f"/api/licences/{pk}/", {"cost": "150.00"}, format="json")
    assert unchanged.status_code == 200
    (change,) = AuditEvent.objects.filter(event_type="licence_changed", object_id=pk)
    assert change.detail == {
        "reference": "PA-9",
        "changed": {
            "cost": {"from": "120.00", "to": "150.00"},
            "end": {"from": None, "to": "2027-12-31"},
        },
    }

    assert compliance.delete(f"/api/licences/{pk}/").status_code == 204
    (deleted,) = AuditEvent.objects.filter(event_type="licence_deleted", object_id=pk)
    assert deleted.agent == "compliance" and deleted.source_id == film_archive.pk
    assert deleted.detail["reference"] == "PA-9" and deleted.detail["cost"] == "150.00"
    # A refused write records nothing.
    auditor = api_for(role_users["auditor"])
    assert auditor.post("/api/licences/", NEW_LICENCE, format="json").status_code == 403
    assert AuditEvent.objects.filter(event_type="licence_recorded", agent="auditor").count() == 0


def test_recording_a_licence_on_the_page_is_audited(licensed, role_users, client):
    client.force_login(role_users["compliance"])
    lcsd = Department.objects.get(code="LCSD")
    done = client.post(
        "/licences/",
        {"licensor": "Film Library", "reference": "FL-3", "start": "2026-02-01", "cost": "75",
         "currency": "HK$", "departments": [lcsd.pk]},
    )  # fmt: skip
    assert done.status_code == 302
    licence = Licence.objects.get(reference="FL-3")
    (event,) = AuditEvent.objects.filter(event_type="licence_recorded", object_id=str(licence.pk))
    assert event.agent == "compliance" and event.detail["departments"] == ["LCSD"]


def test_a_licence_not_yet_started_leaves_every_copy_exposed(licensed, role_users):
    admin = role_users["administrator"]
    camera = asset_of("stills/camera.jpg")
    future = licence_create(
        user=admin, licensor="Agency", reference="F-1", start=days(30),
        departments=[Department.objects.get(code="LCSD"), Department.objects.get(code="NEWS")],
    )  # fmt: skip
    licence_attach(licence=future, asset=camera, user=admin)

    exposures = licence_exposures(user=role_users["auditor"])

    held = Copy.objects.filter(rendition__asset=camera, state="present")
    pending = [u for u in exposures.uncovered if u.asset_id == camera.pk]
    assert paths(u.copy for u in pending) == paths(held) and len(pending) >= 2
    assert pending[0].reason == f"no licence is in force yet (the first starts {days(30)})"
    assert camera.pk in exposures.asset_ids
    exposed = assets_by_licence_state(
        assets=assets_visible_to(user=role_users["auditor"]), state="exposed", user=admin
    )
    assert camera.pk in set(exposed.values_list("pk", flat=True))
