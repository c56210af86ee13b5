"""Find the lines of a file that are new since another file, and the lines gone.

Two nights of a file mostly repeat each other in the same order. The lines are
first walked side by side, with runs of equal lines compared in C, so only the
places where they differ cost Python work. Lines that moved are then matched
by their text. A file whose order changed throughout is compared with set
operations instead, which cost more per line but do not depend on order.

A line counts as unchanged only when an equal line of the other file is
matched to it, one to one. Two equal lines that the walk fails to pair come
back as one new line and one gone line, which costs a parse but no accuracy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import compress, count, islice
from operator import ne

# How far ahead of a difference the walk looks for the line it stopped at.
WINDOW = 64

# The walk gives up, for set operations, when more lines than this share
# differ once it has seen ``MIN_LINES_SEEN`` lines.
MAX_DIFFERING_SHARE = 0.25
MIN_LINES_SEEN = 4_000

BLANK_LINES = frozenset({"", "\r"})

Changes = tuple[list[int], list[int]]


def changed_lines(new: list[str], old: list[str]) -> Changes | None:
    """Return the indexes of the new lines and of the old lines gone.

    ``None`` means a line other than a blank one repeats in the new file while
    its order changed throughout, which a whole read reports as a repeated row.
    """
    walked = _walk(new, old)
    if walked is not None:
        return _match_moved(new, old, *walked)
    return _toggle(new, old)


def _skip(iterator: Iterator[str], steps: int) -> None:
    next(islice(iterator, steps, steps), None)


def _find(lines: list[str], line: str, start: int) -> int:
    try:
        return lines.index(line, start, start + WINDOW)
    except ValueError:
        return -1


def _walk(new: list[str], old: list[str]) -> Changes | None:
    """Pair equal lines in order; return the indexes left unpaired in each file."""
    new_count, old_count = len(new), len(old)
    new_iter, old_iter = iter(new), iter(old)
    i = j = 0
    new_left: list[int] = []
    old_left: list[int] = []
    while True:
        # The index of the first unequal pair, found in C. Both iterators stop
        # just past that pair.
        offset = next(compress(count(), map(ne, new_iter, old_iter)), None)
        if offset is None:
            run = min(new_count - i, old_count - j)
            i, j = i + run, j + run
            break
        i, j = i + offset, j + offset
        if i > MIN_LINES_SEEN and len(new_left) > MAX_DIFFERING_SHARE * i:
            return None
        later_new = _find(new, old[j], i + 1)
        later_old = _find(old, new[i], j + 1)
        if later_new >= 0 and (later_old < 0 or later_new - i <= later_old - j):
            # Lines were added before old line j, which pairs with later_new.
            new_left.extend(range(i, later_new))
            _skip(new_iter, later_new - i)
            i, j = later_new + 1, j + 1
        elif later_old >= 0:
            # Old lines up to later_old are gone; new line i pairs with it.
            old_left.extend(range(j, later_old))
            _skip(old_iter, later_old - j)
            i, j = i + 1, later_old + 1
        else:
            new_left.append(i)
            old_left.append(j)
            i, j = i + 1, j + 1
    new_left.extend(range(i, new_count))
    old_left.extend(range(j, old_count))
    return new_left, old_left


def _match_moved(
    new: list[str], old: list[str], new_left: list[int], old_left: list[int]
) -> Changes:
    """Pair unpaired lines of equal text, one to one, wherever they are."""
    unpaired = Counter(map(old.__getitem__, old_left))
    added = []
    for index in new_left:
        line = new[index]
        left = unpaired.get(line, 0)
        if left:
            unpaired[line] = left - 1
        else:
            added.append(index)
    gone = []
    for index in old_left:
        line = old[index]
        left = unpaired.get(line, 0)
        if left:
            gone.append(index)
            unpaired[line] = left - 1
    return added, gone


def _toggle(new: list[str], old: list[str]) -> Changes | None:
    """Compare two files with set operations, in any order."""
    # A string caches its hash, so each line is hashed once. The symmetric
    # difference leaves the lines of one file only.
    toggled = set(old)
    old_distinct = len(toggled) - len(BLANK_LINES & toggled)
    toggled.symmetric_difference_update(new)
    # The set keeps its grown table after removals; a copy is small enough
    # for the lookups below to stay in the processor's cache.
    toggled = set(toggled)
    in_one_file = toggled.__contains__
    added = list(compress(range(len(new)), map(in_one_file, new)))
    gone = list(compress(range(len(old)), map(in_one_file, old)))

    # A line left out is in both files. It is one unchanged line only if it
    # appears once in the new file. Then the count of lines left out equals
    # the count of old lines still present, and a line seen twice makes it
    # larger. Repeats of a line the old file lacks are all kept as new lines,
    # so the parse reports their repeated key.
    blank_kept = sum(new.count(blank) for blank in BLANK_LINES - toggled)
    kept = len(new) - len(added) - blank_kept
    gone_lines = {old[index] for index in gone}
    if kept != old_distinct - len(gone_lines - BLANK_LINES):
        return None
    return added, gone
