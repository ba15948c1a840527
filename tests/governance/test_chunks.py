"""Tests for governance.chunks: the one way long lists are cut into bulk statements."""

from __future__ import annotations

import pytest

from governance.chunks import chunked


def test_chunks_keep_every_item_in_order_and_respect_the_size() -> None:
    items = list(range(2501))

    chunks = list(chunked(items, 1000))

    assert [len(c) for c in chunks] == [1000, 1000, 501]
    assert [i for c in chunks for i in c] == items


def test_an_empty_list_gives_no_chunks() -> None:
    assert list(chunked([], 10)) == []


def test_a_size_below_one_is_refused_with_the_size_named() -> None:
    with pytest.raises(ValueError, match="at least 1, not 0"):
        list(chunked([1, 2], 0))
