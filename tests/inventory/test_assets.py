"""Assets over the scanned sample archive: masters, lineage, overrides, merge, split, versions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image, ImageEnhance

from governance.models import AuditEvent
from inventory.master_rule import validate_rule
from inventory.models import Asset, CatalogueNumber, Copy, Match, Rendition, Source, Supersession
from inventory.sample_archive import ARCHIVE_LAYOUT, PHOTO_NAMES
from inventory.selectors.assets import asset_lineage, asset_master
from inventory.selectors.findings import findings_document
from inventory.selectors.groups import duplicate_groups, retired_rendition_ids
from inventory.services.assets import (
    asset_catalogue_update,
    asset_master_set,
    asset_split,
    assets_merge,
    rendition_supersede,
    supersession_withdraw,
)
from inventory.services.licences import licence_attach, licence_create
from inventory.services.scan import scan_run
from tests.inventory.scan_helpers import source_named

pytestmark = pytest.mark.django_db

NEAR_DUPLICATE_RELATIONS = {"resized", "format_converted", "reencoded", "cropped", "grayscale"}


def copy_at(source: str, path: str) -> Copy:
    return Copy.objects.select_related("rendition", "source").get(source__name=source, path=path)


def asset_of(source: str, path: str) -> Asset:
    return Asset.objects.get(pk=copy_at(source, path).rendition.asset_id)


def master_of(asset: Asset) -> str:
    copy = asset_master(asset=asset).copy
    return f"{copy.source.name}/{copy.path}"


def group_master(asset: Asset) -> str:
    (group,) = duplicate_groups(asset_ids=[asset.pk])
    return f"{group.master.source.name}/{group.master.path}"


def rescan(name: str) -> None:
    scan_run(source=source_named(name), workers=1)


def touch(path: Path) -> None:
    """Change a file's modification time so the next scan reads it again."""
    stamp = path.stat().st_mtime + 3600
    os.utime(path, (stamp, stamp))


def events(event_type: str, asset: Asset) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type=event_type, object_type="asset", object_id=str(asset.pk)
        ).order_by("seq")
    )


# --- assets, masters and lineage after a scan ---------------------------------------------


def test_each_photograph_is_one_asset_whose_master_is_the_film_archive_still(scanned_archive):
    assets_by_photo = {}
    for entry in ARCHIVE_LAYOUT:
        asset = asset_of(entry.source, entry.path)
        assets_by_photo.setdefault(entry.photo, set()).add(asset.pk)
    assert all(len(ids) == 1 for ids in assets_by_photo.values()), assets_by_photo
    assert len({next(iter(ids)) for ids in assets_by_photo.values()}) == len(PHOTO_NAMES)
    for photo in PHOTO_NAMES:
        asset = asset_of("film_archive", f"stills/{photo}.jpg")
        assert master_of(asset) == f"film_archive/stills/{photo}.jpg"
        assert asset_master(asset=asset).basis == "rule"


def test_lineage_derives_each_edited_copy_from_its_original_with_the_relation(scanned_archive):
    for entry in ARCHIVE_LAYOUT:
        if entry.relation not in NEAR_DUPLICATE_RELATIONS:
            continue
        derived = copy_at(entry.source, entry.path).rendition
        original = copy_at("film_archive", f"stills/{entry.photo}.jpg").rendition
        asset = Asset.objects.get(pk=original.asset_id)
        lineage = asset_lineage(asset=asset, master_rendition_id=original.pk)
        edges = {(e.start, e.end, e.label) for e in lineage.derived_from}
        assert (derived.pk, original.pk, entry.relation) in edges, (entry.path, edges)
        # Nothing is derived from nothing: the master is never the derived end of an edge.
        assert all(e.start != original.pk for e in lineage.derived_from)
        nodes = {n.rendition.pk: n for n in lineage.nodes}
        assert nodes[original.pk].master and not nodes[original.pk].derivative
        assert nodes[derived.pk].derivative


def test_a_thumbnail_of_a_resized_copy_has_one_parent_larger_than_itself(scanned_archive):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    lineage = asset_lineage(asset=coffee)
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition_id
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition_id
    original = copy_at("film_archive", "stills/coffee.jpg").rendition_id
    parents = {e.start: (e.end, e.label) for e in lineage.derived_from}
    # One parent each, never two: the half-size copy from the original, the thumbnail from
    # one of the larger two.
    assert len(lineage.derived_from) == 2
    assert parents[half] == (original, "resized")
    assert parents[thumb] in {(original, "resized"), (half, "resized")}
    assert original not in parents


