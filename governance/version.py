"""The software version recorded on scans, events and reports."""

from __future__ import annotations

VERSION = "0.1.0"
SOFTWARE = f"Provena {VERSION}"
