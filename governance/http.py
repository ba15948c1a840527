"""The request type of pages behind login_required."""

from __future__ import annotations

from django.http import HttpRequest

from governance.models import User


class AuthenticatedRequest(HttpRequest):
    """A request login_required has let through: its user is signed in, never anonymous.

    Only an annotation (Django still passes an HttpRequest); use it on views decorated with
    login_required and on the helpers they call, so the type checker knows request.user is a
    User.
    """

    user: User