def test_the_master_rule_follows_the_configured_criteria(scanned_archive, settings):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    newsroom = source_named("newsroom")
    newsroom.authoritative = True
    newsroom.save()
    # Authoritative source first (the default): the newsroom's byte copy leads.
    assert master_of(astronaut).startswith("newsroom/")
    # Without that criterion the oldest file wins again: the film archive's still.
    settings.PROVENA_MASTER_RULE = validate_rule(["largest_area", "not_derivative", "oldest_file"])
    assert master_of(astronaut) == "film_archive/stills/astronaut.jpg"


def test_a_master_rule_names_known_criteria_once_each():
    assert validate_rule([" largest_area", "oldest_file ", ""]) == ("largest_area", "oldest_file")
    with pytest.raises(ValueError, match="unknown criteria biggest; choose from authoritative"):
        validate_rule(["biggest", "oldest_file"])
    with pytest.raises(ValueError, match="named twice: oldest_file"):
        validate_rule(["oldest_file", "oldest_file"])
    with pytest.raises(ValueError, match="at least one criterion"):
        validate_rule([])


# --- a person's choice of master ------------------------------------------------------------


def test_a_chosen_master_stands_through_rescans_touched_files_and_new_copies(
    scanned_archive, sample_archive, role_users
):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    chosen = copy_at("film_archive", "backup/2019-06/astronaut.jpg")
    asset_master_set(
        asset=astronaut,
        copy=chosen,
        user=role_users["compliance"],
        reason="the backup is the uncompressed scan the archive cites",
    )
    assert group_master(astronaut) == "film_archive/backup/2019-06/astronaut.jpg"

    touch(sample_archive["film_archive"] / "backup/2019-06/astronaut.jpg")
    touch(sample_archive["film_archive"] / "stills/astronaut.jpg")
    extra = sample_archive["film_archive"] / "negatives" / "astronaut_1965.jpg"
    extra.parent.mkdir()
    extra.write_bytes((sample_archive["film_archive"] / "stills/astronaut.jpg").read_bytes())
    os.utime(extra, (0, 0))  # older than anything: the rule alone would now pick it
    rescan("film_archive")
    rescan("web_team")

    astronaut.refresh_from_db()
    assert Copy.objects.filter(path="negatives/astronaut_1965.jpg", state="present").exists()
    assert group_master(astronaut) == "film_archive/backup/2019-06/astronaut.jpg"
    master = asset_master(asset=astronaut)
    assert master.basis == "chosen" and not master.needs_review
    assert astronaut.master_set_by == role_users["compliance"]
    (event,) = [e for e in events("master_set", astronaut) if e.detail["basis"] == "chosen"]
    assert event.agent == "compliance" and event.detail["reason"].startswith("the backup")
    # The rule's own proposal moved to the older file, and that is on record too.
    (proposal,) = [e for e in events("master_set", astronaut) if e.detail["basis"] == "rule"]
    assert proposal.detail["path"] == "negatives/astronaut_1965.jpg"
    assert event.detail["previous"]["path"] == "stills/astronaut.jpg"
    # The findings export names the chosen master too.
    document = findings_document(sources=Source.objects.all())
    (group,) = [g for g in document["groups"] if g["asset"] == astronaut.pk]
    assert group["master"] == {"source": "film_archive", "path": "backup/2019-06/astronaut.jpg"}
    assert group["master_basis"] == "chosen"
    assert group["members"][0]["relation"] == "master"


