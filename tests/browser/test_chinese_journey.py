"""A journey in Traditional Chinese for each role: no page shows an untranslated string.

Each role logs in through the real form, switches the header to 繁體中文 and walks every page
it may open. The visible text (what Playwright's innerText returns) is compared against the
English catalogue: a text segment that is an English msgid, or holds the words of a longer
one, is a string that reached the page untranslated.
"""

from __future__ import annotations

import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser.helpers import PASSWORD, expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ZH_PO = Path(settings.LOCALE_PATHS[0]) / "zh_Hant/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%%")
# Pages every role opens, then the ones its permissions add.
COMMON = ["/", "/sources/", "/scans/", "/copies/", "/groups/", "/errors/", "/review/",
          "/audit/", "/reports/", "/reports/verify/", "/account/tokens/"]  # fmt: skip
BY_PERMISSION = {
    "inventory.view_asset": ["/assets/"],
    "inventory.change_asset": ["/assets/import/"],
    "inventory.view_licence": ["/licences/", "/licences/exposures/"],
    "privacy.view_privacycase": ["/privacy/", "/privacy/consents/", "/privacy/views/"],
    "privacy.view_dataaccessrequest": ["/privacy/requests/", "/privacy/requests/refusals/"],
    "remediation.view_remediationtask": ["/remediation/", "/remediation/tasks/"],
    "remediation.view_quarantineentry": ["/remediation/quarantine/"],
}


def _english_strings(tmp_path: Path) -> tuple[set[str], list[str]]:
    """Return (whole msgids to look for as segments, long literal pieces to look for inside)."""
    mo = tmp_path / "zh.mo"
    subprocess.run(["msgfmt", "-o", str(mo), str(ZH_PO)], check=True)
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    whole: set[str] = set()
    pieces: list[str] = []
    for msgid, msgstr in catalogue.items():
        text = msgid[0] if isinstance(msgid, tuple) else msgid
        # Strings that read the same in both languages (Provena, API, SHA-256) are not leaks.
        if not text or text == msgstr or not re.search(r"[A-Za-z]{3}", text):
            continue
        for piece in PLACEHOLDER.split(text):
            piece = " ".join(piece.split()).strip(" ·,.:;()←→")
            if len(piece) >= 18 and re.search(r"[a-z]{3} [a-z]{2,}", piece):
                pieces.append(piece)
        if not PLACEHOLDER.search(text):
            whole.add(" ".join(text.split()).strip(" ·,.:;"))
    return whole, pieces


def _leaks(text: str, whole: set[str], pieces: list[str]) -> list[str]:
    found = []
    flat = " ".join(text.split())
    for segment in re.split(r"[\n\t]+", text):
        segment = " ".join(segment.split()).strip(" ·,.:;")
        if segment in whole:
            found.append(segment)
    found.extend(piece for piece in pieces if piece in flat)
    return sorted(set(found))


DETAIL_LINKS = (r"^/sources/[\w-]+/$", r"^/scans/\d+/$", r"^/copies/\d+/$", r"^/groups/\d+/$",
                r"^/assets/\d+/$", r"^/review/\d+/$", r"^/privacy/cases/\d+/$",
                r"^/remediation/tasks/\d+/$")  # fmt: skip


def _first_detail_links(page, url: str) -> set[str]:
    """Return the first link to a detail page of the list at url (/scans/ -> /scans/7/)."""
    if url == "/":
        return set()
    hrefs = page.eval_on_selector_all(
        "main a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    found = set()
    for pattern in DETAIL_LINKS:
        match = next((h for h in hrefs if re.match(pattern, h or "") and h.startswith(url)), None)
        if match:
            found.add(match)
    return found


@pytest.mark.parametrize(
    "username", ["compliance", "legal", "manager", "auditor", "administrator", "newsdesk"]
)
def test_each_role_sees_no_untranslated_string_in_chinese(
    page, shot, scanned_archive, role_users, tmp_path, username: str
) -> None:
    user = next(u for u in role_users.values() if u.username == username)
    whole, pieces = _english_strings(tmp_path)
    # User names are data, not interface text, even when one reads "manager".
    whole -= {u.username for u in role_users.values()}
    assert len(whole) > 300 and len(pieces) > 200, "the English catalogue did not load"

    log_in(page, username)
    page.get_by_role("button", name="繁體中文").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="庫存總覽")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-Hant-HK"
    user.refresh_from_db()
    assert user.language == "zh-hant"

    urls = list(COMMON)
    for permission, extra in BY_PERMISSION.items():
        if user.has_perm(permission):
            urls.extend(extra)
    problems = {}
    seen: set[str] = set()
    while urls:
        url = urls.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        assert response is not None and response.status < 400, f"{url}: {response}"
        urls.extend(sorted(_first_detail_links(page, url) - seen))
        leaks = _leaks(page.inner_text("body"), whole, pieces)
        if leaks:
            problems[url] = leaks
            shot(page, re.sub(r"\W+", "-", url).strip("-") or "home")
    assert len(seen) >= len(COMMON) + 4, sorted(seen)  # detail pages were reached too
    assert not problems, "\n".join(f"{url}: {leaks}" for url, leaks in problems.items())
    # The language stays: the login page after logging out is in Chinese, and so is the
    # user's next session.
    page.get_by_role("button", name="登出").click()
    page.goto("/login/")
    page.get_by_label("用戶名稱").fill(username)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("heading", name="庫存總覽")).to_be_visible()
