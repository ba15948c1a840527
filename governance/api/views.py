"""The API token view: a user name and password exchanged for a token."""

from __future__ import annotations

from rest_framework.authtoken.views import ObtainAuthToken


class AuthTokenView(ObtainAuthToken):
    """Exchange a user name and password for an API token; throttled like the login page."""

    def get_serializer_context(self) -> dict:
        # django-axes marks a locked-out login on the request handed to authenticate(), and its
        # middleware reads the mark on Django's request, not on DRF's wrapper around it.
        return {**super().get_serializer_context(), "request": self.request._request}