def test_a_missing_chosen_master_falls_back_to_the_rule_and_flags_the_asset(
    scanned_archive, sample_archive, role_users
):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    chosen = copy_at("newsroom", "published/2015/collins_portrait.jpg")
    administrator = role_users["administrator"]
    asset_master_set(asset=astronaut, copy=chosen, user=administrator, reason="as published")
    (sample_archive["newsroom"] / "published/2015/collins_portrait.jpg").unlink()
    rescan("newsroom")

    astronaut.refresh_from_db()
    assert copy_at("newsroom", "published/2015/collins_portrait.jpg").state == "missing"
    assert group_master(astronaut) == "film_archive/stills/astronaut.jpg"
    assert astronaut.master_needs_review
    assert "published/2015/collins_portrait.jpg is missing" in astronaut.master_review_reason
    # The person's choice is kept, not erased: it shows what needs reviewing.
    assert astronaut.master_copy_id == chosen.pk
    master = asset_master(asset=astronaut)
    assert master.basis == "fallback" and master.needs_review
    warning = events("master_set", astronaut)[-1]
    assert warning.outcome == "warning" and warning.agent_user is None
    assert warning.detail["chosen_copy"] == chosen.pk

    # Choosing again clears the flag.
    asset_master_set(
        asset=astronaut,
        copy=copy_at("film_archive", "stills/astronaut.jpg"),
        user=administrator,
        reason="the published file is gone; the still is the master",
    )
    astronaut.refresh_from_db()
    assert not astronaut.master_needs_review
    assert asset_master(asset=astronaut).basis == "chosen"


def test_a_chosen_master_whose_rendition_is_split_off_is_flagged(scanned_archive, role_users):
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg")
    admin = role_users["administrator"]
    asset_master_set(asset=coffee, copy=half, user=admin, reason="the web edit is what we sell")
    asset_split(asset=coffee, renditions=[half.rendition_id], user=admin, reason="another sitting")
    coffee.refresh_from_db()
    assert coffee.master_needs_review
    assert "no longer belongs to this photograph" in coffee.master_review_reason
    assert master_of(coffee) == "film_archive/stills/coffee.jpg"


def test_choosing_a_master_needs_the_role_the_department_a_reason_and_a_copy_of_the_asset(
    scanned_archive, role_users
):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    brick = asset_of("film_archive", "stills/brick.jpg")
    copy = copy_at("newsroom", "published/2015/collins_portrait.jpg")
    with pytest.raises(PermissionDenied, match="your role may not"):
        asset_master_set(asset=astronaut, copy=copy, user=role_users["auditor"], reason="x")
    with pytest.raises(PermissionDenied, match="held by LCSD"):
        asset_master_set(
            asset=astronaut, copy=copy, user=role_users["other_department"], reason="ours"
        )
    with pytest.raises(ValidationError, match="say why"):
        asset_master_set(asset=astronaut, copy=copy, user=role_users["compliance"], reason=" ")
    with pytest.raises(ValidationError, match="is not a copy of asset"):
        asset_master_set(asset=brick, copy=copy, user=role_users["compliance"], reason="x")
    astronaut.refresh_from_db()
    assert not astronaut.master_chosen
    assert not AuditEvent.objects.filter(event_type="master_set").exists()


# --- merge and split ------------------------------------------------------------------------


def test_merged_assets_stay_merged_after_a_rescan_and_keep_their_records(
    scanned_archive, sample_archive, role_users
):
    compliance = role_users["compliance"]
    brick, gravel = (
        asset_of("film_archive", "stills/brick.jpg"),
        asset_of("film_archive", "stills/gravel.jpg"),
    )
    asset_catalogue_update(
        asset=gravel, user=compliance, fields={"title": "Gravel"}, numbers=[("LCSD-PH", "0042")]
    )
    licence = licence_create(
        user=compliance, licensor="Agency", reference="AG-1", start="2024-01-01"
    )
    licence_attach(licence=licence, asset=brick, user=compliance)

    merged = assets_merge(asset=gravel, other=brick, user=compliance, reason="one wall, two scans")

    assert merged.pk == min(brick.pk, gravel.pk)
    assert asset_of("film_archive", "stills/gravel.jpg") == merged
    assert asset_of("film_archive", "stills/brick.jpg") == merged
    assert not Asset.objects.filter(pk=max(brick.pk, gravel.pk)).exists()
    merged.refresh_from_db()
    assert merged.title == "Gravel"
    assert list(CatalogueNumber.objects.filter(asset=merged).values_list("number", flat=True)) == [
        "0042"
    ]
    assert list(merged.licences.all()) == [licence]
    match = Match.objects.get(evidence__merged_by_hand=True)
    assert match.status == Match.Status.CONFIRMED
    assert events("merged", merged)[-1].detail["reason"] == "one wall, two scans"
    assert AuditEvent.objects.filter(event_type="reviewed", object_id=str(match.pk)).exists()
    # The hand-made match is recorded as found by the person who merged.
    (matched,) = AuditEvent.objects.filter(event_type="matched", object_id=str(match.pk))
    assert matched.agent == "compliance" and matched.detail["relation"] == "edited"

    touch(sample_archive["film_archive"] / "stills/brick.jpg")
    rescan("film_archive")
    assert asset_of("film_archive", "stills/brick.jpg") == asset_of(
        "film_archive", "stills/gravel.jpg"
    )
    assert len(list(duplicate_groups(asset_ids=[merged.pk]))) == 1


