"""Choosing an import file and previewing it in a worker."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import (
    Button,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from backend.errors import InvalidValue
from backend.formats.kinds import get_kind
from backend.imports import service
from backend.imports.service import Preview
from screens.preview import CANCEL_REASON
from screens.preview_table import ChangeRows
from screens.work import JobRunner

log = logging.getLogger(__name__)

KINDS = (
    "students",
    "courses",
    "course_enrollment",
    "student_metadata",
    "course_grades",
    "providers",
)


class PathSuggester(Suggester):
    """Suggest the first file or folder that completes the typed path."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value)


def complete_path(value: str) -> str | None:
    """Return ``value`` completed to the first matching entry, folders with a /."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, prefix = os.path.split(expanded)
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return None
    for name in names:
        if name.startswith(prefix) and not name.startswith("."):
            tail = name[len(prefix) :]
            if os.path.isdir(os.path.join(folder or ".", name)):
                tail += os.sep
            return value + tail if tail else None
    return None


class PathInput(Input):
    """A path field where Tab accepts the suggested completion."""

    BINDINGS = [Binding("tab", "complete", "Complete path", show=False)]

    def action_complete(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
            return
        self.screen.focus_next()


class CsvTree(DirectoryTree):
    """A file tree that lists folders and CSV or text files only."""

    BINDINGS = [Binding("backspace", "parent", "Parent folder")]

    def action_parent(self) -> None:
        path = Path(self.path)
        if path.parent != path:
            self.path = path.parent

    def filter_paths(self, paths: list[Path]) -> list[Path]:  # type: ignore[override]
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in (".csv", ".txt"))
        ]


class PreviewStage(Message):
    """A preview's stage, and the share of the file read when that is known."""

    def __init__(self, stage: str, share: float | None) -> None:
        super().__init__()
        self.stage = stage
        self.share = share


@dataclass
class PreviewReady:
    """A finished preview and the index of its changes, built in the worker."""

    preview: Preview
    rows: ChangeRows


