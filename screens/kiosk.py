"""The check-in kiosk: a full screen for a keyboard-mode card reader or scanner.

Keyboard-mode (HID) readers type each swipe as keys, usually ending with Enter.
Every key goes to a ``SwipeFramer``, so a swipe ends on its terminator or after
a short silence, as with a serial reader. Each swipe is written to the local
queue and delivered by a background thread, so swipes made while the database
is down are recorded when it returns.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from backend.cards import service
from backend.cards.delivery import SwipeDelivery
from backend.cards.framing import DEFAULT_SILENCE_SECONDS, SwipeFramer
from backend.cards.queue import QueuedSwipe, SwipeQueue
from backend.cards.service import SwipeEvent, SwipeOutcome
from backend.db import transaction
from backend.errors import PenjiError
from backend.models import utcnow
from backend.services.schools import get_community
from screens.work import describe_failure

RESET_SECONDS = 5.0
LOAD_RETRY_SECONDS = 10.0
KEY_CHARACTERS = {"enter": "\r", "tab": "\t"}
IDLE_TITLE = "Swipe your card"


class SwipeRecorded(Message):
    """The database recorded a swipe made at this kiosk."""

    def __init__(self, outcome: SwipeOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class SwipeQueued(Message):
    """A swipe was saved locally because the database could not be reached."""


class KioskFailed(Message):
    """The kiosk could not load its community; ``text`` explains it.

    ``retry`` is set when the database was unreachable, so loading is tried
    again later; swipes are queued meanwhile.
    """

    def __init__(self, text: str, retry: bool) -> None:
        super().__init__()
        self.text = text
        self.retry = retry


class KioskReady(Message):
    """The community's name and card layout were loaded."""

    def __init__(self, name: str, framer: SwipeFramer) -> None:
        super().__init__()
        self.name = name
        self.framer = framer


def answer(outcome: SwipeOutcome) -> tuple[str, str, str] | None:
    """Return the (title, detail, style class) the kiosk shows for an outcome.

    A repeated swipe of the same card returns None, so the screen keeps its
    current message.
    """
    name = outcome.first_name or ""
    if outcome.outcome == "repeat":
        return None
    if outcome.outcome in ("failed_read", "no_id"):
        return "Card not read", "Please swipe your card again.", "-failed"
    if not outcome.matched:
        return (
            "Card not recognised",
            "Your visit is recorded. Please see the front desk.",
            "-unknown",
        )
    if outcome.outcome == "checked_out":
        return "Checked out", f"Goodbye, {name}!" if name else "Goodbye!", "-out"
    return "Checked in", f"Welcome, {name}!" if name else "Welcome!", "-in"


