"""Serve images of identifiable people: logged for the legal role, blurred for everyone else."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from governance.models import User
from governance.privacy.models import PersonalDataView
from inventory.imaging.faces import load_upright
from inventory.imaging.redaction import blur_faces, blur_whole
from inventory.models import Copy, Rendition
from inventory.selectors.people import blur_plan, upright_size
from inventory.storage import store_for

FULL_VIEW_SIDE = 1600


def may_see_people(user: User) -> bool:
    """Return whether the user may see identifiable people unblurred (the legal role)."""
    return user.has_perm("privacy.view_personal_image")


def personal_view_record(
    *, user: User, rendition: Rendition | None, kind: str, detail: str = ""
) -> PersonalDataView:
    """Record that the user was shown a personal-data image."""
    return PersonalDataView.objects.create(
        user=user, rendition=rendition, kind=kind, detail=detail[:300]
    )


def _masked(image: Image.Image, rendition: Rendition, scale: float) -> Image.Image:
    """Return the image (scale: its px per upright px of the rendition) with people hidden."""
    # Every detected face is blurred, identifiable or not: a false "not identifiable" costs
    # more; and the faces of the photograph's other renditions, carried onto this one.
    plan = blur_plan(rendition=rendition)
    if plan.whole:
        return blur_whole(image)
    return blur_faces(image, plan.boxes, scale=scale)


def masked_thumbnail(*, rendition: Rendition, thumbnail: Path) -> bytes:
    """Return the thumbnail with every face of its photograph pixelated, as JPEG bytes."""
    with Image.open(thumbnail) as im:
        im.load()
        out = _masked(im, rendition, im.width / max(1, upright_size(rendition)[0]))
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def rendition_image(*, rendition: Rendition, blurred: bool = False) -> bytes:
    """Return a large upright JPEG of the rendition from one present copy (read only)."""
    copy = rendition.copies.filter(state=Copy.State.PRESENT).select_related("source").first()
    if copy is None:
        raise FileNotFoundError("no present copy of this rendition is left to show")
    image, scale, _ = load_upright(store_for(copy.source).local_path(copy.path), FULL_VIEW_SIDE)
    if blurred:
        image = _masked(image, rendition, 1 / scale)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
