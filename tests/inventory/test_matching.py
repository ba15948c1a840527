"""Near-duplicate matching on real photographs: groups, relations, tiers, review decisions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from governance.audit import audit_verify
from governance.models import AuditEvent
from governance.version import SOFTWARE
from inventory.models import Copy, Match, Rendition
from inventory.pairs.verification import is_weak
from inventory.selectors.groups import duplicate_groups, regroup_edges
from inventory.services.review import match_decide
from inventory.services.scan import scan_run
from tests.inventory.scan_helpers import scan_folder, source_named

pytestmark = pytest.mark.django_db


def _group_of(path: str):
    return next(
        (g for g in duplicate_groups() if any(m.copy.path == path for m in g.members)), None
    )


def _member(path: str):
    group = _group_of(path)
    return next(m for m in group.members if m.copy.path == path) if group else None


@pytest.fixture
def scanned(sample_archive, role_users):
    for name in ("film_archive", "newsroom", "web_team"):
        scan_folder(sample_archive[name], name=name, department="LCSD")
    return sample_archive


@pytest.mark.parametrize(
    ("path", "master", "relation"),
    [
        ("web/cafe_cup_half.jpg", "stills/coffee.jpg", "resized"),
        ("thumbs/astronaut_160.jpg", "stills/astronaut.jpg", "resized"),
        ("converted/chelsea.png", "stills/chelsea.jpg", "format_converted"),
        ("web/camera_q60.jpg", "stills/camera.jpg", "reencoded"),
        ("mono/dscovr_launch_bw.jpg", "stills/rocket.jpg", "grayscale"),
        ("crops/coins_detail.jpg", "stills/coins.jpg", "cropped"),
    ],
)
def test_transformed_copies_join_their_master_with_the_right_relation(
    scanned, path, master, relation
):
    member = _member(path)
    assert member is not None, f"{path} is in no group"
    group = _group_of(path)
    assert group.master.path == master
    assert member.relation == relation
    assert member.tier == "probable"


def test_crops_are_never_counted_as_reclaimable(scanned):
    group = _group_of("crops/coins_detail.jpg")
    crop = next(m for m in group.members if m.relation == "cropped")
    assert group.reclaimable_bytes == sum(
        m.copy.size for m in group.members[1:] if m.tier == "certain"
    )
    assert crop.copy.size > 0 and group.reclaimable_bytes == 0


def test_different_photographs_and_textures_stay_apart(scanned):
    for path in ("stills/brick.jpg", "stills/gravel.jpg", "stills/grass.jpg", "stills/retina.jpg"):
        assert _group_of(path) is None, path
    masters = Copy.objects.filter(source__name="film_archive", path__startswith="stills/")
    # Eleven photographs are eleven assets, whatever their copies.
    assert len({c.rendition.asset_id for c in masters}) == masters.count()


def test_two_frames_of_one_scene_are_never_reported_as_copies(archives):
    skimage_data = pytest.importorskip("skimage.data")
    left, right, _ = skimage_data.stereo_motorcycle()
    root = archives / "stereo"
    root.mkdir()
    Image.fromarray(left).save(root / "left.jpg", quality=92)
    Image.fromarray(right).save(root / "right.jpg", quality=92)
    scan_folder(root, name="stereo")
    assert _group_of("left.jpg") is None
    assert not Match.objects.exclude(tier=Match.Tier.POSSIBLE).exists()


def test_only_new_renditions_are_matched_on_a_later_scan(scanned, archives):
    before = set(Match.objects.values_list("pk", flat=True))
    assert Rendition.objects.filter(matched_at__isnull=True, fp_keys__isnull=False).count() == 0
    extra = archives / "extra"
    extra.mkdir()
    with Image.open(scanned["film_archive"] / "stills" / "chelsea.jpg") as im:
        im.resize((im.width * 3 // 4, im.height * 3 // 4)).save(extra / "cat.jpg", quality=85)
    scan_folder(extra, name="extra")
    after = set(Match.objects.values_list("pk", flat=True))
    assert before < after
    new = Match.objects.filter(pk__in=after - before)
    new_rendition = Copy.objects.get(path="cat.jpg").rendition_id
    assert all(new_rendition in (m.rendition_a_id, m.rendition_b_id) for m in new)
    assert _group_of("cat.jpg").master.path == "stills/chelsea.jpg"


def test_every_match_found_is_recorded_as_matched_by_the_software(scanned, archives):
    matches = {str(m.pk): m for m in Match.objects.all()}
    events = AuditEvent.objects.filter(event_type="matched")
    assert sorted(e.object_id for e in events) == sorted(matches)  # one event per match
    resized = Match.objects.filter(relation="resized").first()
    event = events.get(object_id=str(resized.pk))
    assert (event.object_type, event.agent, event.agent_user) == ("match", SOFTWARE, None)
    assert event.detail == {
        "tier": resized.tier,
        "relation": "resized",
        "score": f"{resized.score:.4f}",
        "distance": resized.distance,
        "renditions": [resized.rendition_a_id, resized.rendition_b_id],
        "original": resized.original,
    }
    assert event.source_id == Copy.objects.filter(rendition=resized.rendition_a).first().source_id
    # A later scan records the matches it adds, and only those.
    extra = archives / "extra"
    extra.mkdir()
    with Image.open(scanned["film_archive"] / "stills" / "coins.jpg") as im:
        im.resize((im.width // 2, im.height // 2)).save(extra / "coins_half.jpg", quality=85)
    scan_folder(extra, name="extra")
    added = set(Match.objects.values_list("pk", flat=True)) - {int(pk) for pk in matches}
    assert added
    assert sorted(int(e.object_id) for e in events.exclude(object_id__in=list(matches))) == sorted(
        added
    )
    assert audit_verify().ok


def test_rejected_pair_splits_the_group_and_never_returns(scanned, role_users):
    member = _member("web/camera_q60.jpg")
    match = Match.objects.get(
        rendition_a_id=min(
            member.copy.rendition_id, _group_of("web/camera_q60.jpg").master.rendition_id
        ),
        rendition_b_id=max(
            member.copy.rendition_id, _group_of("web/camera_q60.jpg").master.rendition_id
        ),
    )
    match_decide(
        match=match,
        user=role_users["compliance"],
        verdict="different",
        reason="the archive holds two sittings",
    )
    assert _group_of("web/camera_q60.jpg") is None
    # Rescanning every source (also from scratch for the re-encode) does not bring it back.
    Copy.objects.filter(path="web/camera_q60.jpg").update(size=0)
    scan_run(source=source_named("newsroom"), workers=1)
    match.refresh_from_db()
    assert match.status == Match.Status.REJECTED
    assert (
        Match.objects.filter(rendition_a=match.rendition_a, rendition_b=match.rendition_b).count()
        == 1
    )
    assert _group_of("web/camera_q60.jpg") is None


def test_confirming_a_match_records_who_and_why(scanned, role_users):
    match = Match.objects.filter(relation="resized").first()
    decision = match_decide(
        match=match,
        user=role_users["compliance"],
        verdict="same",
        relation="resized",
        reason="same negative, web export",
    )
    match.refresh_from_db()
    assert match.status == Match.Status.CONFIRMED
    assert decision.decided_by == role_users["compliance"] and decision.reason
    member = next(
        m
        for g in duplicate_groups()
        for m in g.members
        if m.copy.rendition_id in (match.rendition_a_id, match.rendition_b_id)
        and m.relation == "resized"
    )
    assert member.reviewed


def test_a_decision_needs_a_reason_and_the_reviewer_role(scanned, role_users):
    match = Match.objects.first()
    with pytest.raises(ValidationError):
        match_decide(match=match, user=role_users["compliance"], verdict="same", reason=" ")
    with pytest.raises(PermissionDenied):
        match_decide(match=match, user=role_users["auditor"], verdict="same", reason="looks so")
    with pytest.raises(ValidationError):
        match_decide(
            match=match,
            user=role_users["compliance"],
            verdict="same",
            relation="similar",
            reason="x",
        )
    assert not match.decisions.exists()


def test_review_api_by_role(scanned, role_users):
    match = Match.objects.first()
    client = APIClient()
    url = f"/api/matches/{match.pk}/decide/"
    client.force_authenticate(role_users["auditor"])
    assert client.get("/api/matches/").status_code == 200
    response = client.post(url, {"verdict": "same", "reason": "x"}, format="json")
    assert response.status_code == 403
    client.force_authenticate(role_users["compliance"])
    response = client.post(url, {"verdict": "maybe", "reason": "x"}, format="json")
    assert response.status_code == 400
    response = client.post(url, {"verdict": "same"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(url, {"verdict": "same", "reason": "checked"}, format="json")
    assert response.status_code == 201
    assert response.json()["verdict"] == "same"
    client.force_authenticate(None)
    assert client.get("/api/matches/").status_code in (401, 403)


def test_review_page_shows_the_pair_and_records_a_decision(scanned, role_users, client):
    match = Match.objects.first()
    client.force_login(role_users["compliance"])
    page = client.get(f"/review/{match.pk}/")
    assert page.status_code == 200
    assert b"Is this one photograph?" in page.content and match.relation.encode() in page.content
    missing = client.post(f"/review/{match.pk}/", {"verdict": "same", "reason": ""})
    assert missing.status_code == 200 and b"say why" in missing.content
    done = client.post(f"/review/{match.pk}/", {"verdict": "different", "reason": "not ours"})
    assert done.status_code == 302
    match.refresh_from_db()
    assert match.status == Match.Status.REJECTED
    client.force_login(role_users["auditor"])
    assert client.post(f"/review/{match.pk}/", {"verdict": "same", "reason": "x"}).status_code in (
        200,
        403,
    )
    match.refresh_from_db()
    assert match.status == Match.Status.REJECTED


def test_review_list_names_both_files_their_copies_and_the_relation_in_words(
    scanned, role_users, client
):
    still = Copy.objects.get(path="stills/coffee.jpg").rendition_id
    half = Copy.objects.get(path="web/cafe_cup_half.jpg").rendition_id
    match = Match.objects.get(rendition_a_id=min(still, half), rendition_b_id=max(still, half))
    assert match.status == Match.Status.PROPOSED and match.relation == "resized"
    client.force_login(role_users["compliance"])
    html = client.get("/review/").content.decode()
    row = re.search(
        rf'<tr>((?:(?!</tr>).)*href="/review/{match.pk}/"(?:(?!</tr>).)*)</tr>', html, re.S
    )
    assert row, "the match is not listed"
    cells = [
        re.sub(r"<[^>]+>", " ", c).split()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]
    left, right = (cells[0], cells[1]) if still < half else (cells[1], cells[0])
    # The still and the newsroom's byte copy of it; the half-size export alone.
    assert " ".join(left).startswith("coffee.jpg 2 copies")
    assert " ".join(right).startswith("cafe_cup_half.jpg 1 copy")
    derived, original = ("right", "left") if still < half else ("left", "right")
    relation = " ".join(cells[2])
    assert relation == f"resized copy the {derived} is a resized copy of the {original}"
    assert ">resized<" not in row.group(1)  # the code itself is not shown
    filtered = client.get("/review/?relation=cropped").content.decode()
    assert '<option value="cropped" selected>crop</option>' in filtered
    assert "is a crop of the" in filtered
    assert "coins_detail.jpg" in filtered and "cafe_cup_half.jpg" not in filtered


def test_findings_export_lists_near_duplicates_with_tier_and_distance(scanned, tmp_path: Path):
    out = tmp_path / "findings.json"
    call_command("export_findings", "--format", "json", "--output", str(out))
    import json

    document = json.loads(out.read_text())
    members = {m["path"]: m for g in document["groups"] for m in g["members"]}
    crop = members["crops/coins_detail.jpg"]
    assert crop["relation"] == "cropped" and crop["tier"] == "probable"
    assert isinstance(crop["distance"], int) and crop["distance"] <= 10
    assert members["web/cafe_cup_half.jpg"]["relation"] == "resized"
    assert "stills/brick.jpg" not in members


def test_tiny_and_blank_images_are_not_fingerprinted_and_not_matched(archives):
    root = archives / "blank"
    root.mkdir()
    Image.new("RGB", (800, 600), "white").save(root / "blank_a.png")
    Image.new("RGB", (400, 300), "white").save(root / "blank_b.png")
    Image.fromarray(np.full((10, 10, 3), 128, dtype=np.uint8)).save(root / "icon.png")
    scan_folder(root, name="blank")
    notes = set(Rendition.objects.values_list("fingerprint_note", flat=True))
    assert notes == {"too flat to fingerprint", "too small to fingerprint"}
    assert not Match.objects.exists()


def test_one_photograph_in_many_versions_costs_a_few_verifications_per_version(archives):
    root = archives / "versions"
    root.mkdir()
    with Image.open(Path(__file__).parents[2] / "samples" / "photos" / "coffee.jpg") as im:
        picture = im.convert("RGB")
    w, h = picture.size
    versions = {
        "original.jpg": picture,
        "half.jpg": picture.resize((w // 2, h // 2)),
        "three_quarters.jpg": picture.resize((w * 3 // 4, h * 3 // 4)),
        "crop.jpg": picture.crop((w // 20, h // 20, w - w // 20, h - h // 20)),
        "mirror.jpg": picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "turned.jpg": picture.transpose(Image.Transpose.ROTATE_270),
        "gray.jpg": picture.convert("L"),
        "bright.jpg": picture.point(lambda v: min(255, int(v * 1.2))),
        "small.jpg": picture.resize((w // 3, h // 3)),
        "framed.jpg": Image.new("RGB", (w + 60, h + 60), "white"),
    }
    versions["framed.jpg"].paste(picture, (30, 30))
    for name, im in versions.items():
        im.save(root / name, quality=88)
    scan = scan_folder(root, name="versions")
    figures = scan.timings["matching"]
    assert figures["new_renditions"] == len(versions)
    # Every pair of versions is a candidate; each version is verified about once.
    assert figures["candidates"] > 2 * figures["verified"]
    assert figures["verified"] <= 2 * len(versions)
    assets = {c.rendition.asset_id for c in Copy.objects.filter(source__name="versions")}
    assert len(assets) == 1


def test_regrouping_reads_which_links_are_weak_from_the_stored_evidence(scanned):
    _, machine, _ = regroup_edges()
    stored = {(m.rendition_a_id, m.rendition_b_id): m for m in Match.objects.all()}
    assert machine
    for edge in machine:
        match = stored[(edge.a, edge.b)]
        assert edge.strong == (not is_weak(match.relation, match.evidence))
    # A match recorded before verdicts said which rule held is judged by its block figures.
    match = Match.objects.filter(tier="probable").exclude(relation="edited").first()
    evidence = dict(match.evidence)
    evidence.pop("agreement")
    evidence["blocks"] = dict(evidence["blocks"], median_ncc=0.5)
    Match.objects.filter(pk=match.pk).update(evidence=evidence)
    _, machine, _ = regroup_edges()
    assert not next(
        e for e in machine if (e.a, e.b) == (match.rendition_a_id, match.rendition_b_id)
    ).strong