def test_a_split_stays_split_after_rescans_even_when_a_new_copy_matches_both_sides(
    scanned_archive, sample_archive, role_users
):
    compliance = role_users["compliance"]
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    thumb = copy_at("web_team", "thumbs/astronaut_160.jpg")
    (kept,) = [
        a
        for a in asset_split(
            asset=astronaut,
            renditions=[thumb.rendition_id],
            user=compliance,
            reason="another frame",
        )
        if a.pk == astronaut.pk
    ]
    thumb_asset = asset_of("web_team", "thumbs/astronaut_160.jpg")
    assert thumb_asset != kept
    assert (
        Match.objects.filter(status=Match.Status.REJECTED).count()
        == len(events("split", astronaut)[-1].detail["rejected_matches"])
        >= 1
    )
    assert events("split", thumb_asset)[-1].detail["split_from"] == astronaut.pk

    # A new, middle-sized copy of the still resembles both sides of the cut.
    with Image.open(sample_archive["film_archive"] / "stills/astronaut.jpg") as image:
        image.resize((320, 320)).save(sample_archive["web_team"] / "images/astronaut_320.jpg")
    touch(sample_archive["web_team"] / "thumbs/astronaut_160.jpg")
    rescan("web_team")
    rescan("film_archive")

    assert asset_of("web_team", "thumbs/astronaut_160.jpg") != asset_of(
        "film_archive", "stills/astronaut.jpg"
    )
    middle = copy_at("web_team", "images/astronaut_320.jpg").rendition
    # It joins the side it resembles most (the still) and stops there (issue 14: a new
    # rendition is placed in one group and never merges two), so the thumbnail, which a
    # person ruled another photograph, is not pulled back.
    assert middle.asset_id == astronaut.pk
    assert asset_of("web_team", "thumbs/astronaut_160.jpg").pk != astronaut.pk
    pair = sorted([middle.pk, thumb.rendition_id])
    joined = Match.objects.filter(rendition_a_id=pair[0], rendition_b_id=pair[1])
    assert not joined.exclude(status=Match.Status.PROPOSED).exists()


def test_merge_and_split_need_the_role_and_the_department(scanned_archive, role_users):
    astronaut = asset_of("film_archive", "stills/astronaut.jpg")
    brick = asset_of("film_archive", "stills/brick.jpg")
    thumb = copy_at("web_team", "thumbs/astronaut_160.jpg").rendition_id
    for user, message in ((role_users["auditor"], "your role"), (role_users["legal"], "your role"),
                          (role_users["other_department"], "held by LCSD")):  # fmt: skip
        with pytest.raises(PermissionDenied, match=message):
            assets_merge(asset=astronaut, other=brick, user=user, reason="x")
        with pytest.raises(PermissionDenied, match=message):
            asset_split(asset=astronaut, renditions=[thumb], user=user, reason="x")
    with pytest.raises(ValidationError, match="leave at least one"):
        asset_split(
            asset=brick,
            renditions=brick.renditions.values_list("pk", flat=True),
            user=role_users["compliance"],
            reason="x",
        )
    assert not Match.objects.exclude(status=Match.Status.PROPOSED).exists()


# --- versions ---------------------------------------------------------------------------------


