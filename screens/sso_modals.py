"""Text entry dialogs of the SSO screen: pasted XML or a SAMLResponse, one line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static, TextArea


class PasteModal(ModalScreen[str | None]):
    """Ask for a block of text, such as IdP metadata or a SAMLResponse.

    Ctrl+S submits the text and Escape cancels; returns None when cancelled.
    """

    DEFAULT_CSS = """
    PasteModal { align: center middle; }
    PasteModal > Vertical {
        width: 90%; height: 80%; border: thick $primary; background: $surface;
    }
    PasteModal TextArea { height: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, hint: str) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Static(self.hint, markup=False)
            yield TextArea(id="text", soft_wrap=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def action_submit(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LineModal(ModalScreen[str | None]):
    """Ask for one line, such as NAME=VALUE; Enter submits and Escape cancels."""

    DEFAULT_CSS = """
    LineModal { align: center middle; }
    LineModal > Vertical {
        width: 80; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="line")

    def on_mount(self) -> None:
        self.query_one("#line", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
