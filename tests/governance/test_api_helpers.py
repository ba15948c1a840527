"""The API helpers every view uses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from governance.api.services import signed_in_user
from tests.factories import UserFactory


def _request(user) -> Request:
    request = Request(APIRequestFactory().get("/api/"))
    request.user = user
    return request


@pytest.mark.django_db
def test_signed_in_user_is_the_requests_user():
    user = UserFactory()
    assert signed_in_user(_request(user)) == user


def test_an_anonymous_request_is_refused_as_not_signed_in():
    with pytest.raises(NotAuthenticated):
        signed_in_user(_request(AnonymousUser()))
