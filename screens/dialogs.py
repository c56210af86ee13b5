"""Modal dialogs shared by every screen: confirmation and help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Markdown, Static


class ConfirmModal(ModalScreen[bool]):
    """Ask once before a change; returns True when staff confirm."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmModal .title { text-style: bold; }
    ConfirmModal VerticalScroll { height: auto; max-height: 14; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, body: str, confirm: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title", markup=False)
            with VerticalScroll():
                yield Static(self.body, markup=False)
            with Horizontal():
                yield Button(f"{self.confirm} (y)", variant="warning", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class HelpModal(ModalScreen[None]):
    """Show the help text of a screen and the keys it has now."""

    DEFAULT_CSS = """
    HelpModal { align: center middle; }
    HelpModal > VerticalScroll {
        width: 90; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.text = help_text(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self.text)

    async def action_dismiss(self, result: object = None) -> None:
        self.dismiss(None)


def help_text(screen: Screen[object]) -> str:
    """Build Markdown help: the screen's HELP text, then a table of its keys."""
    doc = getattr(screen, "HELP", None) or "No help is written for this screen."
    lines = [f"# {screen.title or type(screen).__name__}", "", doc.strip(), ""]
    lines += ["## Keys", "", "| Key | Action |", "| --- | --- |"]
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        own = active.node is screen
        if not binding.description or binding.description in seen:
            continue
        if not (binding.show or own):
            continue
        seen.add(binding.description)
        shown = binding.key_display or screen.app.get_key_display(binding)
        lines.append(f"| `{shown or key}` | {binding.description} |")
    lines += ["", "Press Escape to close. Ctrl+P opens the command palette."]
    return "\n".join(lines)
