"""Clearing the near-duplicate review queue in the browser."""

from __future__ import annotations

import re

import pytest

from inventory.models import Copy, Match, MatchDecision
from inventory.selectors.review import review_queue
from tests.browser.helpers import expect, log_in
from tests.inventory.scan_helpers import scan_folder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# A bound on the loop that clears the queue: the sample archive proposes fewer matches.
MAX_MATCHES = 12


@pytest.fixture
def lcsd_archive(sample_archive, role_users) -> None:
    """Scan the whole sample archive as LCSD's, so LCSD's compliance officer sees every copy."""
    for root in sample_archive.values():
        scan_folder(root, department="LCSD")


def match_on(page) -> Match:
    """Return the match whose review page is open."""
    found = re.search(r"/review/(\d+)/$", page.url)
    assert found, f"not on a match's review page: {page.url}"
    return Match.objects.get(pk=int(found.group(1)))


def images_loaded(page) -> bool:
    """Wait until both compared images settle; say whether both arrived and decoded."""
    page.wait_for_function(
        "() => ['#img-a', '#img-b'].every(s => document.querySelector(s)?.complete ?? true)"
    )
    return page.evaluate(
        "() => ['#img-a', '#img-b'].every(s => {"
        " const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; })"
    )


def decide(page, *, verdict: str, reason: str) -> None:
    page.get_by_label(verdict).check()
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state("load")


def test_compliance_officer_clears_the_review_queue(page, shot, lcsd_archive, role_users) -> None:
    compliance = role_users["compliance"]
    queued = review_queue(user=compliance).count()
    assert 2 <= queued <= MAX_MATCHES
    log_in(page, "compliance")

    page.locator("header.top").get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Near-duplicate review")).to_be_visible()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(queued)
    shot(page, "queue")

    rows.first.get_by_role("link", name="Review →").click()
    first = match_on(page)
    assert first == review_queue(user=compliance).first()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Is this one photograph?")
    assert images_loaded(page)
    metadata = page.locator("table", has=page.get_by_role("columnheader", name="Field"))
    expect(metadata.locator("tbody tr").first).to_contain_text("format")
    expect(metadata).to_contain_text("dimensions")
    shot(page, "first-match")

    # A decision without a reason is refused, and the page says why.
    page.get_by_label("Same photograph").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("form.decision .error")).to_contain_text("say why")
    assert match_on(page) == first
    shot(page, "reason-missing")

    confirm_reason = "Same scene, framing and grain; the right one is a re-export."
    decide(page, verdict="Same photograph", reason=confirm_reason)
    expect(page.locator(".messages .success")).to_contain_text("Decision recorded")
    second = match_on(page)
    assert second != first
    shot(page, "second-match")

    reject_reason = "Different photographs: the crowd and the lighting differ."
    decide(page, verdict="Different photographs", reason=reject_reason)
    expect(page.locator(".messages .success")).to_contain_text("Decision recorded")
    shot(page, "after-rejection")

    decided = 2
    while re.search(r"/review/\d+/$", page.url) and decided <= MAX_MATCHES:
        decide(page, verdict="Same photograph", reason="Verified side by side.")
        decided += 1
    assert re.search(r"/review/$", page.url), f"the queue did not empty: {page.url}"
    assert decided == queued
    expect(page.locator("main table tbody")).to_have_text("Nothing to review.")
    shot(page, "queue-empty")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Match.Status.CONFIRMED, Match.Status.REJECTED)
    assert second.rendition_a.asset_id != second.rendition_b.asset_id
    assert not review_queue(user=compliance).exists()

    # The confirmed pair is one group, and the derived copy shows the confirmed relation.
    derived = Copy.objects.filter(rendition=first.rendition_b).first()
    asset_id = first.rendition_a.asset_id
    assert asset_id == first.rendition_b.asset_id
    page.locator("header.top").get_by_role("link", name="Duplicates").click()
    shot(page, "groups")
    page.locator(f'a.group[href="/groups/{asset_id}/"]').click()
    member = page.locator("tr", has=page.locator("td.path", has_text=derived.path))
    expect(member.locator("td").first).to_have_text(first.relation)
    shot(page, "group")

    # The decision history: who decided what, and why.
    page.goto("/review/?status=confirmed")
    shot(page, "confirmed-list")
    page.locator(f'a[href="/review/{first.pk}/"]').click()
    history = page.locator("table", has=page.get_by_role("columnheader", name="Who"))
    entry = history.locator("tbody tr")
    expect(entry).to_have_count(1)
    expect(entry.locator("td").nth(1)).to_have_text("compliance")
    expect(entry.locator("td").nth(2)).to_have_text("same photograph")
    expect(entry.locator("td").nth(4)).to_have_text(confirm_reason)
    shot(page, "confirmed-history")

    page.goto(f"/review/?status={Match.Status.REJECTED}")
    page.locator(f'a[href="/review/{second.pk}/"]').click()
    entry = page.locator("table", has=page.get_by_role("columnheader", name="Who")).locator(
        "tbody tr"
    )
    expect(entry.locator("td").nth(1)).to_have_text("compliance")
    expect(entry.locator("td").nth(2)).to_have_text("different photographs")
    expect(entry.locator("td").nth(4)).to_have_text(reject_reason)
    shot(page, "rejected-history")
    assert MatchDecision.objects.filter(decided_by=compliance).count() == queued


def test_every_queued_match_shows_both_images(page, shot, scanned_archive, role_users) -> None:
    # A department's officer is never asked about a pair half in another department...
    for match in review_queue(user=role_users["compliance"]):
        sides = {match.rendition_a_id, match.rendition_b_id}
        visible = set(
            Copy.objects.filter(source__name="film_archive").values_list("rendition_id", flat=True)
        )
        assert sides <= visible
    # ...and an organisation-wide reader sees both images of every queued pair.
    queue = list(review_queue(user=role_users["auditor"]))
    assert queue
    log_in(page, "auditor")
    page.goto("/review/")
    shot(page, "queue")

    missing = []
    for match in queue:
        page.goto(f"/review/{match.pk}/")
        if not images_loaded(page):
            shot(page, f"match-{match.pk}-image-missing")
            missing.append(match.pk)

    assert missing == []
