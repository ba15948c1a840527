"""The findings export's personal_data: per group and per member, the photograph's people."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from governance.privacy.models import PrivacyCase, PrivacyDecision
from governance.privacy.services.decisions import privacy_case_decide
from governance.remediation.models import RemediationTask
from inventory.models import Copy
from tests.conftest import SAMPLE_DEPARTMENTS
from tests.inventory.scan_helpers import scan_folder


@pytest.fixture
def scanned(sample_archive, role_users, settings) -> dict:
    settings.PROVENA_FACES = True
    for name, root in sample_archive.items():
        scan_folder(root, department=SAMPLE_DEPARTMENTS[name])
    return role_users


def _export(tmp_path: Path, fmt: str) -> str:
    output = tmp_path / f"findings.{fmt}"
    call_command("export_findings", "--format", fmt, "--output", str(output))
    return output.read_text()


def _group_of(document: dict, source: str, path: str) -> dict:
    return next(
        g
        for g in document["groups"]
        if any(m["source"] == source and m["path"] == path for m in g["members"])
    )


def test_every_group_says_who_it_shows_and_every_copy_of_her_is_a_holding(
    scanned, tmp_path
) -> None:
    document = json.loads(_export(tmp_path, "json"))

    assert document["schema"] == "provena.findings/1"
    assert all(
        set(g["personal_data"]) == {"identifiable_people", "holdings", "redacted"}
        for g in document["groups"]
    )
    astronaut = _group_of(document, "film_archive", "stills/astronaut.jpg")
    # Six copies, the 160 px web thumbnail among them: all holdings of one person.
    assert astronaut["personal_data"] == {"identifiable_people": 1, "holdings": 6, "redacted": 0}
    assert len(astronaut["members"]) == 6
    assert all(m["personal_data"] is True for m in astronaut["members"])
    assert any(m["path"] == "thumbs/astronaut_160.jpg" for m in astronaut["members"])
    coffee = _group_of(document, "film_archive", "stills/coffee.jpg")
    assert coffee["personal_data"] == {"identifiable_people": 0, "holdings": 0, "redacted": 0}
    assert all(m["personal_data"] is False for m in coffee["members"])
    # Fields were added, none changed: the members still carry what they did.
    assert {"source", "path", "sha256", "relation", "tier", "distance"} <= set(
        astronaut["members"][0]
    )


def test_the_csv_has_a_personal_data_column(scanned, tmp_path) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(tmp_path, "csv"))))

    by_path = {(r["source"], r["path"]): r for r in rows}
    assert by_path[("web_team", "thumbs/astronaut_160.jpg")]["personal_data"] == "True"
    assert by_path[("film_archive", "stills/coffee.jpg")]["personal_data"] == "False"
    assert list(rows[0])[-1] == "personal_data"  # added at the end: old columns keep their place


def test_copies_whose_redaction_is_verified_are_counted(scanned, tmp_path) -> None:
    master = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    case = PrivacyCase.objects.get(asset_id=master.rendition.asset_id)
    decision = privacy_case_decide(
        case=case,
        outcome=PrivacyDecision.Outcome.REDACT,
        reason="publish with the face blurred",
        decided_by=scanned["legal"],
    )
    tasks = RemediationTask.objects.filter(action=RemediationTask.Action.APPLY_REDACTION)
    assert tasks.count() == 6
    # Two done and checked against the files (verification's outcome), one only done.
    first, second, third = tasks.order_by("pk")[:3]
    RemediationTask.objects.filter(pk__in=[first.pk, second.pk]).update(
        status=RemediationTask.Status.VERIFIED
    )
    RemediationTask.objects.filter(pk=third.pk).update(status=RemediationTask.Status.DONE)
    assert decision.pk

    document = json.loads(_export(tmp_path, "json"))

    astronaut = _group_of(document, "film_archive", "stills/astronaut.jpg")
    assert astronaut["personal_data"]["redacted"] == 2
