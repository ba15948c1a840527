"""The API against its own OpenAPI schema, fuzzed with schemathesis: for an administrator
(who may do everything) and an auditor (who may change nothing), requests generated from the
schema drf-spectacular publishes never get a server error, and every documented response has
the documented content type and body.

Each operation is tried three ways: random valid requests, requests made invalid on purpose
(which must be refused, never crash), and valid requests on a real object of the scanned sample
archive. Statuses the schema does not list (drf-spectacular documents only the success status,
not 400/403/404) are not counted as violations; the permission matrix checks those
(tests/governance/test_permission_matrix.py). PROVENA_API_FUZZ_EXAMPLES sets the examples per
operation and way (default 6; about two minutes for both roles). Runs are derandomised, so CI
repeats them exactly; to search further, raise the examples and set PROVENA_API_FUZZ_RANDOM=1
(`make api-fuzz` does both). What such searches found stays fixed in the tests at the end.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from governance.models import AuditEvent
from governance.tokens import api_token_issue
from inventory.models import Copy, Match, Scan, Source
from inventory.services.licences import licence_create

EXAMPLES = int(os.environ.get("PROVENA_API_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("PROVENA_API_FUZZ_RANDOM", "") == "1"
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# Data that breaks the schema on purpose must be refused (4xx); what is refused how is free.
NEGATIVE_CHECKS = [not_a_server_error]
PATH_PARAMETER = re.compile(r"{(\w+)}")


def _openapi() -> dict:
    """Return the schema exactly as /api/schema/ serves it (as JSON)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@contextmanager
def _requests_in_this_transaction() -> Iterator[None]:
    """Keep the test's database connection open across WSGI requests, as Django's test
    client does, so the requests see (and roll back with) the test's data."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _seeded_ids(role_users: dict) -> dict[str, object]:
    """Return, per API collection, the id of a real object (random ids mostly find nothing)."""
    licence = licence_create(
        user=role_users["administrator"],
        licensor="Agency",
        reference="FUZZ-1",
        departments=[],
        sources=[Source.objects.get(name="film_archive")],
        start=datetime.date(2020, 1, 1),
    )
    astronaut = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    return {
        "sources": astronaut.source_id,
        "scans": Scan.objects.filter(source_id=astronaut.source_id).first().pk,
        "copies": astronaut.pk,
        "assets": astronaut.rendition.asset_id,
        "matches": Match.objects.order_by("pk").first().pk,
        "licences": licence.pk,
        "audit-events": AuditEvent.objects.order_by("seq").first().seq,
    }


def _strategies(operation, seeds: dict[str, object]) -> list[tuple[str, object, list]]:
    """Return the ways to generate cases for an operation, with the checks for each."""
    strategies = [
        ("positive", operation.as_strategy(), CHECKS),
        ("negative", operation.as_strategy(GenerationMode.NEGATIVE), NEGATIVE_CHECKS),
    ]
    names = PATH_PARAMETER.findall(operation.path)
    collection = operation.path.split("/")[2]
    if len(names) == 1 and collection in seeds:
        seeded = operation.as_strategy(path_parameters={names[0]: seeds[collection]})
        strategies.append(("positive, real object", seeded, CHECKS))
    return strategies


def _fuzz(operation, strategy, checks: list, headers: dict[str, str], app) -> list[str]:
    """Run generated cases against one operation; return what went wrong, one line each."""
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case) -> None:
        response = case.call(app=app, headers=headers)
        try:
            case.validate_response(response, checks=checks)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            for failure in found:
                detail = " ".join(failure.message.split())[:300]
                failures.append(
                    f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                    f"{failure.title}: {detail}\n    {case.as_curl_command()}"
                )

    # Unsatisfiable: nothing in this operation can be made invalid (a GET without parameters).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()
    return failures


@pytest.fixture
def api_app(scanned_archive, settings):
    """Return the WSGI application over the scanned sample archive, reports built inline."""
    settings.PROVENA_BACKGROUND_REPORTS = False
    return get_wsgi_application()


@pytest.mark.parametrize("role", ["administrator", "auditor"])
def test_the_api_keeps_to_its_schema_and_never_fails_with_a_server_error(
    role: str, role_users: dict, api_app
) -> None:
    schema = schemathesis.openapi.from_dict(_openapi())
    _token, key = api_token_issue(user=role_users[role])
    headers = {"Authorization": f"Token {key}"}
    seeds = _seeded_ids(role_users)
    failures: list[str] = []
    operations = 0
    with _requests_in_this_transaction():
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for _mode, strategy, checks in _strategies(operation, seeds):
                cache.clear()  # the per-user rate limit counts every generated request
                failures += _fuzz(operation, strategy, checks, headers, api_app)

    assert operations > 30
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(dict.fromkeys(failures))


# --- what fuzzing found, kept as plain regressions ----------------------------------------------

TOO_BIG = 2**70  # beyond any 64-bit database integer


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        # Path.expanduser() raised RuntimeError for a user with no home: a 500.
        ("post", "/api/sources/", {"root": "~no-such-user-here/photos"}),
        # Ids past 64 bits overflowed the "in" query: a 500.
        ("post", "/api/remediation/tasks/bulk/", {"action": "waive", "tasks": [TOO_BIG]}),
        ("post", "/api/assets/{asset}/split/", {"renditions": [TOO_BIG], "reason": "r"}),
    ],
)
def test_requests_that_once_failed_with_a_server_error_are_refused(
    method: str, url: str, body: dict, client, role_users, scanned_archive
) -> None:
    client.force_login(role_users["administrator"])
    asset = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")

    response = getattr(client, method)(
        url.format(asset=asset.rendition.asset_id), body, content_type="application/json"
    )

    assert response.status_code == 400, response.content


def test_a_copy_that_could_not_be_decoded_lists_no_rendition(
    client, role_users, scanned_archive
) -> None:
    # The schema said a copy always has a rendition; the copies of broken files have none.
    schema = _openapi()["components"]["schemas"]["Copy"]["properties"]["rendition"]
    client.force_login(role_users["auditor"])

    copies = client.get("/api/copies/", {"has_problem": "true"}).json()["results"]

    assert any(c["rendition"] is None for c in copies)
    assert {"type": "null"} in schema.get("oneOf", schema.get("anyOf", [])) or schema.get(
        "nullable"
    )
