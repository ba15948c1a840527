"""The master rule in plain words: pages and reports state the rule in force, in its order."""

from __future__ import annotations

from inventory.master_rule import CRITERIA, DEFAULT_RULE, LABELS, describe_rule


def test_every_criterion_has_words_for_the_pages() -> None:
    assert set(LABELS) == set(CRITERIA)


def test_the_default_rule_reads_in_the_order_it_applies() -> None:
    words = describe_rule(DEFAULT_RULE)

    assert words.startswith("never a derivative while what it was made from is held; ")
    assert words.index("authoritative source") < words.index("original resolution")
    assert words.index("original resolution") < words.index("earliest capture")
    assert words.endswith("then source name and path")


def test_a_configured_rule_is_described_as_configured() -> None:
    assert describe_rule(["oldest_file", "largest_area"]) == (
        "never a derivative while what it was made from is held; the oldest file; "
        "the largest pixel area; then source name and path"
    )
