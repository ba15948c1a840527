"""Number formats for reports: decimal byte units (as storage is billed) and money."""

from __future__ import annotations

from django.utils.translation import gettext as _

_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")


def si_bytes(value: float | int | None) -> str:
    """Return a byte count in decimal units: 1 GB is 1,000,000,000 bytes."""
    if value is None:
        return "—"
    size = float(value)
    for unit in _UNITS:
        if abs(size) < 1000 or unit == _UNITS[-1]:
            if unit == "bytes":
                whole = int(size)
                return _("%(n)s bytes") % {"n": f"{whole:,}"}
            return f"{size:,.2f} {unit}" if abs(size) < 100 else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def money(value: float | int | None, currency: str) -> str:
    """Return an amount with its currency and two decimals."""
    if value is None:
        return "—"
    if 0 < value < 0.005:
        return _("under %(currency)s 0.01") % {"currency": currency}
    return f"{currency} {value:,.2f}"


def count(value: int | None) -> str:
    """Return a whole number with thousands separators."""
    return "—" if value is None else f"{value:,}"
