"""Run long-running workers in threads that share one stop signal.

A worker is any object with a ``name`` and a ``run(stop)`` method that returns
soon after ``stop`` is set. The nightly sync is one worker; a card-reader
worker is added the same way with ``Daemon.add``. SIGTERM and SIGINT set the
stop signal; the daemon then waits for every worker to return.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Protocol

log = logging.getLogger(__name__)

EXIT_STOPPED = 0
EXIT_WORKER_FAILED = 1


class Worker(Protocol):
    """A long-running part of the daemon."""

    name: str

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then return, leaving nothing half done."""
        ...


class Daemon:
    """Start workers, stop them all on a signal or when one of them fails."""

    def __init__(self, grace_seconds: float = 60.0) -> None:
        self.stop = threading.Event()
        self.grace_seconds = grace_seconds
        self._workers: list[Worker] = []
        self._failed: list[str] = []

    def add(self, worker: Worker) -> None:
        self._workers.append(worker)

    def install_signal_handlers(self) -> None:
        """Make SIGTERM and SIGINT set the stop signal; call from the main thread."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(number).name)
        self.stop.set()

    def _guard(self, worker: Worker) -> None:
        try:
            worker.run(self.stop)
        except Exception:
            log.exception("worker %s failed; stopping the daemon", worker.name)
            self._failed.append(worker.name)
            self.stop.set()
            return
        if not self.stop.is_set():
            log.error(
                "worker %s returned before a stop; stopping the daemon", worker.name
            )
            self._failed.append(worker.name)
            self.stop.set()

    def run(self) -> int:
        """Run every worker until a stop; return the process exit status."""
        threads = [
            threading.Thread(target=self._guard, args=(w,), name=w.name, daemon=True)
            for w in self._workers
        ]
        log.info(
            "daemon started with workers: %s", ", ".join(w.name for w in self._workers)
        )
        for thread in threads:
            thread.start()
        while not self.stop.wait(1.0):
            pass
        for thread in threads:
            thread.join(self.grace_seconds)
            if thread.is_alive():
                log.error(
                    "worker %s did not stop within %gs; exiting without it",
                    thread.name,
                    self.grace_seconds,
                )
        log.info("daemon stopped")
        return EXIT_WORKER_FAILED if self._failed else EXIT_STOPPED
