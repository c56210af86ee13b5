"""Choosing an import file and previewing it in a worker."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
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
from screens.preview_table import ChangeRows
from screens.work import JobRunner

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

    def filter_paths(self, paths: list[Path]) -> list[Path]:  # type: ignore[override]
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in (".csv", ".txt"))
        ]


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
only IT rows) and the file. Tab completes a path; Ctrl+T shows a file tree.
The preview writes no roster row: it records a run you then apply, hold or
cancel.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+o", "preview", "Preview"),
        Binding("ctrl+t", "tree", "File tree"),
    ]

    def __init__(self, community_slug: str, path: str = "") -> None:
        super().__init__()
        self.community_slug = community_slug
        self.start_path = path or os.getcwd() + os.sep

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
        typed = Path(os.path.expanduser(self.query_one("#path", Input).value))
        root = typed if typed.is_dir() else typed.parent
        tree = CsvTree(root if root.is_dir() else Path.cwd(), id="tree")
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
        path = Path(os.path.expanduser(self.query_one("#path", Input).value.strip()))
        kind = str(self.query_one("#kind", Select).value)
        source = str(self.query_one("#source", Select).value)
        # TODO: preview_import reports no progress, so the bar is indeterminate;
        # a callback per parsed row would let it show how far the diff is.
        self.set_busy(f"Reading {path.name} and computing the diff...")
        self.run_job(
            "Preview",
            preview_file,
            self.app.factory,  # type: ignore[attr-defined]
            self.community_slug,
            kind,
            source,
            path,
            done=self.show_preview,
            exclusive=True,
        )

    def set_busy(self, text: str | None) -> None:
        self.query_one("#stage", Static).update(text or "")
        self.query_one("#progress").display = text is not None
        self.query_one("#run", Button).disabled = text is not None

    def job_failed(self, name: str, text: str) -> None:
        self.set_busy(None)
        self.query_one("#stage", Static).update(f"[red]{text}[/]")

    def show_preview(self, ready: PreviewReady) -> None:
        from screens.preview import PreviewScreen

        self.set_busy(None)
        self.app.switch_screen(PreviewScreen(ready.preview, ready.rows))


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
    factory: object, community_slug: str, kind: str, source: str, path: Path
) -> PreviewReady:
    """Read, parse and diff a file, then index its changes; runs in a worker."""
    data = read_file(path)
    preview = service.preview_import(
        factory,  # type: ignore[arg-type]
        community_slug,
        kind,
        source,
        data,
        path.name,
    )
    return PreviewReady(preview, ChangeRows(preview))
