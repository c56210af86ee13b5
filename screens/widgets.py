"""Small widgets shared by several screens."""

from __future__ import annotations

from rich.markup import escape
from textual.binding import Binding
from textual.widgets import DataTable, Static


class OpenTable(DataTable[str]):
    """A row-cursor table whose Enter key shows as "Open" in the footer."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)


class KeyHints(Static):
    """A line of keys for actions that do not fit in the footer at 80 columns.

    Their bindings are declared with ``show=False``, so the footer keeps the
    screen's main actions; help and the command palette still list them.
    """

    DEFAULT_CSS = """
    KeyHints {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, hints: list[tuple[str, str]], *, id: str | None = None) -> None:
        text = "  ".join(
            f"[b $accent]{escape(k)}[/] {escape(label)}" for k, label in hints
        )
        super().__init__(text, id=id)
