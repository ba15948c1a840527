"""The one vocabulary of relations: every code used anywhere is defined once, with its words."""

from __future__ import annotations

from inventory.models import Match
from inventory.pairs import verification
from inventory.pairs.relations import (
    COPY_RELATIONS,
    MATCH_RELATIONS,
    RELATIONS,
    relation_explanation,
    relation_label,
    relation_sentence,
)
from inventory.sample_edits import EDITS


def test_the_model_and_the_verifier_take_their_relations_from_the_vocabulary() -> None:
    assert Match.RELATIONS == verification.RELATIONS == MATCH_RELATIONS
    assert set(COPY_RELATIONS) == {"exact_copy", "same_pixels"}
    assert len({r.code for r in RELATIONS}) == len(RELATIONS)


def test_every_relation_has_a_tier_a_label_and_an_explanation() -> None:
    for relation in RELATIONS:
        assert relation.tier in {"certain", "probable", "possible"}
        assert relation_label(relation.code) and relation_label(relation.code) != relation.code
        assert relation_explanation(relation.code).endswith(".")


def test_every_sample_edit_names_a_relation_of_the_vocabulary() -> None:
    codes = {r.code for r in RELATIONS}
    assert {edit.relation for edit in EDITS} <= codes


def test_a_crop_reads_as_a_crop_of_the_original() -> None:
    assert relation_sentence("cropped", "right", "left") == "the right is a crop of the left"
    assert relation_label("master") == "master"
    assert relation_label("unknown_code") == "unknown code"
