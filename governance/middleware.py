"""Request-level safeguards: refuse oversized bodies unread, answer 503 when the database is
gone (docs/security.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from governance.database import CONNECTION_ERRORS, database_full

logger = logging.getLogger(__name__)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _refusal(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    """Return a short error as JSON for the API and as a page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    # No request context: this may answer before the session and the user are known.
    page = render_to_string("governance/error.html", {"title": title, "message": message})
    return HttpResponse(page, status=status)


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body exceeds PROVENA_MAX_REQUEST_BYTES, unread (413).

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE leaves files and the API's parsers out; this
    bound covers every body. The upload pages check their own, smaller limits as well.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(
                request, 400, "Bad request", "the Content-Length header is not a number"
            )
        limit = settings.PROVENA_MAX_REQUEST_BYTES
        if length > limit:
            return _refusal(
                request,
                413,
                "Upload too large",
                f"the request is {length:,} bytes; this site accepts at most {limit:,} "
                "(setting PROVENA_MAX_REQUEST_BYTES)",
            )
        return self.get_response(request)


class NulCharacterMiddleware:
    """Refuse NUL characters in the query string and in form or JSON bodies (400).

    No field of Provena's holds a NUL, and PostgreSQL refuses one in any text value, so
    letting it through turns a malformed request into a server error.
    """

    _TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
            return _refusal(request, 400, "Bad request", "NUL characters are not allowed")
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith(self._TEXT_BODIES) and request.method in (
            "POST",
            "PUT",
            "PATCH",
        ):
            body = request.body
            if b"\x00" in body or b"\\u0000" in body or b"%00" in body:
                return _refusal(request, 400, "Bad request", "NUL characters are not allowed")
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 with a plain message when the database cannot be reached mid-request.

    The request's transaction (if any) is rolled back by the database itself, so nothing
    half-done is kept; the visitor is told to try again rather than shown a server error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CONNECTION_ERRORS):
            return None
        logger.error(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        if database_full(exception):
            response = _refusal(
                request,
                503,
                "Database full",
                "the database has run out of disk space, so nothing was changed; tell the "
                "administrator, who must free space on its volume",
            )
        else:
            response = _refusal(
                request,
                503,
                "Database unavailable",
                "the database is not answering, so nothing was read or changed; try again in a "
                "few minutes, and tell the administrator if it persists",
            )
        response["Retry-After"] = "60"
        return response
