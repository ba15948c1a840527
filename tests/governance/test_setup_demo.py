"""manage.py setup_demo: users, a scanned sample archive and licences the exposure pages show."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from governance.models import AuditEvent, User
from inventory.models import Licence, LicenceAttachment
from inventory.selectors.licences import licence_exposures

pytestmark = pytest.mark.django_db


def setup_demo(archives) -> str:
    out = StringIO()
    call_command("setup_demo", archive=str(archives / "demo"), stdout=out)
    return out.getvalue()


def test_the_demo_seeds_licences_that_every_exposure_list_shows(archives, settings):
    settings.DEBUG = True
    output = setup_demo(archives)

    assert "licences: 4 recorded, 0 kept" in output
    exposures = licence_exposures(user=User.objects.get(username="auditor"))
    # The coffee still is licensed to LCSD only; NEWS's copies of it are outside the licence.
    assert {u.copy.source.name for u in exposures.uncovered} == {"newsroom", "web_team"}
    assert {u.copy.path for u in exposures.uncovered} >= {"features/cafe_cup.jpg"}
    (expired,) = exposures.expired
    assert [lic.reference for lic in expired.licences] == ["PA-2022-0932"]
    assert {c.path for c in expired.copies} >= {"stills/chelsea.jpg", "desk/IMG_0412.JPG"}
    (twice,) = exposures.bought_twice
    assert twice.cost_text == "HKD 1,800.00"
    # Each licence was recorded and attached through the services, so the log has it.
    assert AuditEvent.objects.filter(event_type="licence_recorded", agent="admin").count() == 4
    assert AuditEvent.objects.filter(event_type="licence_attached").count() == 4

    again = setup_demo(archives)

    assert "licences: 0 recorded, 4 kept" in again
    assert Licence.objects.count() == 4 and LicenceAttachment.objects.count() == 4


def test_the_demo_refuses_to_run_without_debug(archives, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="PROVENA_DEBUG=true"):
        setup_demo(archives)
    assert not Licence.objects.exists()
