"""The build form offers signing only when a signing certificate is configured."""

from __future__ import annotations

import pytest

from inventory.models import Source
from reports.forms import ReportBuildForm

pytestmark = pytest.mark.django_db


def test_sign_box_is_off_and_disabled_without_a_certificate(settings):
    settings.PROVENA_SIGNING_CERT = None
    form = ReportBuildForm(sources=Source.objects.all())
    assert form.fields["sign"].disabled is True
    assert form.fields["sign"].initial is False
    assert "No signing certificate" in form.fields["sign"].help_text


def test_sign_box_is_on_with_a_certificate(settings, tmp_path):
    settings.PROVENA_SIGNING_CERT = str(tmp_path / "org.p12")
    form = ReportBuildForm(sources=Source.objects.all())
    assert form.fields["sign"].disabled is False
    assert form.fields["sign"].initial is True
