"""Small widgets shared by several screens."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class OpenTable(DataTable[str]):
    """A row-cursor table whose Enter key shows as "Open" in the footer."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
