"""Which lines of a file are new since another file, and which are gone."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.imports import lines
from backend.imports.lines import changed_lines
from tests.fuzzcount import count_example


def unchanged(all_lines: list[str], changed: list[int]) -> Counter[str]:
    """Count the lines that are not in ``changed``, by text."""
    skipped = set(changed)
    return Counter(line for i, line in enumerate(all_lines) if i not in skipped)


def check_pairing(new: list[str], old: list[str], added: list[int], gone: list[int]):
    assert len(set(added)) == len(added)
    assert len(set(gone)) == len(gone)
    assert all(0 <= i < len(new) for i in added)
    assert all(0 <= i < len(old) for i in gone)
    # What stays on each side is the same lines, one to one.
    assert unchanged(new, added) == unchanged(old, gone)


texts = st.sampled_from(["a,1", "b,2", "c,3", "d,4", "e,5", "", "\r", " ", ",,"])


@settings(max_examples=600, deadline=None)
@given(old=st.lists(texts, max_size=30), new=st.lists(texts, max_size=30))
def test_any_two_files_pair_one_to_one(old: list[str], new: list[str]) -> None:
    count_example("imports: line pairing of two files")
    result = changed_lines(new, old)
    assert result is not None
    check_pairing(new, old, *result)


@settings(max_examples=300, deadline=None)
@given(old=st.lists(texts, max_size=30), new=st.lists(texts, max_size=30))
def test_set_comparison_finds_lines_of_one_file(old: list[str], new: list[str]) -> None:
    count_example("imports: line pairing with set operations")
    result = lines._toggle(new, old)
    repeated = [
        line
        for line, times in Counter(new).items()
        if times > 1 and line in old and line not in ("", "\r")
    ]
    if repeated:
        assert result is None
        return
    assert result is not None
    added, gone = result
    assert added == [i for i, line in enumerate(new) if line not in old]
    assert gone == [i for i, line in enumerate(old) if line not in new]


def night(size: int) -> list[str]:
    return ["Student ID,Course Code"] + [f"{n:06d},C{n % 97}" for n in range(size)]


def test_few_edits_in_order_are_found_exactly() -> None:
    old = night(20_000)
    new = list(old)
    new[10] = "000010,CHANGED"
    del new[500]
    new.insert(9_000, "999999,NEW")
    new.append("999998,NEW")
    added, gone = changed_lines(new, old)
    assert [new[i] for i in added] == ["000010,CHANGED", "999999,NEW", "999998,NEW"]
    assert [old[i] for i in gone] == ["000009,C9", "000499,C14"]


def test_shuffled_file_uses_sets_and_finds_edits() -> None:
    old = night(20_000)
    body = old[1:]
    random.Random(7).shuffle(body)
    body[3] = "999999,NEW"
    new = [old[0], *body]
    assert lines._walk(new, old) is None
    result = changed_lines(new, old)
    assert result is not None
    added, gone = result
    assert [new[i] for i in added] == ["999999,NEW"]
    assert len(gone) == 1
    check_pairing(new, old, added, gone)


def test_shuffled_file_with_repeated_line_is_reported() -> None:
    old = night(20_000)
    body = old[1:]
    random.Random(8).shuffle(body)
    body.append(body[0])
    assert changed_lines([old[0], *body], old) is None
