"""The changes of an import preview as a virtual table.

``ChangeRows`` indexes every added, changed, removed and replaced row of a
preview without formatting any. ``ChangeBackend`` is a textual-fastdatatable
backend that formats a row only when the table draws it, so the first paint
of a large preview costs the index and one screen of rows, not every row.

Colours are the 16 standard ANSI ones (green, yellow, red), and every row also
carries a ``+``, ``~`` or ``-`` mark, so the table reads without colour too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from rich.markup import escape
from rich.text import Text
from textual_fastdatatable import DataTableBackend

from backend.imports.service import Preview

Entry = tuple[str, str]
"""A change: its kind (added, changed, removed or replaced) and the row key."""

MARKS = {"added": "+", "changed": "~", "removed": "-", "replaced": "-"}
STYLES = {"added": "green", "changed": "yellow", "removed": "red", "replaced": "red"}
MAX_CELL = 60
SAMPLE_ROWS = 400
CACHED_ROWS = 2000


def _cell(value: str) -> str:
    if len(value) > MAX_CELL:
        value = value[: MAX_CELL - 1] + "…"
    return escape(value)


def _changed_cells(old: Sequence[str], new: Sequence[str]) -> list[str]:
    cells = []
    for before, after in zip(old, new, strict=False):
        if before == after:
            cells.append(_cell(after))
        else:
            shown_old = _cell(before) if before else "∅"
            shown_new = _cell(after) if after else "∅"
            cells.append(f"[red]{shown_old}[/] → [bold green]{shown_new}[/]")
    return cells


class ChangeRows:
    """Every change of a preview, in the order added, changed, removed, replaced."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        diff = preview.diff
        self.fields: tuple[str, ...] = diff.fields if diff is not None else ()
        key = preview.spec.key
        # A key that is one of the fields, such as a student's email, shows there.
        self.show_key = not (len(key) == 1 and key[0] in self.fields)
        self.entries: list[Entry] = []
        if diff is not None:
            self.entries += [("added", k) for k in diff.added]
            self.entries += [("changed", k) for k in diff.changed]
            self.entries += [("removed", k) for k in diff.removed]
            self.entries += [("replaced", k) for k in diff.replaced]
        self._texts: dict[Entry, str] | None = None

    @property
    def columns(self) -> list[str]:
        return [" ", *(["key"] if self.show_key else []), *self.fields]

    def values(self, entry: Entry) -> tuple[Sequence[str], Sequence[str] | None]:
        """Return the row's values and, for a changed row, its old values."""
        kind, key = entry
        preview = self.preview
        if kind == "added":
            return preview.parsed.rows[key], None
        if kind == "changed":
            new = preview.parsed.rows[key]
            return new, preview.old.get(key, new)
        if kind == "replaced":
            assert preview.diff is not None
            return preview.diff.replaced[key], None
        return preview.old.get(key, ()), None

    def cells(self, entry: Entry) -> list[str]:
        """Format one row as Rich markup, one string per column."""
        kind, key = entry
        style = STYLES[kind]
        new, old = self.values(entry)
        fields = _changed_cells(old, new) if old is not None else map(_cell, new)
        cells = [f"[bold {style}]{MARKS[kind]}[/]"]
        if self.show_key:
            cells.append(f"[{style}]{escape(key)}[/]")
        shown = list(fields)
        cells += shown + [""] * (len(self.fields) - len(shown))
        return cells

    def _search_texts(self) -> dict[Entry, str]:
        if self._texts is None:
            texts = {}
            for entry in self.entries:
                new, old = self.values(entry)
                texts[entry] = " ".join((entry[1], *new, *(old or ()))).lower()
            self._texts = texts
        return self._texts

    def select(self, change: str | None, search: str) -> list[Entry]:
        """Return the changes of one kind (None: all) whose text has ``search``.

        The first search builds the lower-case text of every row, so call this
        from a worker.
        """
        kinds = {"removed", "replaced"} if change == "removed" else {change}
        entries = [e for e in self.entries if change is None or e[0] in kinds]
        needle = search.strip().lower()
        if needle:
            texts = self._search_texts()
            entries = [e for e in entries if needle in texts[e]]
        return entries


class ChangeBackend(DataTableBackend[list[Entry]]):
    """A read-only fastdatatable backend that formats rows as they are drawn.

    Column widths come from a sample of rows (the first ones and some spread
    over the rest), so a wider value further down is cut to its column.
    """

    def __init__(self, rows: ChangeRows, entries: list[Entry]) -> None:
        self._render_markup = True
        self.rows = rows
        self.data = entries
        self._cache: OrderedDict[int, list[str]] = OrderedDict()
        self._widths = self._measure()

    def _measure(self) -> list[int]:
        count = len(self.data)
        step = max(1, count // SAMPLE_ROWS)
        sample = set(range(min(count, SAMPLE_ROWS))) | set(range(0, count, step))
        widths = [0] * len(self.rows.columns)
        for index in sample:
            for column, cell in enumerate(self.get_row_at(index)):
                widths[column] = max(widths[column], Text.from_markup(cell).cell_len)
        return widths

    @classmethod
    def from_pydict(
        cls,
        data: Any,
        max_rows: int | None = None,
        column_names: Sequence[str] | None = None,
    ) -> ChangeBackend:
        raise NotImplementedError("build a ChangeBackend from ChangeRows")

    @property
    def source_data(self) -> list[Entry]:
        return self.data

    @property
    def source_row_count(self) -> int:
        return len(self.data)

    @property
    def row_count(self) -> int:
        return len(self.data)

    @property
    def columns(self) -> Sequence[str]:
        return self.rows.columns

    @property
    def column_content_widths(self) -> Sequence[int]:
        return self._widths

    def get_row_at(self, index: int) -> Sequence[Any]:
        cells = self._cache.get(index)
        if cells is None:
            cells = self.rows.cells(self.data[index])
            self._cache[index] = cells
            if len(self._cache) > CACHED_ROWS:
                self._cache.popitem(last=False)
        return cells

    def get_column_at(self, index: int) -> Sequence[Any]:
        return [self.get_row_at(row)[index] for row in range(len(self.data))]

    def get_cell_at(self, row_index: int, column_index: int) -> Any:
        return self.get_row_at(row_index)[column_index]

    def append_column(self, label: str, default: Any | None = None) -> int:
        raise NotImplementedError("the change table is read-only")

    def append_rows(self, records: Iterable[Iterable[Any]]) -> list[int]:
        raise NotImplementedError("the change table is read-only")

    def drop_row(self, row_index: int) -> None:
        raise NotImplementedError("the change table is read-only")

    def update_cell(self, row_index: int, column_index: int, value: Any) -> None:
        raise NotImplementedError("the change table is read-only")

    def sort(
        self, by: list[tuple[str, Literal["ascending", "descending"]]] | str
    ) -> None:
        raise NotImplementedError("the change table keeps the preview's order")
