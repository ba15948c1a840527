"""The response to a data access request: a ZIP with the copies held and the images.

copies.csv lists every present copy of each photograph with a confirmed face of the subject (all
its renditions: a small copy is a holding too);
images/ holds one JPEG per photograph with every other face blurred. Scanned files are only
read, and only used when their content still matches what was scanned.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image

from governance.csvsafe import csv_dict_writer
from governance.files import atomic_write
from governance.models import AuditEvent, User
from governance.privacy.models import DataAccessRequest, ResponsePack
from governance.privacy.services.requests import MEDIA_FOLDER, audit_step, check_open, check_worker
from inventory.imaging.faces import load_upright
from inventory.imaging.redaction import blur_faces
from inventory.models import Copy, Rendition
from inventory.storage import store_for

# Response-pack images: large enough to be a real copy of the photograph, bounded in memory.
PACK_IMAGE_SIDE = 4096
CSV_COLUMNS = (
    "source",
    "department",
    "path",
    "size",
    "sha256",
    "state",
    "first_seen",
    "last_seen",
    "asset",
    "rendition",
    "image",
)


def _readable_copy(copies: list[Copy]) -> bytes | None:
    """Return the bytes of the first present copy whose content is still what was scanned."""
    for copy in copies:
        path = store_for(copy.source).local_path(copy.path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == copy.sha256:
            return data
    return None


def _redacted_image(data: bytes, other_faces: list[tuple[int, int, int, int]]) -> bytes:
    """Return a JPEG of the photograph (upright) with the given faces blurred."""
    image, scale, _ = load_upright(io.BytesIO(data), PACK_IMAGE_SIDE)
    image = blur_faces(image, other_faces, scale=1 / scale)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _row(copy: Copy, rendition: Rendition, image_name: str) -> dict:
    return {
        "source": copy.source.name,
        "department": copy.source.department.code if copy.source.department else "",
        "path": copy.path,
        "size": copy.size,
        "sha256": copy.sha256,
        "state": copy.state,
        "first_seen": copy.first_seen_at.isoformat(),
        "last_seen": copy.last_seen_at.isoformat(),
        "asset": rendition.asset_id or "",
        "rendition": rendition.pk,
        "image": image_name,
    }


def _readme(request: DataAccessRequest, rows: int, images: int, problems: list[str]) -> str:
    lines = [
        f"Response to data access request {request.pk} ({request.subject_reference})",
        f"Received {request.received_on.isoformat()}, due {request.due_on.isoformat()}, "
        f"prepared {timezone.localtime().strftime('%Y-%m-%d %H:%M')} by "
        f"{settings.PROVENA_ORGANISATION}.",
        "",
        f"copies.csv lists the {rows} copies held of the photographs showing you: where each "
        "is kept (source, department, path), its size, SHA-256 and when it was first and last "
        "seen.",
        f"images/ holds {images} of those photographs, one per distinct image, with the faces "
        "of other people blurred.",
    ]
    if problems:
        lines += ["", "Images that could not be included:", *[f"- {p}" for p in problems]]
    return "\n".join(lines) + "\n"


def _present_copies(rendition: Rendition) -> list[Copy]:
    return list(
        rendition.copies.filter(state=Copy.State.PRESENT)
        .select_related("source__department")
        .order_by("source__name", "path")
    )


def _other_renditions(rendition: Rendition, listed: set[int]) -> list[Rendition]:
    """Return the photograph's other renditions not yet listed (a small copy shows her too)."""
    if rendition.asset_id is None:
        return []
    return list(
        Rendition.objects.filter(asset_id=rendition.asset_id).exclude(pk__in=listed).order_by("pk")
    )


def _write_pack(
    path: BinaryIO,
    request: DataAccessRequest,
    renditions: Iterable[Rendition],
    subject_faces: dict[int, set[int]],
) -> tuple[list[dict], int, list[str]]:
    """Write the ZIP; return the CSV rows, the number of images and what could not be done."""
    # Images go into the ZIP as they are made, so only one photograph is in memory at a time.
    rows: list[dict] = []
    images = 0
    problems: list[str] = []
    renditions = list(renditions)
    listed = {r.pk for r in renditions}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as pack:
        for rendition in renditions:
            copies = _present_copies(rendition)
            if not copies:
                continue
            image_name = f"images/rendition-{rendition.pk}.jpg"
            data = _readable_copy(copies)
            if data is None:
                problems.append(
                    f"rendition {rendition.pk}: no copy could be read unchanged since the last scan"
                )
                image_name = ""
            else:
                others = list(
                    rendition.faces.exclude(pk__in=subject_faces[rendition.pk]).values_list(
                        "left", "top", "width", "height"
                    )
                )
                try:
                    jpeg = _redacted_image(data, others)
                except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
                    problems.append(f"rendition {rendition.pk}: could not be decoded ({exc})")
                    image_name = ""
                else:
                    pack.writestr(image_name, jpeg, compress_type=zipfile.ZIP_STORED)
                    images += 1
            rows.extend(_row(copy, rendition, image_name) for copy in copies)
            # Every holding of the photograph is hers, whether or not the detector found her
            # face on that rendition; the image sent is the one above.
            for other in _other_renditions(rendition, listed):
                listed.add(other.pk)
                rows.extend(_row(copy, other, image_name) for copy in _present_copies(other))
        table = io.StringIO()
        writer = csv_dict_writer(table, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        pack.writestr("copies.csv", table.getvalue())
        pack.writestr("README.txt", _readme(request, len(rows), images, problems))
    return rows, images, problems


@transaction.atomic
def response_pack_build(*, request: DataAccessRequest, user: User) -> ResponsePack:
    """Write the response ZIP (copies.csv and the images, others' faces blurred)."""
    check_worker(user)
    request = DataAccessRequest.objects.select_for_update().get(pk=request.pk)
    check_open(request)
    searched = AuditEvent.objects.filter(
        event_type=AuditEvent.EventType.ACCESS_REQUEST_SEARCHED,
        object_type="access_request",
        object_id=str(request.pk),
    ).exists()
    if not searched:
        raise ValidationError("search the archive for the subject before building the response")
    undecided = request.candidates.filter(confirmed__isnull=True).count()
    if undecided:
        raise ValidationError(
            f"{undecided} candidate face{'s' if undecided != 1 else ''} still to confirm or "
            "reject; decide every candidate before building the response pack"
        )
    subject_faces: dict[int, set[int]] = {}
    for face_id, rendition_id in request.candidates.filter(confirmed=True).values_list(
        "face_id", "face__rendition_id"
    ):
        subject_faces.setdefault(rendition_id, set()).add(face_id)
    renditions = Rendition.objects.filter(pk__in=subject_faces).order_by("pk")
    number = request.response_packs.count() + 1
    relative = f"{MEDIA_FOLDER}/{request.pk}/response-{request.pk}-{number}.zip"
    target = Path(settings.PROVENA_MEDIA_ROOT) / relative
    with atomic_write(target) as partial:
        rows, images, problems = _write_pack(partial, request, renditions, subject_faces)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    response = ResponsePack.objects.create(
        request=request,
        path=relative,
        sha256=digest,
        copies=len(rows),
        images=images,
        created_by=user,
    )
    # Building the pack is not replying: the reply is recorded when it is sent
    # (services/request_replies.py).
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_PACK_BUILT,
        request,
        user,
        {
            "pack": response.pk,
            "sha256": digest,
            "copies": len(rows),
            "images": images,
            "renditions": sorted(subject_faces),
            "problems": problems,
        },
        AuditEvent.Outcome.WARNING if problems else "",
    )
    return response
