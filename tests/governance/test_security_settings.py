"""The web hardening in governance/settings.py: `check --deploy` is clean in production,
HTTPS, HSTS and secure cookies by default there, a Content-Security-Policy on every response
and templates that need no inline script, and login throttling on the login page and the API
token endpoint (docs/security.md)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import UserFactory

REPO = Path(__file__).resolve().parents[2]


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return an environment as an operator sets one: a strong key, a host name, no debug."""
    base = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE, set by the browser tests' fixture, fails check --deploy.
        if not k.startswith(("SECRET_KEY", "PROVENA_", "DJANGO_", "DATABASE_URL"))
    }
    return {
        **base,
        "PROVENA_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PROVENA_ALLOWED_HOSTS": "provena.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'provena.sqlite3'}",
        **extra,
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "X_FRAME_OPTIONS",
    "AXES_FAILURE_LIMIT",
]


def _settings_of(env: dict[str, str]) -> dict:
    code = (
        "import json, governance.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {_SETTINGS!r}}}))"
    )
    done = _run(env, "-c", code)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- production settings ----------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    done = _run(
        _production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_when_https_is_switched_off_in_production(tmp_path: Path) -> None:
    env = _production_env(tmp_path, PROVENA_SSL_REDIRECT="false", PROVENA_SECURE_COOKIES="false")

    done = _run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode != 0
    for check in ("security.W008", "security.W012", "security.W016"):
        assert check in done.stderr


def test_production_defaults_are_https_only(tmp_path: Path) -> None:
    values = _settings_of(_production_env(tmp_path))

    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "AXES_FAILURE_LIMIT": 5,
    }


def test_each_hardening_setting_can_be_set_from_the_environment(tmp_path: Path) -> None:
    env = _production_env(
        tmp_path,
        PROVENA_SSL_REDIRECT="false",
        PROVENA_HSTS_SECONDS="600",
        PROVENA_HSTS_INCLUDE_SUBDOMAINS="false",
        PROVENA_HSTS_PRELOAD="false",
        PROVENA_SECURE_COOKIES="false",
        PROVENA_LOGIN_FAILURE_LIMIT="3",
    )

    values = _settings_of(env)

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is False
    assert values["AXES_FAILURE_LIMIT"] == 3


def test_debugging_switches_the_https_requirements_off(tmp_path: Path) -> None:
    values = _settings_of(_production_env(tmp_path, PROVENA_DEBUG="1"))

    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False


def test_plain_http_is_redirected_to_https_and_https_carries_hsts(client: Client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True

    plain = client.get("/login/")
    secure = client.get("/login/", secure=True)

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


# --- Content-Security-Policy ------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", ["/login/", "/api/schema/", "/static/provena/provena.css"])
def test_every_response_carries_the_content_security_policy(client: Client, url: str) -> None:
    response = client.get(url)

    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_the_api_docs_load_their_start_up_script_from_a_url_not_inline(
    client: Client, role_users
) -> None:
    client.force_login(role_users["auditor"])

    page = client.get("/api/docs/")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    # Swagger UI adds <style> elements as it renders; scripts stay this site's own files.
    assert _policy(page)["script-src"] == ["'self'"]
    assert _policy(page)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


_INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on... event attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_page_template_needs_inline_script_or_style_elements() -> None:
    # PDF layouts (templates/reports/pdf) are rendered by WeasyPrint, not by a browser.
    templates = [
        path
        for path in (REPO / "templates").rglob("*.html")
        if "pdf" not in path.relative_to(REPO / "templates").parts
    ]
    found = [
        f"{path.relative_to(REPO)}: {what}"
        for path in templates
        for pattern, what in _INLINE
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert templates
    assert not found, "the Content-Security-Policy would block these; use static files: " + str(
        found
    )


# --- login throttling ---------------------------------------------------------------------------


@pytest.fixture
def ann(db, settings):
    settings.AXES_ENABLED = True  # off for the rest of the suite (tests/conftest.py)
    return UserFactory(username="ann", department=None)


def _login(client: Client, password: str, address: str = "192.0.2.10", username: str = "ann"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_login_page_locks_a_user_name_after_repeated_failures(client: Client, ann) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT
    failures = [_login(client, "wrong").status_code for _ in range(limit - 1)]

    locked = _login(client, "wrong")
    right_password = _login(client, "test-password")

    assert failures == [200] * (limit - 1)  # the form again, with its error
    assert locked.status_code == right_password.status_code == 429
    assert "Too many failed logins for this user name from this address" in right_password.text
    assert right_password["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_a_lockout_holds_one_user_name_at_one_address_only(client: Client, ann) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")

    elsewhere = _login(Client(), "test-password", address="198.51.100.7")
    other_user = UserFactory(username="bea", department=None)
    other_name = _login(Client(), "test-password", username=other_user.username)

    assert elsewhere.status_code == 302
    assert other_name.status_code == 302


def test_a_successful_login_clears_the_failures(client: Client, ann) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        _login(client, "wrong")
    assert _login(client, "test-password").status_code == 302
    client.logout()

    again = [_login(client, "wrong").status_code for _ in range(limit - 1)]

    assert again == [200] * (limit - 1)


def test_the_api_token_endpoint_is_throttled_like_the_login_page(client: Client, ann) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT

    def token(password: str):
        return client.post(
            "/api/token/", {"username": "ann", "password": password}, REMOTE_ADDR="192.0.2.10"
        )

    failures = [token("wrong").status_code for _ in range(limit - 1)]
    locked = token("wrong")
    right_password = token("test-password")

    assert failures == [400] * (limit - 1)
    assert locked.status_code == right_password.status_code == 429
    assert right_password.json()["detail"].startswith("Too many failed logins")
    assert "token" not in right_password.json()


def test_failures_on_the_login_page_count_for_the_token_endpoint_too(client: Client, ann) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")

    token = client.post(
        "/api/token/", {"username": "ann", "password": "test-password"}, REMOTE_ADDR="192.0.2.10"
    )

    assert token.status_code == 429


def test_a_session_lasts_a_working_day() -> None:
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600
