"""Audit log tail truncation: signed checkpoints outside the database catch it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.audit import EventSpec, audit_record_many
from governance.audit_checkpoints import checkpoint_dir
from governance.models import AuditChainHead, AuditEvent
from inventory.sample_archive import PHOTOS_DIR
from reports.signing import signing_certificate_create
from tests.governance.test_audit_log import tampering
from tests.inventory.scan_helpers import scan_folder
from tests.reports.helpers import build

pytestmark = pytest.mark.django_db
PASSWORD = "checkpoint test password"


def record(first: int, last: int) -> None:
    audit_record_many(
        [
            EventSpec(
                event_type=AuditEvent.EventType.FIXITY_COMPUTED,
                object_type="copy",
                object_id=n,
                detail={"path": f"stills/{n:02d}.jpg"},
            )
            for n in range(first, last + 1)
        ]
    )


@pytest.fixture(scope="module")
def certificate_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("certs")
    files = {}
    for name in ("ours", "theirs"):
        files[name] = folder / f"{name}.p12"
        files[name].write_bytes(
            signing_certificate_create(
                common_name=f"Checkpoint signer ({name})",
                organisation="Provena test organisation",
                password=PASSWORD,
                key_size=2048,
            )
        )
    return files


@pytest.fixture
def signing(settings, certificate_files) -> Path:
    settings.PROVENA_SIGNING_CERT = str(certificate_files["ours"])
    settings.PROVENA_SIGNING_PASSWORD = PASSWORD
    return certificate_files["ours"]


def truncate_to(seq: int) -> None:
    """Delete the events after seq and rewrite the chain-head row to match, as an attacker."""
    last = AuditEvent.objects.get(seq=seq)
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq > %s", [seq])
        cursor.execute(
            "UPDATE governance_auditchainhead SET seq = %s, count = %s, hash = %s",
            [seq, seq, last.hash],
        )


def verify(capsys) -> str:
    call_command("verify_audit_log")
    return capsys.readouterr().out


def verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log")
    return str(failure.value)


def test_without_checkpoints_a_truncated_tail_goes_unnoticed_by_the_chain_alone(capsys) -> None:
    record(1, 10)
    truncate_to(7)

    out = verify(capsys)

    assert "audit log verified: 7 events" in out
    assert "no checkpoint in" in out


def test_the_command_writes_a_signed_checkpoint_outside_the_database(signing, capsys) -> None:
    record(1, 10)

    call_command("audit_checkpoint")

    assert "checkpoint written (signed): event 10, 10 events" in capsys.readouterr().out
    (path,) = checkpoint_dir().glob("checkpoint-*.json")
    written = json.loads(path.read_text())
    assert (written["seq"], written["count"]) == (10, 10)
    assert written["hash"] == AuditChainHead.objects.get().hash
    assert "BEGIN CERTIFICATE" in written["signature"]["certificate"]


def test_truncation_below_a_signed_checkpoint_fails_verification(signing, capsys) -> None:
    record(1, 10)
    call_command("audit_checkpoint")
    truncate_to(7)

    message = verify_fails()

    assert "the log was truncated: events 8 to 10 are missing" in message
    assert "records 10 events up to event 10, but the log now ends at event 7" in message


def test_a_rebuilt_tail_with_a_recomputed_chain_fails_verification(signing) -> None:
    record(1, 10)
    call_command("audit_checkpoint")
    truncate_to(7)
    record(8, 12)  # new, valid-looking events where the deleted ones were

    message = verify_fails()

    assert "event 10 is not the event the checkpoint" in message
    assert "the log was rewritten from there on" in message


def test_verification_says_how_many_events_follow_the_latest_checkpoint(signing, capsys):
    record(1, 10)
    call_command("audit_checkpoint")
    record(11, 14)

    out = verify(capsys)

    assert "matches the latest checkpoint (signed" in out
    assert "event 10; 4 events follow it" in out


def test_an_altered_checkpoint_fails_verification(signing) -> None:
    record(1, 10)
    call_command("audit_checkpoint")
    (path,) = checkpoint_dir().glob("checkpoint-*.json")
    written = json.loads(path.read_text())
    written["seq"], written["count"] = 7, 7
    path.write_text(json.dumps(written))

    assert "its signature does not verify" in verify_fails()


def test_a_checkpoint_signed_by_another_certificate_is_not_trusted(
    signing, settings, certificate_files
) -> None:
    record(1, 10)
    settings.PROVENA_SIGNING_CERT = str(certificate_files["theirs"])
    call_command("audit_checkpoint")
    settings.PROVENA_SIGNING_CERT = str(signing)

    assert "that is not PROVENA_SIGNING_CERT" in verify_fails()


def test_without_a_certificate_an_unsigned_checkpoint_still_catches_truncation(capsys):
    record(1, 10)
    call_command("audit_checkpoint")
    assert "checkpoint written (unsigned)" in capsys.readouterr().out
    truncate_to(7)

    assert "the log was truncated: events 8 to 10 are missing" in verify_fails()


def test_an_unsigned_checkpoint_is_not_trusted_once_a_certificate_is_configured(
    settings, certificate_files, capsys
) -> None:
    record(1, 10)
    call_command("audit_checkpoint")  # no certificate yet: unsigned, anyone could write it
    settings.PROVENA_SIGNING_CERT = str(certificate_files["ours"])
    settings.PROVENA_SIGNING_PASSWORD = PASSWORD

    out = verify(capsys)

    assert "is unsigned and was not trusted" in out
    assert "matches the latest checkpoint" not in out


def test_checkpoints_go_to_the_configured_folder(settings, tmp_path, capsys) -> None:
    settings.PROVENA_AUDIT_CHECKPOINT_DIR = str(tmp_path / "elsewhere")
    record(1, 3)

    call_command("audit_checkpoint")

    assert len(list((tmp_path / "elsewhere").glob("checkpoint-*.json"))) == 1


def test_a_broken_chain_gets_no_checkpoint(signing) -> None:
    record(1, 5)
    with tampering() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = 3")

    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit_checkpoint")
    assert not list(checkpoint_dir().glob("checkpoint-*.json"))


def test_building_a_report_writes_a_checkpoint_of_the_head_it_leaves(
    tmp_path, archives, capsys
) -> None:
    root = archives / "library"
    root.mkdir()
    shutil.copyfile(PHOTOS_DIR / "coffee.jpg", root / "coffee.jpg")
    scan_folder(root, name="library")

    build(tmp_path, "audit")

    head = AuditChainHead.objects.get()
    (path,) = checkpoint_dir().glob("checkpoint-*.json")
    assert json.loads(path.read_text())["seq"] == head.seq  # the cited_in_report event included
    assert "0 events follow it" in verify(capsys)
