"""Bidirectional controls in file names: shown as code points, names isolated on pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import Client

from inventory.models import Copy
from inventory.sample_archive import PHOTOS_DIR
from tests.inventory.scan_helpers import scan_folder

RLO = "\u202e"
# Reads as "invoice_exe.jpg" in a browser: the override reverses "gpj.exe" after it.
HOSTILE = f"invoice_{RLO}gpj.exe.jpg"


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_a_right_to_left_override_is_shown_as_its_code_point_inside_bdi() -> None:
    html = render("<td>{{ name|isolate }} kept</td>", name=HOSTILE)
    assert html == "<td><bdi>invoice_[U+202E]gpj.exe.jpg</bdi> kept</td>"


@pytest.mark.parametrize(
    "control",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
        "\n",
        "\x1b",
        "\u2028",
    ],
)
def test_every_bidi_and_control_character_is_made_visible(control: str) -> None:
    html = render("{{ name|isolate }}", name=f"a{control}b.jpg")
    assert control not in html
    assert f"[U+{ord(control):04X}]" in html


def test_right_to_left_letters_are_isolated_and_kept() -> None:
    assert render("{{ name|isolate }}", name="archive/שלום.jpg") == "<bdi>archive/שלום.jpg</bdi>"


def test_an_ordinary_name_is_written_as_it_is_and_escaped() -> None:
    assert render("{{ name|isolate }}", name="stills/0001.jpg") == "stills/0001.jpg"
    assert render("{{ name|isolate }}", name="<b>x</b>.jpg") == "&lt;b&gt;x&lt;/b&gt;.jpg"


def test_visible_text_for_attributes_has_no_markup() -> None:
    html = render('<option title="{{ name|visible }}">{{ name|visible }}</option>', name=HOSTILE)
    assert html == (
        '<option title="invoice_[U+202E]gpj.exe.jpg">invoice_[U+202E]gpj.exe.jpg</option>'
    )


@pytest.fixture
def hostile_copy(archives: Path, role_users) -> Copy:
    root = archives / "incoming"
    root.mkdir()
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", root / HOSTILE)
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", root / "astronaut.jpg")
    scan_folder(root, name="incoming", department="LCSD")
    return Copy.objects.get(path=HOSTILE)


@pytest.mark.parametrize(
    "url",
    ["/copies/{pk}/", "/copies/?q=invoice", "/groups/{asset}/", "/assets/{asset}/"],
)
def test_pages_never_send_the_override_and_isolate_the_name(hostile_copy, role_users, url):
    client = Client()
    client.force_login(role_users["compliance"])

    response = client.get(url.format(pk=hostile_copy.pk, asset=hostile_copy.rendition.asset_id))

    assert response.status_code == 200
    page = response.content.decode()
    assert RLO not in page
    assert "<bdi>invoice_[U+202E]gpj.exe.jpg</bdi>" in page


def test_the_audit_log_shows_a_hostile_name_in_an_events_detail_visibly(hostile_copy, role_users):
    client = Client()
    client.force_login(role_users["auditor"])

    page = client.get("/audit/").content.decode()

    assert RLO not in page
    assert "[U+202E]" in page
