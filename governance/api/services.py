"""Helpers every API view uses to call a service and read its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

from governance.models import User


def validation_detail(exc: DjangoValidationError) -> dict:
    """Return a Django validation error as an API body: per field, or under "detail"."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}


def call_service(call: Callable[[], Any]) -> Any:
    """Run a service, turning Django's permission and validation errors into API errors."""
    try:
        return call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except DjangoValidationError as exc:
        raise ValidationError(validation_detail(exc)) from exc


def validated_params(serializer_class: type[BaseSerializer], request: Request) -> dict:
    """Return the request's body checked by the serializer (a 400 when it does not fit)."""
    params = serializer_class(data=request.data)
    params.is_valid(raise_exception=True)
    return params.validated_data


def signed_in_user(request: Request) -> User:
    """Return the request's signed-in user (a 401 for an anonymous one).

    Every API view requires a signed-in user through its permission classes; this says so to
    the type checker, and refuses rather than guesses if a view is ever opened up.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
