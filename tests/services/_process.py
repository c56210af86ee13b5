"""Process helpers shared by the throwaway test servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Waits until the parent pid is gone or a zombie, then runs the stop command and
# removes the server's folder. The loop sleeps 1 s, so cleanup starts within about a
# second. The state is the first field after the last ") " in /proc/PID/stat.
_WATCHDOG_SCRIPT = """
parent=$1
folder=$2
shift 2
is_alive() {
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    case $state in
        Z* | X* | "") return 1 ;;
    esac
}
while is_alive "$parent"; do
    sleep 1
done
"$@" >/dev/null 2>&1
rm -rf -- "$folder"
"""


def pick_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free at the time of the call.

    The port is only probed, not reserved, so another process may still take it
    before the server binds it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_watchdog(
    folder: Path, stop_command: Sequence[str]
) -> subprocess.Popen[bytes]:
    """Start a shell that runs stop_command and deletes folder once this process dies.

    The shell runs in its own session, so it outlives a SIGKILL of this process or
    of its process group. Call stop_watchdog() after a normal shutdown.
    """
    return subprocess.Popen(
        [
            "sh",
            "-c",
            _WATCHDOG_SCRIPT,
            "watchdog",
            str(os.getpid()),
            str(folder),
            *stop_command,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    """Kill the watchdog shell and its sleep child without running its cleanup."""
    if watchdog.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(watchdog.pid, signal.SIGKILL)
    watchdog.wait()


def tail_file(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])
