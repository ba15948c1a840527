"""The master rule: which copy of a photograph is proposed as its master (README, "Master copy").

Pure (no Django): settings.PROVENA_MASTER_RULE names the criteria in order, and every caller
describes its copies as `Candidate`s. Retired renditions (superseded by a newer version) always
come last, and a derivative (a rendition made from another one still present, see
inventory.lineage) always comes after its source, whatever the order: the rule never proposes
a copy while what it was made from is held. Source name then path break the last ties, so
the choice is deterministic.
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
    derivative: bool  # the rendition was made from another one that is still present
    capture_ts: float | None  # capture time (POSIX seconds), from the metadata
    mtime_ns: int  # the file's modification time
    metadata_fields: int  # how many metadata fields the rendition carries
    retired: bool  # a newer version supersedes the rendition
    source_name: str
    path: str
    # The picture's original resolution in pixels: an upscale, border, caption band or page
    # around it adds none (inventory.lineage.original_areas); None: the file's own area.
    resolution: int | None = None


# Each criterion maps a candidate to a value; smaller values win.
CRITERIA: dict[str, Callable[[Candidate], float | int | bool]] = {
    "authoritative_source": lambda c: not c.authoritative,
    "not_derivative": lambda c: c.derivative,
    "largest_resolution": lambda c: -(c.area if c.resolution is None else c.resolution),
    # The file's pixel area, border and upscale included (kept for rules that name it).
    "largest_area": lambda c: -c.area,
    "earliest_capture": lambda c: math.inf if c.capture_ts is None else c.capture_ts,
    "oldest_file": lambda c: c.mtime_ns,
    "richest_metadata": lambda c: -c.metadata_fields,
}
DEFAULT_RULE: tuple[str, ...] = (
    "authoritative_source",
    "not_derivative",
    "largest_resolution",
    "earliest_capture",
    "oldest_file",
    "richest_metadata",
)


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
        candidate.derivative,
        *(CRITERIA[name](candidate) for name in rule),
        candidate.source_name,
        candidate.path,
    )
