"""Import a catalogue CSV: match each row to a copy by path or SHA-256, all rows or none.

Columns (header names, any order; all but one of path/sha256 optional):
  path              `source:relative/path`, or a relative path with a `source` column
  source            the source's name (with a relative path)
  sha256            the file's SHA-256 (64 hex digits)
  title, description, creator, credit_line, rights_holder
  catalogue_scheme, catalogue_number   (both or neither)

Empty cells leave a field as it is. A file with unknown columns, that is not UTF-8, or with
any row that matches nothing or cannot be applied writes nothing; the report says which rows
and why. Everything is written in one transaction, one `catalogued` event per asset.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from governance.audit import audit_record_many
from governance.models import Department, User
from inventory.models import Asset, CatalogueNumber, Copy, Source
from inventory.selectors.assets import asset_department_id, asset_writable_by
from inventory.selectors.visibility import sources_visible_to
from inventory.services.assets import apply_catalogue_change, catalogue_event

KEY_COLUMNS = ("path", "source", "sha256")
NUMBER_COLUMNS = ("catalogue_scheme", "catalogue_number")
COLUMNS = (*KEY_COLUMNS, *Asset.CATALOGUE_FIELDS, *NUMBER_COLUMNS)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(slots=True)
class RowPlan:
    """What one row of the file matched and would change, or why it cannot be applied."""

    row: int  # the spreadsheet row: the header is row 1
    key: str  # how the row named its file
    asset_id: int | None = None
    copy: str = ""  # source:path of the matched copy
    fields: dict[str, str] = field(default_factory=dict)
    number: tuple[str, str] | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def describe(self) -> str:
        if self.problem:
            return f"row {self.row} ({self.key}): {self.problem}"
        changes = [f"{name}={value!r}" for name, value in self.fields.items()]
        if self.number:
            changes.append(f"catalogue number {self.number[0]} {self.number[1]}")
        return f"row {self.row} ({self.key}): asset {self.asset_id} via {self.copy}: " + (
            "; ".join(changes) or "nothing to change"
        )


@dataclass(slots=True)
class CatalogueImport:
    """The outcome of an import: file-level problems, one plan per row, whether it wrote."""

    problems: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    assets_changed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.rows)

    @property
    def failed_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if not r.ok]


def _decode(data: bytes, report: CatalogueImport) -> str | None:
    """Return the text, or None after reporting each line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.problems.append(
                f"line {number}: byte 0x{line[exc.start]:02x} at column {exc.start + 1} is not "
                'UTF-8; save the file as "CSV UTF-8" and import it again'
            )
    return None


class _Matcher:
    """Find the copy a row names, among the sources in scope."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = {s.name: s for s in sources}

    def _copies(self, **lookup: str) -> list[Copy]:
        return list(
            Copy.objects.filter(source__in=self.sources.values(), **lookup)
            .select_related("source", "rendition")
            .order_by("source__name", "path")[:20]
        )

    def by_path(self, path: str, source_name: str) -> tuple[list[Copy], str]:
        path = path.strip().replace("\\", "/").removeprefix("./").lstrip("/")
        if not source_name and ":" in path:
            prefix, rest = path.split(":", 1)
            if prefix in self.sources:
                source_name, path = prefix, rest.lstrip("/")
        if source_name:
            if source_name not in self.sources:
                return [], f"no source named {source_name!r} that you can see"
            found = self._copies(source__name=source_name, path=path)
            return found, "" if found else f"no copy at {source_name}:{path}"
        found = self._copies(path=path)
        if not found:
            return [], f"no copy at {path} in any source you can see"
        if len({c.source_id for c in found}) > 1:
            names = ", ".join(sorted({c.source.name for c in found}))
            return [], f"{path} is in several sources ({names}); write source:path"
        return found, ""

    def by_sha256(self, digest: str) -> tuple[list[Copy], str]:
        digest = digest.strip().lower()
        if not _SHA256.fullmatch(digest):
            return [], f"{digest!r} is not a SHA-256 (64 hexadecimal digits)"
        found = self._copies(sha256=digest)
        return found, "" if found else f"no copy with SHA-256 {digest[:16]}…"


def _row_plan(number: int, cells: dict[str, str], matcher: _Matcher, user: User | None) -> RowPlan:
    path, source, digest = (cells.get(c, "").strip() for c in KEY_COLUMNS)
    digest = digest.lower()
    plan = RowPlan(row=number, key=path and (f"{source}:{path}" if source else path) or digest)
    if not path and not digest:
        plan.key = "no key"
        plan.problem = "give a path or a sha256"
        return plan
    found: list[Copy] = []
    if path:
        found, plan.problem = matcher.by_path(path, source)
    if digest and not plan.problem:
        by_hash, plan.problem = matcher.by_sha256(digest)
        if found and by_hash and {c.pk for c in found}.isdisjoint(c.pk for c in by_hash):
            plan.problem = "the path and the sha256 name different files"
        found = found or by_hash
    if plan.problem:
        return plan
    with_image = [
        (c, c.rendition.asset_id) for c in found if c.rendition is not None and c.rendition.asset_id
    ]
    if not with_image:
        plan.problem = f"{found[0]} is not an inventoried image ({found[0].problem or 'unread'})"
        return plan
    copy, asset_id = with_image[0]
    plan.asset_id, plan.copy = asset_id, f"{copy.source.name}:{copy.path}"
    for name in Asset.CATALOGUE_FIELDS:
        value = cells.get(name, "").strip()
        if not value:
            continue
        limit = _max_length(Asset, name)
        if limit and len(value) > limit:
            plan.problem = f"{name} is {len(value)} characters long; at most {limit}"
            return plan
        plan.fields[name] = value
    scheme, catalogue_number = (cells.get(c, "").strip() for c in NUMBER_COLUMNS)
    if bool(scheme) != bool(catalogue_number):
        plan.problem = "give both catalogue_scheme and catalogue_number, or neither"
        return plan
    if scheme:
        for column, value in zip(NUMBER_COLUMNS, (scheme, catalogue_number), strict=True):
            limit = _max_length(CatalogueNumber, column.removeprefix("catalogue_"))
            if limit and len(value) > limit:
                plan.problem = f"{column} is {len(value)} characters long; at most {limit}"
                return plan
        plan.number = (scheme, catalogue_number)
    if user is not None:
        asset = Asset.objects.get(pk=asset_id)
        if not asset_writable_by(user=user, asset=asset):
            department = asset_department_id(asset=asset)
            code = (
                Department.objects.filter(pk=department).values_list("code", flat=True).first()
                if department is not None
                else None
            )
            plan.problem = (
                f"asset {asset.pk} is answered for by another department ({code or 'none'}); "
                "ask that department or an administrator"
            )
    return plan


def _max_length(model: type[models.Model], name: str) -> int | None:
    """Return the longest value a model's text field holds (None: no limit)."""
    field = model._meta.get_field(name)
    return field.max_length if isinstance(field, models.Field) else None


