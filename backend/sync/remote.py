"""File operations in a community's remote folder: listing, reading and replacing."""

from __future__ import annotations

import io
import logging
import posixpath
import secrets
import stat
import unicodedata
from dataclasses import dataclass

import paramiko

log = logging.getLogger(__name__)

INBOUND = "inbound"
OUTBOUND = "outbound"
ARCHIVE = "archive"
TEMP_PREFIX = ".penji-upload-"


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


def check_remote_name(name: str) -> None:
    """Raise ValueError unless ``name`` is one plain file or folder name.

    A name with a slash, ``.`` or ``..`` would leave the community's folder, and
    control characters could forge lines in logs and terminals.
    """
    if name in ("", ".", "..") or "/" in name or has_control_characters(name):
        raise ValueError(
            f"unsafe remote file name {name!r}: a name cannot be empty, '.' or '..', "
            "or contain a slash or control characters"
        )


@dataclass(frozen=True)
class RemoteFile:
    """A regular file as one listing saw it."""

    name: str
    size: int
    mtime: int


class RemoteFolder:
    """A community's folder on the SFTP server with its three subfolders."""

    def __init__(self, sftp: paramiko.SFTPClient, base: str) -> None:
        self.sftp = sftp
        self.base = base.rstrip("/") or "."

    def path(self, *parts: str) -> str:
        """Join names below the base folder, raising ValueError on an unsafe name."""
        for part in parts:
            check_remote_name(part)
        return posixpath.join(self.base, *parts)

    def ensure_folders(self) -> None:
        """Create the base folder, its parents and the three subfolders if missing."""
        parts = [p for p in self.base.split("/") if p and p != "."]
        ancestors = [
            ("/" if self.base.startswith("/") else "") + "/".join(parts[: i + 1])
            for i in range(len(parts))
        ]
        for path in (
            *ancestors,
            self.path(INBOUND),
            self.path(OUTBOUND),
            self.path(ARCHIVE),
        ):
            try:
                self.sftp.stat(path)
            except FileNotFoundError:
                log.info("creating remote folder %s", path)
                self.sftp.mkdir(path)

    def list_files(self, folder: str) -> dict[str, RemoteFile]:
        """Return the regular files of a subfolder by name."""
        files = {}
        for entry in self.sftp.listdir_attr(self.path(folder)):
            if entry.st_mode is not None and not stat.S_ISREG(entry.st_mode):
                continue
            files[entry.filename] = RemoteFile(
                entry.filename, entry.st_size or 0, entry.st_mtime or 0
            )
        return files

    def read(self, folder: str, name: str) -> bytes:
        buffer = io.BytesIO()
        self.sftp.getfo(self.path(folder, name), buffer)
        return buffer.getvalue()

    def look(self, folder: str, name: str) -> RemoteFile | None:
        try:
            attrs = self.sftp.stat(self.path(folder, name))
        except FileNotFoundError:
            return None
        return RemoteFile(name, attrs.st_size or 0, attrs.st_mtime or 0)

    def archive_or_remove(self, name: str, archived_name: str, keep: bool) -> None:
        """Move an inbound file to archive/, or delete it when ``keep`` is off."""
        source = self.path(INBOUND, name)
        if keep:
            self.rename_over(source, self.path(ARCHIVE, archived_name))
        else:
            self.sftp.remove(source)

    def replace(self, folder: str, name: str, data: bytes) -> None:
        """Replace a file so that a reader sees the old or the new file, whole.

        The data goes to a temporary name in the same folder, then takes the
        final name with one rename.
        """
        temp = self.path(folder, f"{TEMP_PREFIX}{secrets.token_hex(6)}-{name}")
        try:
            self.sftp.putfo(io.BytesIO(data), temp, file_size=len(data), confirm=True)
            self.rename_over(temp, self.path(folder, name))
        except BaseException:
            self._remove_quietly(temp)
            raise

    def rename_over(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing ``target`` if it exists.

        posix-rename@openssh.com replaces the target in one step. A server
        without it gets a plain SFTP rename, which fails on an existing target,
        so the old target is first moved aside and deleted after the rename.
        """
        try:
            self.sftp.posix_rename(source, target)
            return
        except OSError as error:
            log.info(
                "posix-rename of %s failed (%s); using plain rename instead",
                source,
                error,
            )
        aside = f"{target}.{secrets.token_hex(4)}.old"
        moved_aside = False
        try:
            self.sftp.rename(target, aside)
            moved_aside = True
        except FileNotFoundError:
            pass
        # NOTE: between these two renames the target name is briefly absent, so a
        # reader on a server without posix-rename may find no file, never a
        # partial one.
        try:
            self.sftp.rename(source, target)
        except BaseException:
            if moved_aside:
                self.sftp.rename(aside, target)
            raise
        if moved_aside:
            self._remove_quietly(aside)

    def remove_stale_uploads(self, folder: str) -> int:
        """Delete temporary uploads that an interrupted run left behind."""
        removed = 0
        for name in self.list_files(folder):
            if name.startswith(TEMP_PREFIX):
                self._remove_quietly(self.path(folder, name))
                removed += 1
        return removed

    def _remove_quietly(self, path: str) -> None:
        try:
            self.sftp.remove(path)
        except OSError as error:
            log.warning("cannot remove %s: %s", path, error)
