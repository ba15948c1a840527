"""The asset graph on real photographs: masters, parents, certain copies, one reclaimable figure."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from governance.models import AuditEvent
from inventory.lineage import Facts, Link, choose_parents, original_areas
from inventory.master_rule import DEFAULT_RULE, Candidate, master_key
from inventory.models import Asset, Copy, Match, Rendition, Scan, Source
from inventory.sample_edits import EDIT_BY_NAME, build_photo_corpus
from inventory.selectors.reclaimable import reclaimable_storage
from inventory.services.assets import asset_master_set, rendition_supersede
from inventory.services.review import match_decide
from reports.selectors.figures import report_data
from reports.selectors.scope import ReportScope
from tests.inventory.scan_helpers import scan_folder

pytestmark = pytest.mark.django_db

EDITS = tuple(
    EDIT_BY_NAME[name]
    for name in ("byte_copy", "exif_edit", "border", "upscale_150", "resize_50", "crop_10",
                 "grayscale", "rotate_90", "jpeg_q40")
)  # fmt: skip
PHOTOS = ("astronaut", "coffee")


@pytest.fixture
def corpus(archives: Path, role_users) -> dict:
    """Two real photographs, each with its byte copy, EXIF-only edit and seven derivatives,
    scanned as one source."""
    root = archives / "desk"
    files = build_photo_corpus(root, photos=PHOTOS, edits=EDITS)
    scan = scan_folder(root, name="desk", department="LCSD")
    return {"root": root, "files": files, "scan": scan}


def export(tmp_path: Path) -> dict:
    target = tmp_path / "findings.json"
    call_command("export_findings", "--format", "json", "--output", str(target))
    return json.loads(target.read_text())


def members_by_path(document: dict) -> dict[str, tuple[dict, dict]]:
    return {m["path"]: (g, m) for g in document["groups"] for m in g["members"]}


def copy_at(path: str) -> Copy:
    return Copy.objects.select_related("rendition").get(path=path)


def redundant_bytes(root: Path) -> int:
    return sum((root / p / name).stat().st_size for p in PHOTOS
               for name in ("byte_copy.jpg", "exif_edit.jpg"))  # fmt: skip


def test_the_original_is_master_not_its_bordered_or_upscaled_copy(corpus, tmp_path):
    document = export(tmp_path)
    for photo in PHOTOS:
        (group,) = [g for g in document["groups"] if g["master"]["path"].startswith(photo)]
        assert group["master"] == {"source": "desk", "path": f"{photo}/original.jpg"}
        assert group["master_basis"] == "rule"
        # The border and the upscale add pixels, not resolution: they hold the original's.
        original = copy_at(f"{photo}/original.jpg").rendition
        for name in ("border.jpg", "upscale_150.jpg"):
            rendition = copy_at(f"{photo}/{name}").rendition
            assert rendition.width * rendition.height > original.width * original.height
            assert rendition.original_area <= original.width * original.height * 1.01
        assert Asset.objects.get(pk=group["asset"]).proposed_master_copy.path == (
            f"{photo}/original.jpg"
        )


def test_each_member_names_its_edit_against_its_parent(corpus, tmp_path):
    by_path = members_by_path(export(tmp_path))
    for file in corpus["files"]:
        group, member = by_path[file.path]
        if file.edit == "original":
            assert member["relation"] == "master" and "of" not in member
            continue
        assert (member["relation"], member["of"]) == (
            file.relation,
            {"source": "desk", "path": f"{file.photo}/original.jpg"},
        ), file.path
        # One parent, stored: the original's rendition (copies share it, never an edge).
        rendition = copy_at(file.path).rendition
        original = copy_at(f"{file.photo}/original.jpg").rendition
        if file.relation in ("exact_copy", "same_pixels"):
            assert rendition == original
        else:
            assert rendition.parent == original


def test_byte_and_pixel_copies_stay_certain_whoever_the_master_is(corpus, tmp_path, role_users):
    bordered = copy_at("astronaut/border.jpg")
    asset_master_set(
        asset=bordered.rendition.asset,
        copy=bordered,
        user=role_users["compliance"],
        reason="the mounted print is the one the catalogue cites",
    )
    by_path = members_by_path(export(tmp_path))
    group, _ = by_path["astronaut/original.jpg"]
    assert group["master"]["path"] == "astronaut/border.jpg"
    for path, relation in (("astronaut/byte_copy.jpg", "exact_copy"),
                           ("astronaut/exif_edit.jpg", "same_pixels")):  # fmt: skip
        _, member = by_path[path]
        assert (member["relation"], member["tier"]) == (relation, "certain")
        assert member["of"]["path"] == "astronaut/original.jpg"
    # The original is still the source of every derivative, the chosen master included.
    _, original = by_path["astronaut/original.jpg"]
    assert original["relation"] != "master"
    _, resized = by_path["astronaut/resize_50.jpg"]
    assert (resized["relation"], resized["of"]["path"]) == ("resized", "astronaut/original.jpg")
    assert group["reclaimable_bytes"] == sum(
        (corpus["root"] / "astronaut" / n).stat().st_size
        for n in ("byte_copy.jpg", "exif_edit.jpg")
    )


def test_every_page_report_and_export_shows_the_same_reclaimable_bytes(
    corpus, tmp_path, client, role_users
):
    expected = redundant_bytes(corpus["root"])
    scan = Scan.objects.get(pk=corpus["scan"].pk)
    assert scan.reclaimable_bytes == expected
    document = export(tmp_path)
    assert document["reclaimable_bytes"] == expected
    assert sum(g["reclaimable_bytes"] for g in document["groups"]) == expected
    data = report_data(sources=Source.objects.all(), scope=ReportScope())
    assert data.figures["reclaimable_bytes"] == expected
    client.force_login(role_users["compliance"])
    api = client.get("/api/groups/").json()
    rows = api["results"] if isinstance(api, dict) else api
    assert sum(g["reclaimable_bytes"] for g in rows) == expected
    shown = _bytes_shown(client.get(reverse("dashboard")).content.decode(), "reclaimable")
    assert shown == _size_label(expected)
    # Derivatives (the crop, the resize, the border...) are distinct holdings: never counted.
    assert expected < sum(c.size for c in Copy.objects.exclude(path__endswith="original.jpg")) / 3


def test_group_page_and_api_name_the_parent_of_each_member(corpus, client, role_users):
    client.force_login(role_users["compliance"])
    asset_id = copy_at("coffee/original.jpg").rendition.asset_id
    page = client.get(reverse("group-detail", args=[asset_id])).content.decode()
    row = re.search(r"<tr><td><strong>resized</strong>.*?</tr>", page, re.S).group(0)
    assert "desk: coffee/original.jpg" in row
    api = client.get("/api/groups/").json()
    rows = api["results"] if isinstance(api, dict) else api
    (group,) = [g for g in rows if g["asset"] == asset_id]
    members = {m["path"]: m for m in group["members"]}
    assert members["coffee/original.jpg"]["of"] is None
    assert members["coffee/byte_copy.jpg"]["of"] == {
        "source": "desk",
        "path": "coffee/original.jpg",
    }
    assert members["coffee/byte_copy.jpg"]["redundant"] is True
    assert members["coffee/crop_10.jpg"]["redundant"] is False


def test_a_superseded_version_is_counted_apart_and_never_as_reclaimable(corpus, role_users):
    newer = copy_at("coffee/jpeg_q40.jpg").rendition
    older = copy_at("coffee/resize_50.jpg")
    rendition_supersede(
        asset=newer.asset,
        newer=newer,
        older=older.rendition,
        user=role_users["compliance"],
        reason="the web desk replaced the half-size copy",
    )
    storage = reclaimable_storage()
    assert storage.reclaimable_bytes == redundant_bytes(corpus["root"])
    assert (storage.retired.copies, storage.retired_bytes) == (1, older.size)


def test_losing_the_original_file_moves_the_rule_master_to_its_copy_on_record(corpus):
    (corpus["root"] / "astronaut" / "original.jpg").unlink()
    scan_folder(corpus["root"], name="desk")
    asset = copy_at("astronaut/border.jpg").rendition.asset
    asset.refresh_from_db()
    # Its byte copy holds the same picture: it, not a derivative, is the master now.
    assert asset.proposed_master_copy.path == "astronaut/byte_copy.jpg"
    (event,) = AuditEvent.objects.filter(
        event_type="master_set", object_type="asset", object_id=str(asset.pk)
    )
    assert event.detail["basis"] == "rule" and event.detail["path"] == "astronaut/byte_copy.jpg"
    assert reclaimable_storage().reclaimable_bytes == (
        redundant_bytes(corpus["root"])
        - (corpus["root"] / "astronaut/byte_copy.jpg").stat().st_size
    )


def test_regroup_rebuilds_the_graph_on_record_and_keeps_peoples_decisions(corpus, role_users):
    original = copy_at("coffee/original.jpg").rendition
    resized = copy_at("coffee/resize_50.jpg").rendition
    ruled = Match.objects.get(
        rendition_a=min(original.pk, resized.pk), rendition_b=max(original.pk, resized.pk)
    )
    match_decide(match=ruled, user=role_users["compliance"], verdict="same",
                 reason="the web desk's half-size copy")  # fmt: skip
    chosen = copy_at("coffee/upscale_150.jpg")
    asset_master_set(
        asset=chosen.rendition.asset, copy=chosen, user=role_users["compliance"], reason="cited"
    )
    # An inventory from before lineage: no parents, no proposals.
    Rendition.objects.update(parent=None, parent_match=None, original_area=None)
    Asset.objects.update(proposed_master_copy=None)
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    out = io.StringIO()
    call_command("regroup", stdout=out)

    assert "0 renditions moved" in out.getvalue()
    assert re.search(r"[1-9]\d* parents changed", out.getvalue())
    assert copy_at("coffee/resize_50.jpg").rendition.parent == original
    changed = AuditEvent.objects.filter(seq__gt=before, event_type="lineage_changed")
    placed = {move["rendition"]: move["to"] for e in changed for move in e.detail["parents"]}
    assert placed[resized.pk] == original.pk
    proposals = AuditEvent.objects.filter(seq__gt=before, event_type="master_set")
    assert {e.detail["path"] for e in proposals} == {
        "coffee/original.jpg",
        "astronaut/original.jpg",
    }
    # People's decisions stand: the ruling and the chosen master.
    ruled.refresh_from_db()
    assert ruled.status == Match.Status.CONFIRMED
    asset = Asset.objects.get(pk=chosen.rendition.asset_id)
    assert asset.master_copy == chosen and asset.proposed_master_copy == copy_at(
        "coffee/original.jpg"
    )


# --- the rules on their own --------------------------------------------------------------------


def test_the_master_rule_never_puts_a_derivative_before_its_present_source():
    def candidate(**kw) -> Candidate:
        base = dict(
            authoritative=False, area=100, derivative=False, capture_ts=None, mtime_ns=0,
            metadata_fields=0, retired=False, source_name="s", path="p",
        )  # fmt: skip
        return Candidate(**{**base, **kw})

    bordered = candidate(area=144, derivative=True, authoritative=True, path="a", resolution=100)
    original = candidate(area=100, path="b")
    ranked = sorted([bordered, original], key=lambda c: master_key(c, DEFAULT_RULE))
    assert ranked[0] is original
    # Without a present source, the largest original resolution wins, not the largest file.
    upscale = candidate(area=225, path="c", resolution=100, mtime_ns=5)
    half = candidate(area=100, path="d", resolution=100, mtime_ns=1)
    assert sorted([upscale, half], key=lambda c: master_key(c, DEFAULT_RULE))[0] is half


def test_parents_never_form_a_cycle_even_when_directions_disagree():
    facts = {1: Facts(area=100), 2: Facts(area=100), 3: Facts(area=100)}
    links = [
        Link(10, 1, 2, "a", False, True, 0.99),
        Link(11, 2, 3, "a", False, True, 0.99),
        Link(12, 1, 3, "b", False, True, 0.99),  # says 3 made 1: a cycle if followed
    ]
    parents = choose_parents(facts, links)
    roots = [r for r, p in parents.items() if p is None]
    assert len(roots) == 1
    for start in parents:
        seen, node = set(), start
        while parents[node] is not None:
            assert node not in seen
            seen.add(node)
            node = parents[node].rendition


def test_a_border_holds_no_more_resolution_than_its_parent():
    parents = choose_parents(
        {1: Facts(area=10_000), 2: Facts(area=14_400)},
        [Link(5, 1, 2, "a", False, True, 0.99, share_a=1.0, share_b=0.694)],
    )
    areas = original_areas({1: 10_000, 2: 14_400}, parents, {5: Link(5, 1, 2, "a", False, True,
                           0.99, share_a=1.0, share_b=0.694)})  # fmt: skip
    assert parents[2].rendition == 1
    assert areas == {1: 10_000, 2: 9_994}


def _bytes_shown(html: str, label: str) -> str:
    match = re.search(r'<div class="n">([^<]+)</div><div class="l">' + label, html)
    assert match, f"no {label} card"
    return match.group(1).replace("\xa0", " ").strip()


def _size_label(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")


def test_a_blur_or_brightening_of_a_soft_photograph_never_becomes_its_master(archives: Path):
    # A motion-blurred clock and a soft portrait: blurring the one changes only its sharp
    # region and brightening the other clips one bright region. Both once read as a stamp
    # added to the original, which made the edited copy its parent and the master.
    root = archives / "soft"
    edits = tuple(EDIT_BY_NAME[n] for n in ("blur", "brightness", "upscale_150", "watermark"))
    build_photo_corpus(root, photos=("clock_motion", "grace_hopper"), edits=edits)
    scan_folder(root, name="soft", department="LCSD")
    for photo in ("clock_motion", "grace_hopper"):
        original = copy_at(f"{photo}/original.jpg").rendition
        assert original.parent_id is None
        assert original.asset.proposed_master_copy.path == f"{photo}/original.jpg"
        for name in ("blur.jpg", "brightness.jpg"):
            assert copy_at(f"{photo}/{name}").rendition.parent_id == original.pk
