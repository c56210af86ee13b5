"""Small widgets shared by several screens."""

from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable


class OpenTable(DataTable[str]):
    """A row-cursor table whose Enter key shows as "Open" in the footer."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)


class KeyHints(Widget):
    """Lines of keys for actions that do not fit in the footer at 80 columns.

    Their bindings are declared with ``show=False``, so the footer keeps the
    screen's main actions; help and the command palette still list them. The
    hints wrap between entries, never inside one, so a key stays beside its
    label.
    """

    DEFAULT_CSS = """
    KeyHints {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, hints: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hints = hints

    def hint_lines(self, width: int) -> list[list[tuple[str, str]]]:
        """Pack the hints into lines of at most ``width`` cells."""
        lines: list[list[tuple[str, str]]] = [[]]
        used = 0
        for key, label in self.hints:
            size = len(key) + 1 + len(label)
            gap = 2 if lines[-1] else 0
            if lines[-1] and used + gap + size > width:
                lines.append([])
                used, gap = 0, 0
            lines[-1].append((key, label))
            used += gap + size
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.hint_lines(width))

    def render(self) -> str:
        lines = [
            "  ".join(f"[b $accent]{escape(k)}[/] {escape(label)}" for k, label in line)
            for line in self.hint_lines(self.content_size.width)
        ]
        return "\n".join(lines)
