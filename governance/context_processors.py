"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from governance.roles import role_label
from governance.version import VERSION


def navigation(request: HttpRequest) -> dict:
    """Return the organisation name, software version and the user's roles for the layout."""
    user = request.user
    roles = user.role_names() if user.is_authenticated else []
    return {
        "organisation": settings.PROVENA_ORGANISATION,
        "software_version": VERSION,
        "user_roles": [role_label(name) for name in roles],
    }
