"""The append-only, hash-chained audit log: record events, read the chain head, verify it.

Each event's hash is the SHA-256 of a canonical JSON form of all its other fields, including
its sequence number and the previous event's hash (docs/operations.md, "Audit log", gives the
exact form so an auditor can re-implement it). A one-row chain head, updated in the same
transaction as every append, holds the last seq, its hash and the count, so deleting the
last events is detectable too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from governance.chunks import chunked
from governance.models import AuditChainHead, AuditEvent, User
from governance.version import SOFTWARE

GENESIS_HASH = "0" * 64  # the prev_hash of event 1, and the head hash of an empty log
HEAD_PK = 1
_VERIFY_CHUNK = 5000
_BULK_CHUNK = 1000
# The fields hashed, by their canonical names; "hash" itself is the one field left out.
HASHED_FIELDS = (
    "agent",
    "agent_user",
    "detail",
    "event_type",
    "object_id",
    "object_type",
    "occurred_at",
    "outcome",
    "prev_hash",
    "seq",
    "source_id",
)
_EVENT_TYPES = frozenset(AuditEvent.EventType.values)
_OUTCOMES = frozenset(AuditEvent.Outcome.values)
_ROW_FIELDS = (
    "seq",
    "occurred_at",
    "event_type",
    "agent_user",
    "agent",
    "object_type",
    "object_id",
    "source_id",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)


class AuditChainBroken(RuntimeError):
    """The chain head is missing while events exist: appending would hide the damage."""


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One event to record (see audit_record for the fields)."""

    event_type: str
    object_type: str
    object_id: str | int
    outcome: str = AuditEvent.Outcome.SUCCESS
    detail: dict[str, Any] | None = None
    user: User | None = None
    source_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The chain head: how many events, the last seq and its hash (GENESIS_HASH when empty)."""

    count: int
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The outcome of walking the chain; first_bad_seq names where it breaks."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    head: AuditHead | None = field(default=None)


# --- the canonical form ----------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """Return the canonical UTC timestamp: YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """Return the canonical JSON of an event's hashed fields (sorted keys, no spaces, ASCII)."""
    return json.dumps(
        {name: fields[name] for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")


def event_hash(fields: dict[str, Any]) -> str:
    """Return the hex SHA-256 of an event's canonical form."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def _plain(value: Any, where: str) -> Any:
    """Return value as JSON that survives a database round trip unchanged, or refuse it."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        # jsonb and SQLite's JSON may rewrite a float's digits, which would change the hash.
        raise TypeError(f"audit detail {where} is a float ({value!r}); record it as a string")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit detail {where} has a non-string key {key!r}")
            out[key] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"audit detail {where} is a {type(value).__name__}; use JSON types")


def _fields_of(row: dict[str, Any]) -> dict[str, Any]:
    """Return the hashed fields of a stored row, in their canonical representation."""
    return {
        "agent": row["agent"],
        "agent_user": row["agent_user"],
        "detail": row["detail"],
        "event_type": row["event_type"],
        "object_id": row["object_id"],
        "object_type": row["object_type"],
        "occurred_at": format_time(row["occurred_at"]),
        "outcome": row["outcome"],
        "prev_hash": row["prev_hash"],
        "seq": row["seq"],
        "source_id": row["source_id"],
    }


# --- reads -----------------------------------------------------------------------------------


def audit_head() -> AuditHead:
    """Return the chain head: the event count, the last seq and its hash."""
    head = AuditChainHead.objects.filter(pk=HEAD_PK).first()
    if head is None:
        return AuditHead(count=0, seq=0, hash=GENESIS_HASH)
    return AuditHead(count=head.count, seq=head.seq, hash=head.hash)


# --- writes ----------------------------------------------------------------------------------


def _locked_head() -> AuditChainHead:
    """Return the chain head row, locked until the transaction ends (creating it if new)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is not None:
        return head
    if AuditEvent.objects.exists():
        raise AuditChainBroken(
            "the audit chain head is missing but events exist; run manage.py verify_audit_log "
            "and restore the database from a backup before recording more events"
        )
    AuditChainHead.objects.get_or_create(pk=HEAD_PK, defaults={"hash": GENESIS_HASH})
    return AuditChainHead.objects.select_for_update().get(pk=HEAD_PK)


def _validated(spec: EventSpec) -> EventSpec:
    if spec.event_type not in _EVENT_TYPES:
        raise ValueError(
            f"unknown audit event type {spec.event_type!r}; add it to AuditEvent.EventType"
        )
    if spec.outcome not in _OUTCOMES:
        raise ValueError(
            f"audit outcome {spec.outcome!r} is not one of {', '.join(AuditEvent.Outcome.values)}"
        )
    if not spec.object_type:
        raise ValueError("an audit event needs an object_type")
    return spec


@transaction.atomic
def _append(specs: list[EventSpec]) -> list[AuditEvent]:
    """Chain and store the events after the current head, then move the head."""
    specs = [_validated(spec) for spec in specs]
    if not specs:
        return []
    head = _locked_head()
    seq, prev_hash = head.seq, head.hash
    now = timezone.now()
    occurred = format_time(now)
    events: list[AuditEvent] = []
    for spec in specs:
        seq += 1
        fields = {
            "agent": spec.user.get_username() if spec.user is not None else SOFTWARE,
            "agent_user": spec.user.pk if spec.user is not None else None,
            "detail": _plain(spec.detail or {}, "detail"),
            "event_type": str(spec.event_type),
            "object_id": str(spec.object_id),
            "object_type": str(spec.object_type),
            "occurred_at": occurred,
            "outcome": str(spec.outcome),
            "prev_hash": prev_hash,
            "seq": seq,
            "source_id": spec.source_id,
        }
        prev_hash = event_hash(fields)
        events.append(
            AuditEvent(
                seq=seq,
                occurred_at=now,
                event_type=fields["event_type"],
                agent_user_id=fields["agent_user"],
                agent=fields["agent"],
                object_type=fields["object_type"],
                object_id=fields["object_id"],
                source_id=spec.source_id,
                outcome=fields["outcome"],
                detail=fields["detail"],
                prev_hash=fields["prev_hash"],
                hash=prev_hash,
            )
        )
    _insert(events)
    AuditChainHead.objects.filter(pk=HEAD_PK).update(
        seq=seq, hash=prev_hash, count=head.count + len(events), updated_at=now
    )
    return events


_INSERT_COLUMNS = (
    "seq",
    "occurred_at",
    "event_type",
    "agent_user_id",
    "agent",
    "object_type",
    "object_id",
    "source_id",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)


def _insert(events: list[AuditEvent]) -> None:
    """Insert the events with executemany: bulk_create's per-field preparation costs more
    than the hashing, and the scan records two or three events per file."""
    meta = AuditEvent._meta
    detail_field = meta.get_field("detail")
    occurred_at = meta.get_field("occurred_at").get_db_prep_save(events[0].occurred_at, connection)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in _INSERT_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))})"
    )
    rows = [
        (
            e.seq,
            occurred_at,
            e.event_type,
            e.agent_user_id,
            e.agent,
            e.object_type,
            e.object_id,
            e.source_id,
            e.outcome,
            detail_field.get_db_prep_save(e.detail, connection),
            e.prev_hash,
            e.hash,
        )
        for e in events
    ]
    with connection.cursor() as cursor:
        for chunk in chunked(rows, _BULK_CHUNK):
            cursor.executemany(sql, chunk)


def audit_record(
    *,
    event_type: str,
    object_type: str,
    object_id: str | int,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    user: User | None = None,
    source_id: int | None = None,
) -> AuditEvent:
    """Append one event (agent: the user, or the software when there is none) and return it."""
    spec = EventSpec(
        event_type=event_type,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail,
        user=user,
        source_id=source_id,
    )
    return _append([spec])[0]


def audit_record_many(events: list[EventSpec]) -> int:
    """Append the events in order, in one transaction; return how many were recorded."""
    return len(_append(list(events)))


# --- verification ----------------------------------------------------------------------------


def _describe(row: dict[str, Any]) -> str:
    return f"event {row['seq']} ({row['event_type']} {row['object_type']} {row['object_id']})"


def _rows(after: int, up_to: int, chunk_size: int) -> Iterator[dict[str, Any]]:
    """Yield stored events with after < seq <= up_to in seq order, a chunk at a time."""
    while True:
        chunk = list(
            AuditEvent.objects.filter(seq__gt=after, seq__lte=up_to)
            .order_by("seq")
            .values(*_ROW_FIELDS)[:chunk_size]
        )
        yield from chunk
        if len(chunk) < chunk_size:
            return
        after = chunk[-1]["seq"]


def _broken(checked: int, seq: int, reason: str, head: AuditHead | None) -> AuditVerification:
    return AuditVerification(ok=False, checked=checked, first_bad_seq=seq, reason=reason, head=head)


def audit_verify(*, chunk_size: int = _VERIFY_CHUNK) -> AuditVerification:
    """Walk the chain in seq order and report the first event that does not verify."""
    head_row = AuditChainHead.objects.filter(pk=HEAD_PK).first()
    if head_row is None:
        first = AuditEvent.objects.order_by("seq").values(*_ROW_FIELDS).first()
        if first is None:
            return AuditVerification(
                ok=True, checked=0, first_bad_seq=None, reason="", head=audit_head()
            )
        return _broken(0, first["seq"], "the chain head row is missing but events exist", None)
    head = AuditHead(count=head_row.count, seq=head_row.seq, hash=head_row.hash)
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for row in _rows(0, head.seq, chunk_size):
        if row["seq"] != expected_seq:
            gap = (
                f"event {expected_seq} is missing"
                if row["seq"] == expected_seq + 1
                else f"events {expected_seq} to {row['seq'] - 1} are missing"
            )
            before = (
                f"the log jumps from event {expected_seq - 1}"
                if expected_seq > 1
                else "the log starts"
            )
            return _broken(
                checked,
                expected_seq,
                f"{gap} (deleted): {before} to {_describe(row)}",
                head,
            )
        computed = event_hash(_fields_of(row))
        if computed != row["hash"]:
            return _broken(
                checked,
                row["seq"],
                f"{_describe(row)} was altered: its content hashes to {computed[:16]}… "
                f"but its recorded hash is {row['hash'][:16]}… (a field or its seq was changed)",
                head,
            )
        if row["prev_hash"] != prev_hash:
            return _broken(
                checked,
                row["seq"],
                f"{_describe(row)} is out of order: its prev_hash {row['prev_hash'][:16]}… is not "
                f"the hash of event {expected_seq - 1} ({prev_hash[:16]}…); events were "
                "reordered or replaced",
                head,
            )
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    if last_seq != head.seq or checked != head.count or prev_hash != head.hash:
        if last_seq < head.seq:
            missing = (
                f"event {head.seq} is missing"
                if last_seq + 1 == head.seq
                else f"events {last_seq + 1} to {head.seq} are missing"
            )
            reason = (
                f"{missing} (deleted): the chain head records {head.count} events up to "
                f"event {head.seq} but the log ends at event {last_seq}"
            )
        else:
            reason = (
                f"the chain head (event {head.seq}, {head.count} events, hash {head.hash[:16]}…) "
                f"does not match the log's last event {last_seq} (hash {prev_hash[:16]}…)"
            )
        return _broken(checked, last_seq + 1 if last_seq < head.seq else head.seq, reason, head)
    # Events appended while we walked sit under a newer head; rows beyond it were not
    # appended through Provena.
    end_head = audit_head()
    beyond = (
        AuditEvent.objects.filter(seq__gt=end_head.seq).order_by("seq").values(*_ROW_FIELDS).first()
    )
    if beyond is not None:
        return _broken(
            checked,
            beyond["seq"],
            f"{_describe(beyond)} lies beyond the chain head (event {end_head.seq}): it was not "
            "appended through Provena",
            head,
        )
    return AuditVerification(ok=True, checked=checked, first_bad_seq=None, reason="", head=head)