def _cross_check(plans: list[RowPlan]) -> None:
    """Flag rows that contradict earlier rows or catalogue numbers held by other assets."""
    seen_fields: dict[tuple[int | None, str], tuple[int, str]] = {}
    seen_numbers: dict[tuple[str, str], tuple[int, int | None]] = {}
    held = {}
    wanted = {p.number for p in plans if p.ok and p.number}
    if wanted:
        schemes = {s for s, _ in wanted}
        for scheme, number, asset_id in CatalogueNumber.objects.filter(
            scheme__in=schemes
        ).values_list("scheme", "number", "asset_id"):
            held[(scheme, number)] = asset_id
    for plan in plans:
        if not plan.ok:
            continue
        for name, value in plan.fields.items():
            earlier = seen_fields.setdefault((plan.asset_id, name), (plan.row, value))
            if earlier[1] != value:
                plan.problem = (
                    f"{name} {value!r} contradicts row {earlier[0]} ({earlier[1]!r}) for the "
                    f"same asset {plan.asset_id}"
                )
                break
        if plan.problem or not plan.number:
            continue
        owner = held.get(plan.number)
        if owner is not None and owner != plan.asset_id:
            plan.problem = f"catalogue number {' '.join(plan.number)} already names asset {owner}"
            continue
        first = seen_numbers.setdefault(plan.number, (plan.row, plan.asset_id))
        if first[1] != plan.asset_id:
            plan.problem = (
                f"catalogue number {' '.join(plan.number)} is given to asset {first[1]} in "
                f"row {first[0]}"
            )


def _read(text: str, report: CatalogueImport, matcher: _Matcher, user: User | None) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            report.problems.append("the file is empty; the first row must name the columns")
            return
        columns = [name.strip().lower() for name in header]
        unknown = [name for name in columns if name not in COLUMNS]
        if unknown:
            report.problems.append(
                f"unknown columns: {', '.join(repr(n) for n in unknown)}; the columns are "
                f"{', '.join(COLUMNS)}"
            )
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:
            report.problems.append(f"columns named twice: {', '.join(repeated)}")
        if "path" not in columns and "sha256" not in columns:
            report.problems.append("a path or a sha256 column is needed to find each file")
            return
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                report.rows.append(
                    RowPlan(
                        row=number,
                        key="?",
                        problem=f"{len(cells)} cells but the header names {len(columns)} columns",
                    )
                )
                continue
            named = dict(zip(columns, cells, strict=False))
            report.rows.append(_row_plan(number, named, matcher, user))
    except csv.Error as exc:
        report.problems.append(f"row {reader.line_num}: not readable as CSV ({exc})")
    if not report.rows and not report.problems:
        report.problems.append("the file has a header but no rows")
    _cross_check(report.rows)


def catalogue_import(
    *, data: bytes, user: User | None = None, dry_run: bool = False, name: str = ""
) -> CatalogueImport:
    """Check every row, then write all of them (or, on any problem or a dry run, none).

    user None is a command-line run: every source is in scope and no role is checked.
    """
    if user is not None and not user.has_perm("inventory.change_asset"):
        raise PermissionDenied("your role may not edit the catalogue")
    report = CatalogueImport(dry_run=dry_run)
    text = _decode(data, report)
    if text is None:
        return report
    sources = list(sources_visible_to(user=user) if user is not None else Source.objects.all())
    _read(text, report, _Matcher(sources), user)
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        by_asset: dict[int | None, list[RowPlan]] = defaultdict(list)
        for plan in report.rows:
            by_asset[plan.asset_id].append(plan)
        events = []
        for asset in Asset.objects.filter(pk__in=list(by_asset)).select_for_update():
            plans = by_asset[asset.pk]
            fields = {k: v for p in plans for k, v in p.fields.items()}
            numbers = [p.number for p in plans if p.number]
            try:
                changed, added = apply_catalogue_change(asset, fields, numbers)
            except ValidationError as exc:  # a race with another import: refuse it all
                raise ValidationError(f"asset {asset.pk}: {exc}") from exc
            if changed or added:
                report.assets_changed += 1
                events.append(
                    catalogue_event(
                        asset, changed, added, user, file=name, rows=[p.row for p in plans]
                    )
                )
        audit_record_many(events)
    report.written = True
    return report