class KioskScreen(Screen[None]):
    """Checks students of one community in and out as cards are swiped."""

    CSS_PATH = "kiosk.tcss"
    STYLES = ("-in", "-out", "-unknown", "-failed", "-queued")

    def __init__(
        self,
        factory: sessionmaker[Session],
        community_slug: str,
        queue_path: Path,
        reset_seconds: float = RESET_SECONDS,
    ) -> None:
        super().__init__()
        self.factory = factory
        self.community_slug = community_slug
        self.queue = SwipeQueue(queue_path)
        self.delivery = SwipeDelivery(
            self.queue, lambda: factory, on_outcome=self._delivered
        )
        self.reset_seconds = reset_seconds
        self.framer = SwipeFramer(DEFAULT_SILENCE_SECONDS)
        self.stop_event = threading.Event()
        self._silence_timer: Timer | None = None
        self._reset_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="answer"):
            yield Static(self.community_slug, id="community")
            yield Static(IDLE_TITLE, id="title")
            yield Static("", id="detail")

    def on_mount(self) -> None:
        self.load_community()
        self.run_delivery()

    def on_unmount(self) -> None:
        self.stop_event.set()
        self.delivery.wake()

    @work(thread=True, group="kiosk-load")
    def load_community(self) -> None:
        try:
            with transaction(self.factory) as session:
                community = get_community(session, self.community_slug)
                layout = service.read_settings(session, community).layout
                name = community.name
        except PenjiError as error:
            self.post_message(KioskFailed(str(error), retry=False))
            return
        except Exception as error:
            text = describe_failure("Loading the kiosk", error)
            self.post_message(KioskFailed(text, retry=True))
            return
        framer = SwipeFramer(
            DEFAULT_SILENCE_SECONDS,
            line_per_swipe=layout.source == "whole",
            suffixes=layout.suffixes,
        )
        self.post_message(KioskReady(name, framer))

    @work(thread=True, group="kiosk-delivery")
    def run_delivery(self) -> None:
        self.delivery.run(self.stop_event)
        self.queue.close()

    def on_kiosk_ready(self, message: KioskReady) -> None:
        self.query_one("#community", Static).update(message.name)
        if not self.framer.pending:
            self.framer = message.framer

    def on_kiosk_failed(self, message: KioskFailed) -> None:
        if message.retry:
            # Swipes are queued with the default framing until the layout loads.
            self.set_timer(LOAD_RETRY_SECONDS, self.load_community)
            return
        self.show("Kiosk not ready", message.text, "-failed", reset=False)

    def on_key(self, event: events.Key) -> None:
        character = KEY_CHARACTERS.get(event.key, event.character)
        if not character or not (character.isprintable() or character in "\r\n\t"):
            return
        event.stop()
        event.prevent_default()
        for data in self.framer.feed(character, time.monotonic()):
            self.record(data)
        if self._silence_timer is not None:
            self._silence_timer.stop()
        self._silence_timer = self.set_timer(self.framer.silence, self._silence_passed)

    def _silence_passed(self) -> None:
        for data in self.framer.flush():
            self.record(data)

    @work(thread=True, group="kiosk-swipe")
    def record(self, data: str) -> None:
        event = SwipeEvent.new(self.community_slug, "kiosk", data, utcnow())
        self.queue.append(event)
        self.delivery.deliver_pending()
        if any(e.event.swipe_uuid == event.swipe_uuid for e in self.queue.pending()):
            self.post_message(SwipeQueued())
        self.delivery.wake()

    def _delivered(self, entry: QueuedSwipe, outcome: SwipeOutcome) -> None:
        if entry.event.reader == "kiosk":
            self.post_message(SwipeRecorded(outcome))

    def on_swipe_recorded(self, message: SwipeRecorded) -> None:
        shown = answer(message.outcome)
        if shown is not None:
            self.show(*shown)

    def on_swipe_queued(self, message: SwipeQueued) -> None:
        self.show(
            "Swipe saved",
            "It will be recorded when the connection returns.",
            "-queued",
        )

    def show(self, title: str, detail: str, style: str, reset: bool = True) -> None:
        box = self.query_one("#answer")
        box.remove_class(*self.STYLES)
        box.add_class(style)
        self.query_one("#title", Static).update(title)
        self.query_one("#detail", Static).update(detail)
        if self._reset_timer is not None:
            self._reset_timer.stop()
        if reset:
            self._reset_timer = self.set_timer(self.reset_seconds, self.reset)

    def reset(self) -> None:
        self.query_one("#answer").remove_class(*self.STYLES)
        self.query_one("#title", Static).update(IDLE_TITLE)
        self.query_one("#detail", Static).update("")


class KioskApp(App[None]):
    """``penji-tui kiosk``: the kiosk screen alone, full screen; Ctrl+Q quits."""

    TITLE = "Penji check-in"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, show=False)]

    def __init__(
        self, factory: sessionmaker[Session], community_slug: str, queue_path: Path
    ) -> None:
        super().__init__()
        self.factory = factory
        self.community_slug = community_slug
        self.queue_path = queue_path

    def on_mount(self) -> None:
        self.push_screen(
            KioskScreen(self.factory, self.community_slug, self.queue_path)
        )