class ImportScreen(JobRunner, Screen[None]):
    """Choose kind, source and file, then preview the import."""

    CSS_PATH = "importing.tcss"
    HELP = """
Choose what the file contains, where it comes from (custom: an admin's upload,
which replaces only custom rows; sftp: the school's IT import, which replaces
only IT rows) and the file. Tab completes a path; Ctrl+T shows a file tree of
the typed path's folder, and Backspace in the tree goes up one folder.
The preview writes no roster row: it records a run you then apply, hold or
cancel.
"""
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "preview", "Preview"),
        Binding("ctrl+t", "tree", "File tree"),
    ]

    def __init__(self, community_slug: str, path: str = "") -> None:
        super().__init__()
        self.community_slug = community_slug
        self.start_path = path or os.getcwd() + os.sep
        # Set when staff leave while a preview runs: the worker then rejects
        # the run it recorded instead of showing it.
        self.preview_cancelled: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="form"):
            with Horizontal(classes="row"):
                yield Label("Kind", classes="name")
                yield Select(
                    [(get_kind(kind).label, kind) for kind in KINDS],
                    value="students",
                    allow_blank=False,
                    compact=True,
                    id="kind",
                )
            with Horizontal(classes="row"):
                yield Label("Source", classes="name")
                yield Select(
                    [("custom (admin upload)", "custom"), ("sftp (school IT)", "sftp")],
                    value="custom",
                    allow_blank=False,
                    compact=True,
                    id="source",
                )
            with Horizontal(classes="row"):
                yield Label("File", classes="name")
                yield PathInput(
                    self.start_path,
                    placeholder="path to the CSV file",
                    suggester=PathSuggester(),
                    compact=True,
                    id="path",
                )
            yield Button("Preview (ctrl+o)", variant="primary", compact=True, id="run")
        yield Static("", id="stage")
        yield ProgressBar(id="progress", show_eta=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"Import into {self.community_slug}"
        self.query_one("#progress").display = False
        self.query_one("#path", Input).focus()

    async def action_tree(self) -> None:
        # The tree is mounted only on request: its loader worker runs until the
        # tree is removed.
        found = self.query("#tree")
        if found:
            await found.remove()
            self.query_one("#path", Input).focus()
            return
        typed = self.query_one("#path", Input).value.strip()
        tree = CsvTree(tree_root(typed), id="tree")
        await self.mount(tree, after="#form")
        tree.focus()

    @on(DirectoryTree.FileSelected, "#tree")
    async def file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        path = self.query_one("#path", Input)
        path.value = str(event.path)
        await self.query_one("#tree").remove()
        self.query_one("#run", Button).focus()

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#run")
    def action_preview(self) -> None:
        if self.preview_cancelled is not None:
            # A preview is already running; a second would read the file again.
            return
        path = Path(os.path.expanduser(self.query_one("#path", Input).value.strip()))
        kind = str(self.query_one("#kind", Select).value)
        source = str(self.query_one("#source", Select).value)
        self.set_busy(f"Reading {path.name} and computing the diff...")
        self.preview_cancelled = threading.Event()
        self.run_job(
            "Preview",
            preview_file,
            self.app.factory,  # type: ignore[attr-defined]
            self.community_slug,
            kind,
            source,
            path,
            self.preview_cancelled,
            self.report_stage,
            done=self.show_preview,
            exclusive=True,
        )

    def action_back(self) -> None:
        if self.preview_cancelled is not None:
            self.preview_cancelled.set()
            self.notify(
                "Preview cancelled: its run is marked rejected once the file is "
                "read; nothing is written"
            )
        self.app.pop_screen()

    def report_stage(self, stage: str, share: float | None) -> None:
        """Pass a stage from the preview's worker thread to the screen."""
        self.post_message(PreviewStage(stage, share))

    @on(PreviewStage)
    def show_stage(self, message: PreviewStage) -> None:
        if self.preview_cancelled is None:
            return
        bar = self.query_one("#progress", ProgressBar)
        if message.share is None:
            self.query_one("#stage", Static).update(f"{message.stage}...")
            bar.update(total=None)
        else:
            self.query_one("#stage", Static).update(
                f"{message.stage}: {message.share:.0%}"
            )
            bar.update(total=100, progress=round(message.share * 100))

    def set_busy(self, text: str | None) -> None:
        self.query_one("#stage", Static).update(text or "")
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = text is not None
        self.query_one("#run", Button).disabled = text is not None

    def job_failed(self, name: str, text: str) -> None:
        self.preview_cancelled = None
        self.set_busy(None)
        self.query_one("#stage", Static).update(f"[red]{text}[/]")

    def show_preview(self, ready: PreviewReady | None) -> None:
        from screens.preview import PreviewScreen

        self.preview_cancelled = None
        self.set_busy(None)
        if ready is None:
            return
        self.app.switch_screen(PreviewScreen(ready.preview, ready.rows))


def tree_root(typed: str) -> Path:
    """Return the folder of the typed path, or its nearest existing parent.

    With nothing typed, or no part of it existing, the tree starts at the
    user's home folder.
    """
    if not typed:
        return Path.home()
    path = Path(os.path.expanduser(typed)).absolute()
    if not typed.endswith(os.sep) and not path.is_dir():
        path = path.parent
    while not path.is_dir():
        if path.parent == path:
            return Path.home()
        path = path.parent
    return path


def read_file(path: Path) -> bytes:
    """Read an import file, turning OS errors into messages for staff."""
    if path.is_dir():
        raise InvalidValue(f"{path} is a folder; choose a CSV file in it")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidValue(f"file {path} not found; check the path") from None
    except OSError as error:
        raise InvalidValue(f"cannot read {path}: {error.strerror}") from None


def preview_file(
    factory: sessionmaker[Session],
    community_slug: str,
    kind: str,
    source: str,
    path: Path,
    cancelled: threading.Event | None = None,
    progress: service.PreviewProgress | None = None,
) -> PreviewReady | None:
    """Read, parse and diff a file, then index its changes; runs in a worker.

    If ``cancelled`` is set by the time the diff is done, the recorded run is
    rejected as cancelled and None is returned. ``progress`` receives the
    preview's stages.
    """
    data = read_file(path)
    preview = service.preview_import(
        factory, community_slug, kind, source, data, path.name, progress=progress
    )
    if cancelled is not None and cancelled.is_set():
        if preview.status == "previewed":
            service.reject_run(factory, preview.run_id, CANCEL_REASON)
        log.info("preview of run %s cancelled while it ran", preview.run_id)
        return None
    return PreviewReady(preview, ChangeRows(preview))
