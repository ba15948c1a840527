"""The user's own API tokens: a page listing them, each with a revoke button."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.http import AuthenticatedRequest
from governance.tokens import api_token_revoke, api_tokens_of


@login_required
def token_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the user's API tokens that still work, each with a revoke button."""
    return render(
        request,
        "governance/token_list.html",
        {"tokens": api_tokens_of(user=request.user), "days": settings.PROVENA_API_TOKEN_DAYS},
    )


@login_required
@require_POST
def token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own API tokens."""
    if not api_token_revoke(user=request.user, token_id=pk):
        raise Http404("you have no such token")
    messages.success(request, _("Token revoked: it no longer opens the API."))
    return redirect("token-list")
