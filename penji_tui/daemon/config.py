"""The daemon's TOML configuration, read into typed settings.

Every field is described in docs/daemon.md. Relative paths are taken relative
to the folder of the configuration file. Unknown names are rejected, so a typo
never passes silently.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.cards.reader_config import ReaderConfig, reader_configs
from backend.errors import InvalidValue
from backend.sync.settings import CommunitySync, ServerSettings, SyncSettings
from backend.sync.timing import DailySlot
from penji_tui.config import config_dir, data_dir, log_dir

DEFAULT_CONFIG_NAME = "daemon.toml"

_SECTIONS = {
    "database_url": str,
    "schedule": dict,
    "sftp": dict,
    "archive": dict,
    "log": dict,
    "servers": dict,
    "communities": dict,
    "card_readers": dict,
}
_SCHEDULE = {"time": str, "zone": str, "catch_up": bool}
_SFTP = {
    "connect_timeout": float,
    "auth_timeout": float,
    "operation_timeout": float,
    "keepalive_interval": int,
    "community_deadline": float,
    "connect_attempts": int,
    "retry_backoff": float,
    "settle_seconds": float,
}
_ARCHIVE = {"folder": str, "keep_days": int, "remote": bool}
_LOG = {"file": str, "level": str}
_SERVER = {
    "host": str,
    "port": int,
    "username": str,
    "private_key": str,
    "known_hosts": str,
}
_COMMUNITY = {"server": str, "remote_dir": str}
_REQUIRED_SERVER = ("host", "username", "private_key", "known_hosts")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def default_config_path() -> Path:
    return config_dir() / DEFAULT_CONFIG_NAME


@dataclass(frozen=True)
class DaemonConfig:
    """Everything the daemon and ``penji-tui sync`` read from the configuration."""

    path: Path | None
    database_url: str | None
    slot: DailySlot
    catch_up: bool
    sync: SyncSettings
    log_file: Path
    log_level: str
    card_readers: tuple[ReaderConfig, ...] = ()


def _check(where: str, table: dict[str, Any], allowed: dict[str, type]) -> None:
    for name, value in table.items():
        expected = allowed.get(name)
        if expected is None:
            raise InvalidValue(
                f"unknown setting {name!r} in {where}; allowed: {', '.join(allowed)}"
            )
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, expected) or (
            expected is int and isinstance(value, bool)
        ):
            raise InvalidValue(
                f"setting {name!r} in {where} must be {expected.__name__}, "
                f"not {value!r}"
            )


def _path(base: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _servers(base: Path, table: dict[str, Any]) -> dict[str, ServerSettings]:
    servers = {}
    for name, fields in table.items():
        where = f"[servers.{name}]"
        if not isinstance(fields, dict):
            raise InvalidValue(f"{where} must be a table")
        _check(where, fields, _SERVER)
        missing = [key for key in _REQUIRED_SERVER if key not in fields]
        if missing:
            raise InvalidValue(f"{where} is missing {', '.join(missing)}")
        port = fields.get("port", 22)
        if not 0 < port < 65536:
            raise InvalidValue(f"port {port} in {where} must be from 1 to 65535")
        servers[name] = ServerSettings(
            name=name,
            host=fields["host"],
            port=port,
            username=fields["username"],
            private_key=_path(base, fields["private_key"]),
            known_hosts=_path(base, fields["known_hosts"]),
        )
    return servers


def _check_remote_dir(where: str, remote_dir: str) -> None:
    """Reject a folder that climbs out with ``..`` or contains control characters."""
    from backend.sync.remote import has_control_characters

    if ".." in remote_dir.split("/"):
        raise InvalidValue(
            f"remote_dir {remote_dir!r} in {where} cannot contain '..'; give the "
            "community's folder relative to the login folder, or as an absolute path"
        )
    if has_control_characters(remote_dir) or not remote_dir.strip("/"):
        raise InvalidValue(
            f"remote_dir {remote_dir!r} in {where} is empty or contains control "
            "characters; give a plain folder path such as 'northfield/learning'"
        )


def _communities(
    table: dict[str, Any], servers: dict[str, ServerSettings]
) -> tuple[CommunitySync, ...]:
    communities = []
    for slug, fields in table.items():
        where = f"[communities.{slug}]"
        if not isinstance(fields, dict):
            raise InvalidValue(f"{where} must be a table")
        _check(where, fields, _COMMUNITY)
        server_name = fields.get("server")
        if server_name is None:
            raise InvalidValue(f"{where} is missing server")
        if server_name not in servers:
            raise InvalidValue(
                f"{where} names server {server_name!r}, which no [servers.NAME] "
                "table defines"
            )
        remote_dir = fields.get("remote_dir", slug)
        _check_remote_dir(where, remote_dir)
        communities.append(CommunitySync(slug, servers[server_name], remote_dir))
    return tuple(communities)


def _positive(where: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise InvalidValue(f"setting {name!r} in {where} cannot be negative")


def parse_config(data: dict[str, Any], path: Path | None) -> DaemonConfig:
    """Build the configuration from a parsed TOML document."""
    base = path.parent if path is not None else Path.cwd()
    _check("the configuration", data, _SECTIONS)
    schedule = data.get("schedule", {})
    sftp = data.get("sftp", {})
    archive = data.get("archive", {})
    log = data.get("log", {})
    for where, table, allowed in (
        ("[schedule]", schedule, _SCHEDULE),
        ("[sftp]", sftp, _SFTP),
        ("[archive]", archive, _ARCHIVE),
        ("[log]", log, _LOG),
    ):
        _check(where, table, allowed)
        _positive(where, table)
    if sftp.get("connect_attempts", 1) < 1:
        raise InvalidValue("connect_attempts in [sftp] must be at least 1")
    level = log.get("level", "INFO").upper()
    if level not in LOG_LEVELS:
        raise InvalidValue(
            f"invalid level {level!r} in [log]; use one of {', '.join(LOG_LEVELS)}"
        )

    slot = DailySlot.parse(schedule.get("time", "00:00"), schedule.get("zone", "UTC"))
    servers = _servers(base, data.get("servers", {}))
    archive_folder = archive.get("folder")
    sync = SyncSettings(
        communities=_communities(data.get("communities", {}), servers),
        **{name: float(v) if _SFTP[name] is float else v for name, v in sftp.items()},
        archive_dir=(
            _path(base, archive_folder)
            if archive_folder
            else data_dir() / "sync-archive"
        ),
        archive_keep_days=archive.get("keep_days", 90),
        remote_archive=archive.get("remote", True),
        schedule_zone=slot.zone.key,
    )
    log_file = log.get("file")
    return DaemonConfig(
        path=path,
        database_url=data.get("database_url"),
        slot=slot,
        catch_up=schedule.get("catch_up", True),
        sync=sync,
        log_file=_path(base, log_file) if log_file else log_dir() / "daemon.log",
        log_level=level,
        card_readers=reader_configs(data.get("card_readers", {}), base, data_dir()),
    )


def load_config(path: Path | None) -> DaemonConfig:
    """Read the configuration at ``path``, or the default file.

    A missing default file gives the defaults with no community configured; a
    missing file named with ``--config`` is an error.
    """
    chosen = path or default_config_path()
    try:
        text = chosen.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is not None:
            raise InvalidValue(
                f"configuration file {path} not found; see docs/daemon.md for an "
                "example"
            ) from None
        return parse_config({}, None)
    except OSError as error:
        raise InvalidValue(f"cannot read {chosen}: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidValue(f"invalid TOML in {chosen}: {error}") from None
    _check_password_private(chosen, data)
    return parse_config(data, chosen)


def _check_password_private(path: Path, data: dict[str, Any]) -> None:
    """Reject a file that contains a database password and others can read."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = data.get("database_url")
    if not isinstance(url, str):
        return
    try:
        password = make_url(url).password
    except ArgumentError:
        return
    mode = path.stat().st_mode & 0o777
    if password and mode & 0o077:
        raise InvalidValue(
            f"{path} contains a database password but has mode {mode:o}, readable "
            f"by other users; run 'chmod 600 {path}'"
        )
