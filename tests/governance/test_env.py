"""Tests for governance.env: settings read from the environment fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.env import env_bool, env_float, env_int, env_list, env_paths, env_str

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("PROVENA_TEST_FLAG", raw)

    assert env_bool("PROVENA_TEST_FLAG", not expected) is expected


def test_env_bool_returns_the_default_when_unset(monkeypatch) -> None:
    monkeypatch.delenv("PROVENA_TEST_FLAG", raising=False)

    assert env_bool("PROVENA_TEST_FLAG", True) is True
    assert env_bool("PROVENA_TEST_FLAG", False) is False


def test_env_bool_refuses_a_value_that_is_not_a_boolean(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured) as caught:
        env_bool("PROVENA_TEST_FLAG", False)

    message = str(caught.value)
    assert "PROVENA_TEST_FLAG" in message
    assert "'maybe'" in message
    assert "true or false" in message


def test_env_int_reads_whole_numbers_with_underscores(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_COUNT", "178_956_970")

    assert env_int("PROVENA_TEST_COUNT", 1) == 178_956_970


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_env_int_returns_the_default_when_unset_or_blank(monkeypatch, raw: str | None) -> None:
    if raw is None:
        monkeypatch.delenv("PROVENA_TEST_COUNT", raising=False)
    else:
        monkeypatch.setenv("PROVENA_TEST_COUNT", raw)

    assert env_int("PROVENA_TEST_COUNT", 64, minimum=1) == 64


@pytest.mark.parametrize("raw", ["ten", "1.5", "12 MB"])
def test_env_int_refuses_a_value_that_is_not_a_whole_number(monkeypatch, raw: str) -> None:
    monkeypatch.setenv("PROVENA_TEST_COUNT", raw)

    with pytest.raises(ImproperlyConfigured, match=r"PROVENA_TEST_COUNT=.* is not a whole number"):
        env_int("PROVENA_TEST_COUNT", 1)


def test_env_int_refuses_a_value_below_the_minimum(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_COUNT", "0")

    with pytest.raises(ImproperlyConfigured, match="PROVENA_TEST_COUNT=0 must be at least 1"):
        env_int("PROVENA_TEST_COUNT", 5, minimum=1)


def test_env_float_refuses_a_value_that_is_not_a_number(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_COST", "cheap")

    with pytest.raises(ImproperlyConfigured, match="PROVENA_TEST_COST='cheap' is not a number"):
        env_float("PROVENA_TEST_COST", 0.25)


def test_env_float_reads_a_decimal(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_COST", "0.5")

    assert env_float("PROVENA_TEST_COST", 0.25) == 0.5


def test_env_paths_reads_a_colon_separated_list_of_absolute_paths(
    monkeypatch, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("PROVENA_TEST_ROOTS", f"{first}::{second}/../b:")

    assert env_paths("PROVENA_TEST_ROOTS") == [first.resolve(), second.resolve()]


def test_env_paths_is_empty_when_unset(monkeypatch) -> None:
    monkeypatch.delenv("PROVENA_TEST_ROOTS", raising=False)

    assert env_paths("PROVENA_TEST_ROOTS") == []


def test_env_paths_refuses_a_relative_path_and_names_it(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_ROOTS", "/data:photos/2024")

    with pytest.raises(ImproperlyConfigured) as caught:
        env_paths("PROVENA_TEST_ROOTS")

    message = str(caught.value)
    assert "PROVENA_TEST_ROOTS" in message
    assert "'photos/2024'" in message
    assert "not an absolute path" in message


def test_env_str_returns_the_value_or_the_default(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_NAME", "Leisure and Cultural Services")
    monkeypatch.delenv("PROVENA_TEST_NAME_FILE", raising=False)
    monkeypatch.delenv("PROVENA_TEST_OTHER", raising=False)
    monkeypatch.delenv("PROVENA_TEST_OTHER_FILE", raising=False)

    assert env_str("PROVENA_TEST_NAME") == "Leisure and Cultural Services"
    assert env_str("PROVENA_TEST_OTHER", "fallback") == "fallback"
    assert env_str("PROVENA_TEST_OTHER") is None


def test_env_str_reads_the_file_named_by_the_file_variable(monkeypatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("  s3cret-from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("PROVENA_TEST_SECRET", "from-the-environment")
    monkeypatch.setenv("PROVENA_TEST_SECRET_FILE", str(secret))

    # The file wins, stripped of the newline editors and `echo` leave behind.
    assert env_str("PROVENA_TEST_SECRET") == "s3cret-from-a-file"


def test_env_str_refuses_a_file_variable_naming_a_missing_file(monkeypatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "secret_key"
    monkeypatch.setenv("PROVENA_TEST_SECRET_FILE", str(missing))

    with pytest.raises(ImproperlyConfigured) as caught:
        env_str("PROVENA_TEST_SECRET")

    message = str(caught.value)
    assert f"PROVENA_TEST_SECRET_FILE={missing}" in message
    assert "cannot be read" in message


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch) -> None:
    monkeypatch.setenv("PROVENA_TEST_HOSTS", " provena.example.org, ,localhost,")

    assert env_list("PROVENA_TEST_HOSTS") == ["provena.example.org", "localhost"]


def _settings_in_subprocess(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly this environment."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "PROVENA_", "DJANGO_SETTINGS"))
    }
    code = f"import governance.settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_read_secret_key_from_secret_key_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("key-from-a-mounted-secret\n", encoding="utf-8")

    result = _settings_in_subprocess({"SECRET_KEY_FILE": str(secret)}, "s.SECRET_KEY")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "key-from-a-mounted-secret"


def test_the_web_server_refuses_to_start_without_a_secret_key_outside_debug() -> None:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "PROVENA_", "DJANGO_SETTINGS"))
    }
    result = subprocess.run(
        [sys.executable, "-c", "import governance.wsgi"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY is not set" in result.stderr


def test_check_deploy_reports_a_missing_secret_key() -> None:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "PROVENA_", "DJANGO_SETTINGS"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "provena.E001" in result.stderr


def test_makemigrations_runs_without_a_secret_key() -> None:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "PROVENA_", "DJANGO_SETTINGS"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_settings_refuse_to_load_with_a_bad_boolean_and_name_the_variable() -> None:
    result = _settings_in_subprocess({"SECRET_KEY": "x", "PROVENA_DEBUG": "sometimes"}, "s.DEBUG")

    assert result.returncode != 0
    assert "PROVENA_DEBUG='sometimes' is not a boolean" in result.stderr


def test_settings_read_allowed_roots_from_the_environment(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"SECRET_KEY": "x", "PROVENA_ALLOWED_ROOTS": f"{tmp_path}:/srv/images"},
        "':'.join(str(p) for p in s.PROVENA_ALLOWED_ROOTS)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tmp_path.resolve()}:/srv/images"


def test_settings_read_the_master_rule_and_refuse_an_unknown_criterion() -> None:
    result = _settings_in_subprocess(
        {"SECRET_KEY": "x", "PROVENA_MASTER_RULE": "largest_area, oldest_file"},
        "','.join(s.PROVENA_MASTER_RULE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "largest_area,oldest_file"

    refused = _settings_in_subprocess(
        {"SECRET_KEY": "x", "PROVENA_MASTER_RULE": "newest_file"}, "s.PROVENA_MASTER_RULE"
    )
    assert refused.returncode != 0
    assert "PROVENA_MASTER_RULE: unknown criteria newest_file; choose from" in refused.stderr
