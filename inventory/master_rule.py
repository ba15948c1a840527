"""The master rule: which copy of a photograph is proposed as its master (README, "Master copy").

Pure (no Django): settings.PROVENA_MASTER_RULE names the criteria in order, and every caller
describes its copies as `Candidate`s. Retired renditions (superseded by a newer version) always
come last, and source name then path break the last ties, so the choice is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rule knows about one copy."""

    authoritative: bool  # the copy's source holds masters
    area: int  # the rendition's pixel area
    derivative: bool  # a match says the rendition was made from another one
    capture_ts: float | None  # capture time (POSIX seconds), from the metadata
    mtime_ns: int  # the file's modification time
    metadata_fields: int  # how many metadata fields the rendition carries
    retired: bool  # a newer version supersedes the rendition
    source_name: str
    path: str


# Each criterion maps a candidate to a value; smaller values win.
CRITERIA: dict[str, Callable[[Candidate], float | int | bool]] = {
    "authoritative_source": lambda c: not c.authoritative,
    "largest_area": lambda c: -c.area,
    "not_derivative": lambda c: c.derivative,
    "earliest_capture": lambda c: math.inf if c.capture_ts is None else c.capture_ts,
    "oldest_file": lambda c: c.mtime_ns,
    "richest_metadata": lambda c: -c.metadata_fields,
}
DEFAULT_RULE: tuple[str, ...] = tuple(CRITERIA)


def validate_rule(names: Iterable[str]) -> tuple[str, ...]:
    """Return the criteria names as a tuple, or raise ValueError saying what is wrong."""
    rule = tuple(name.strip() for name in names if name.strip())
    if not rule:
        raise ValueError(f"name at least one criterion of: {', '.join(CRITERIA)}")
    unknown = [name for name in rule if name not in CRITERIA]
    if unknown:
        raise ValueError(
            f"unknown criteria {', '.join(unknown)}; choose from {', '.join(CRITERIA)}"
        )
    repeated = sorted({name for name in rule if rule.count(name) > 1})
    if repeated:
        raise ValueError(f"criteria named twice: {', '.join(repeated)}")
    return rule


def master_key(candidate: Candidate, rule: tuple[str, ...]) -> tuple:
    """Return the sort key that puts the likeliest master first under this rule."""
    return (
        candidate.retired,
        *(CRITERIA[name](candidate) for name in rule),
        candidate.source_name,
        candidate.path,
    )
