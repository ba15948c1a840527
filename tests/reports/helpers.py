"""Helpers for report tests: run commands, read PDFs back with independent tools."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader


def build(tmp_path: Path, kind: str = "audit", *args: str, name: str | None = None) -> Path:
    """Run build_report and return the written PDF."""
    output = tmp_path / (name or f"{kind}.pdf")
    call_command("build_report", "--kind", kind, "--output", str(output), *args, verbosity=0)
    return output


def pdf_text(path: Path) -> str:
    """Return the text of a PDF as Poppler's pdftotext reads it."""
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def pdfsig(path: Path) -> str:
    """Return what Poppler's pdfsig says about the PDF's signatures (stdout and stderr)."""
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def embedded_files(data: bytes) -> dict[str, bytes]:
    """Return the PDF's embedded files by name, read with pyHanko's reader."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    files = {}
    for index in range(0, len(names), 2):
        spec = names[index + 1]
        files[str(spec["/F"])] = spec["/EF"]["/F"].data
    return files


def with_byte_changed(data: bytes, position: int | None = None) -> bytes:
    """Return the bytes with one byte changed (by default the one in the middle)."""
    changed = bytearray(data)
    position = len(data) // 2 if position is None else position
    changed[position] = (changed[position] + 1) % 256
    return bytes(changed)


def nested_arrays_pdf(depth: int = 100_000) -> bytes:
    """Return a ~200 KB PDF whose catalogue holds `depth` nested arrays (a parser attack)."""
    body = b"[" * depth + b"]" * depth
    head = b"%PDF-1.7\n"
    catalogue = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + body + b" >>\nendobj\n"
    pages = b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    xref_at = len(head) + len(catalogue) + len(pages)
    xref = (
        b"xref\n0 3\n0000000000 65535 f \n"
        + b"%010d 00000 n \n" % len(head)
        + b"%010d 00000 n \n" % (len(head) + len(catalogue))
        + b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return head + catalogue + pages + xref
