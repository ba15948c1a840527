"""Write every CSV Provena produces so that a spreadsheet shows each cell as text.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV injection"); file names are chosen by whoever
filled the archive, so a path can be a formula. Such a cell gets a leading apostrophe, which
spreadsheets hide and treat as "this is text". Numbers are written as they are: a number is
never a formula, and a negative distance or size stays a number.

Text cells are always quoted: Provena's CSVs end lines with a bare LF, and the csv module
quotes only a field holding a character of the line terminator, so a carriage return in a
file name would otherwise split its row in two in a spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return a value safe to write as one CSV cell (text that would run gets an apostrophe)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


class SafeWriter:
    """A csv.writer whose every cell goes through csv_cell()."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **{"quoting": csv.QUOTE_NONNUMERIC, **options})

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """A csv.DictWriter whose every cell goes through csv_cell()."""

    def __init__(self, out: Any, fieldnames: Sequence[str], **options: Any) -> None:
        self._writer = csv.DictWriter(
            out, fieldnames=fieldnames, **{"quoting": csv.QUOTE_NONNUMERIC, **options}
        )

    def writeheader(self) -> Any:
        return self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._writer.writerow({key: csv_cell(value) for key, value in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> SafeWriter:
    """Return a CSV writer on `out` that neutralises formulas in every cell."""
    return SafeWriter(out, **options)


def csv_dict_writer(out: Any, *, fieldnames: Sequence[str], **options: Any) -> SafeDictWriter:
    """Return a CSV dict writer on `out` that neutralises formulas in every cell."""
    return SafeDictWriter(out, fieldnames, **options)
