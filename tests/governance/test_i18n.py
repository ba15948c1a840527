"""English and Traditional Chinese: the catalogues, the glossary, the language switch."""

from __future__ import annotations

import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.LOCALE_PATHS[0])
ZH = LOCALE / "zh_Hant/LC_MESSAGES/django.po"
EN = LOCALE / "en/LC_MESSAGES/django.po"
GLOSSARY = Path(settings.BASE_DIR) / "docs/glossary-zh.md"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def _zh_catalogue(tmp_path: Path) -> dict:
    """Return the Chinese catalogue as msgfmt compiles it (no fuzzy or empty entries)."""
    mo = tmp_path / "zh.mo"
    compiled = _run("msgfmt", "--check-format", "-o", str(mo), str(ZH))
    assert compiled.returncode == 0, compiled.stderr
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]


def test_every_english_msgid_has_a_chinese_translation() -> None:
    # msgcmp: every msgid of the English catalogue is translated in the Chinese one.
    covered = _run("msgcmp", str(ZH), str(EN))
    assert covered.returncode == 0, covered.stderr
    # and the two catalogues list the same msgids (neither is stale against the other).
    same = _run("msgcmp", "--use-untranslated", str(EN), str(ZH))
    assert same.returncode == 0, same.stderr


def test_no_chinese_translation_is_empty_or_fuzzy() -> None:
    untranslated = _run("msgattrib", "--untranslated", "--no-obsolete", str(ZH))
    fuzzy = _run("msgattrib", "--only-fuzzy", "--no-obsolete", str(ZH))
    # msgattrib prints nothing at all when no entry qualifies (the header is not an entry).
    assert "msgid" not in untranslated.stdout.replace('msgid ""\nmsgstr ""', "", 1)
    assert fuzzy.stdout.strip() == ""


def test_chinese_translations_keep_every_placeholder(tmp_path: Path) -> None:
    catalogue = _zh_catalogue(tmp_path)
    placeholder = re.compile(r"%\([a-z_0-9]+\)[sd]")
    for msgid, msgstr in catalogue.items():
        text = msgid[0] if isinstance(msgid, tuple) else msgid
        if not text:
            continue
        assert msgstr.strip(), f"empty translation of {text!r}"
        assert set(placeholder.findall(text)) <= set(placeholder.findall(msgstr)), text


def _glossary_rows() -> list[tuple[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| ([a-z][a-z -]+) \| (\S+) \| .*\|$", line)
        if match:
            rows.append((match.group(1).strip(), match.group(2)))
    return rows


def test_glossary_terms_have_one_chinese_term_throughout(tmp_path: Path) -> None:
    rows = _glossary_rows()
    assert len(rows) >= 20, "docs/glossary-zh.md lost its table"
    catalogue = _zh_catalogue(tmp_path)
    problems = []
    for english, chinese in rows:
        word = re.compile(r"\b" + re.escape(english) + r"(s|es|ies|y)?\b", re.IGNORECASE)
        for msgid, msgstr in catalogue.items():
            text = msgid[0] if isinstance(msgid, tuple) else msgid
            if word.search(text) and chinese not in msgstr:
                problems.append(f"{english} -> {chinese}: {text!r} is {msgstr!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_pages_are_english_by_default(client: Client, role_users) -> None:
    client.force_login(role_users["compliance"])
    page = client.get("/").content.decode()
    assert "Inventory overview" in page
    assert '<html lang="en">' in page
    assert "繁體中文" in page  # the switch offers the other language


@pytest.mark.django_db
def test_language_switch_is_remembered_on_the_user(client: Client, role_users) -> None:
    user = role_users["legal"]
    client.force_login(user)
    switched = client.post("/account/language/", {"language": "zh-hant", "next": "/privacy/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/privacy/"
    user.refresh_from_db()
    assert user.language == "zh-hant"
    # A new session (another browser, no cookie) still gets the user's language.
    other = Client()
    other.force_login(user)
    page = other.get("/").content.decode()
    assert "庫存總覽" in page
    assert "Inventory overview" not in page
    assert '<html lang="zh-Hant-HK">' in page
    assert "法律審閱人" in page  # the role, in the header


@pytest.mark.django_db
def test_browser_language_chooses_chinese_before_login(client: Client) -> None:
    page = client.get("/login/", headers={"accept-language": "zh-HK,zh;q=0.9"}).content.decode()
    assert "用戶名稱" in page


@pytest.mark.django_db
def test_unknown_language_is_refused_with_a_reason(client: Client, role_users) -> None:
    client.force_login(role_users["auditor"])
    refused = client.post("/account/language/", {"language": "klingon"})
    assert refused.status_code == 400
    assert "unknown language klingon" in refused.content.decode()


@pytest.mark.django_db
def test_switch_never_redirects_off_the_site(client: Client, role_users) -> None:
    client.force_login(role_users["auditor"])
    switched = client.post(
        "/account/language/", {"language": "en-gb", "next": "https://evil.example/"}
    )
    assert switched["Location"] == "/"
