"""Serve images of identifiable people: logged for the legal role, blurred for everyone else."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from governance.models import User
from governance.privacy.models import PersonalDataView
from governance.privacy.selectors.cases import upright_size
from inventory.imaging.faces import load_upright
from inventory.imaging.redaction import blur_faces
from inventory.models import Copy, Rendition
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


def _boxes(rendition: Rendition) -> list[tuple[int, int, int, int]]:
    # Every detected face is blurred, identifiable or not: a false "not identifiable" costs more.
    return list(rendition.faces.values_list("left", "top", "width", "height"))


def masked_thumbnail(*, rendition: Rendition, thumbnail: Path) -> bytes:
    """Return the thumbnail with every face pixelated, as JPEG bytes."""
    with Image.open(thumbnail) as im:
        im.load()
        scale = im.width / max(1, upright_size(rendition)[0])
        out = blur_faces(im, _boxes(rendition), scale=scale)
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
        image = blur_faces(image, _boxes(rendition), scale=1 / scale)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
