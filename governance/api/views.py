"""API tokens: a user name and password exchanged for a token; the caller's own tokens."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.serializers import ApiTokenSerializer, IssuedTokenSerializer
from governance.api.services import signed_in_user
from governance.tokens import api_token_issue, api_token_revoke, api_tokens_of


class AuthTokenView(ObtainAuthToken):
    """Exchange a user name and password for a new, expiring API token; throttled like login."""

    @extend_schema(responses=IssuedTokenSerializer)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = request.data if isinstance(request.data, dict) else {}
        label = str(data.get("label", ""))[:100]
        token, key = api_token_issue(user=serializer.validated_data["user"], label=label)
        body = {**ApiTokenSerializer(token).data, "token": key}
        return Response(IssuedTokenSerializer(body).data)

    def get_serializer_context(self) -> dict:
        # django-axes marks a locked-out login on the request handed to authenticate(), and its
        # middleware reads the mark on Django's request, not on DRF's wrapper around it.
        return {**super().get_serializer_context(), "request": self.request._request}


class ApiTokenListView(APIView):
    """List the caller's own API tokens that still work (never their keys)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        tokens = api_tokens_of(user=signed_in_user(request))
        return Response(ApiTokenSerializer(tokens, many=True).data)


class ApiTokenDetailView(APIView):
    """Revoke one of the caller's own API tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        if not api_token_revoke(user=signed_in_user(request), token_id=pk):
            return Response({"detail": f"you have no token {pk}"}, status=404)
        return Response(status=status.HTTP_204_NO_CONTENT)
