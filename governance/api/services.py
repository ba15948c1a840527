"""Helpers every API view uses to call a service and read its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request


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


def validated_params(serializer_class, request: Request) -> dict:
    """Return the request's body checked by the serializer (a 400 when it does not fit)."""
    params = serializer_class(data=request.data)
    params.is_valid(raise_exception=True)
    return params.validated_data