def test_a_newer_version_retires_the_older_one_and_takes_the_master(
    scanned_archive, sample_archive, role_users
):
    still = sample_archive["film_archive"] / "stills/coffee.jpg"
    corrected = sample_archive["film_archive"] / "stills/coffee_corrected.jpg"
    with Image.open(still) as image:
        ImageEnhance.Brightness(image).enhance(1.08).save(corrected, quality=95)
    rescan("film_archive")
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    newer = copy_at("film_archive", "stills/coffee_corrected.jpg").rendition
    older = copy_at("film_archive", "stills/coffee.jpg").rendition
    assert newer.asset_id == coffee.pk
    assert master_of(coffee) == "film_archive/stills/coffee.jpg"

    rendition_supersede(
        asset=coffee, newer=newer, older=older, user=role_users["compliance"],
        reason="colour-corrected rescan of the negative",
    )  # fmt: skip

    assert master_of(coffee) == "film_archive/stills/coffee_corrected.jpg"
    (group,) = duplicate_groups(asset_ids=[coffee.pk])
    retired = {m.copy.path for m in group.members if m.retired}
    # Every copy of the older version is retired: the still and the newsroom's byte copy.
    assert retired == {"stills/coffee.jpg", "features/cafe_cup.jpg"}
    assert Rendition.objects.filter(pk=older.pk).exists()  # retired, not deleted
    assert copy_at("film_archive", "stills/coffee.jpg").state == "present"
    lineage = asset_lineage(asset=coffee)
    assert [(e.start, e.end) for e in lineage.supersedes] == [(newer.pk, older.pk)]
    assert {n.rendition.pk for n in lineage.nodes if n.retired} == {older.pk}
    assert events("superseded", coffee)[-1].detail["older"] == older.pk
    with pytest.raises(ValidationError, match="loop"):
        rendition_supersede(
            asset=coffee, newer=older, older=newer, user=role_users["compliance"], reason="x"
        )


def test_a_withdrawn_supersession_keeps_its_record_and_the_older_version_is_no_longer_retired(
    scanned_archive, role_users
):
    compliance = role_users["compliance"]
    coffee = asset_of("film_archive", "stills/coffee.jpg")
    half = copy_at("newsroom", "web/cafe_cup_half.jpg").rendition
    thumb = copy_at("web_team", "thumbs/coffee_160.jpg").rendition
    stated = rendition_supersede(
        asset=coffee, newer=half, older=thumb, user=compliance, reason="re-exported for the web"
    )
    assert retired_rendition_ids([thumb.pk]) == {thumb.pk}

    with pytest.raises(ValidationError, match="say why"):
        supersession_withdraw(supersession=stated, user=compliance, reason="  ")
    for user, message in ((role_users["auditor"], "your role"),
                          (role_users["other_department"], "held by LCSD")):  # fmt: skip
        with pytest.raises(PermissionDenied, match=message):
            supersession_withdraw(supersession=stated, user=user, reason="x")
    assert retired_rendition_ids([thumb.pk]) == {thumb.pk}

    supersession_withdraw(
        supersession=stated, user=compliance, reason="the web team kept the old export"
    )

    assert retired_rendition_ids([thumb.pk]) == set()
    (group,) = duplicate_groups(asset_ids=[coffee.pk])
    assert not any(m.retired for m in group.members)
    assert asset_lineage(asset=coffee).supersedes == []
    document = findings_document(sources=Source.objects.all())
    (exported,) = [g for g in document["groups"] if g["asset"] == coffee.pk]
    assert not any(m["retired"] for m in exported["members"])
    # History is kept: the statement stays, marked with who withdrew it, when and why.
    record = Supersession.objects.get(pk=stated.pk)
    assert (record.reason, record.created_by) == ("re-exported for the web", compliance)
    assert record.withdrawn_by == compliance and record.withdrawn_at is not None
    assert record.withdrawn_reason == "the web team kept the old export"
    event = events("supersession_withdrawn", coffee)[-1]
    assert event.agent == "compliance"
    assert event.detail == {
        "supersession": stated.pk,
        "newer": half.pk,
        "older": thumb.pk,
        "reason": "the web team kept the old export",
        "stated_by": "compliance",
        "stated_reason": "re-exported for the web",
    }
    with pytest.raises(ValidationError, match="already withdrawn by compliance"):
        supersession_withdraw(supersession=record, user=compliance, reason="again")

    # The pair may be stated again; the withdrawn statement stays beside it.
    rendition_supersede(asset=coffee, newer=half, older=thumb, user=compliance, reason="after all")
    assert retired_rendition_ids([thumb.pk]) == {thumb.pk}
    assert Supersession.objects.filter(newer=half, older=thumb).count() == 2
