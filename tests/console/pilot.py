"""Helpers for driving the console in tests."""

from __future__ import annotations

import contextlib

from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState


async def settle(pilot: Pilot[object]) -> None:
    """Wait for every worker and the messages they posted, until none is running.

    A handler of a finished job may start another job, so this repeats, at
    most five times. Cancelled workers count as done.
    """
    for _ in range(5):
        # A cancelled worker was replaced by a newer exclusive one, such as a
        # newer search.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        running = [
            w
            for w in pilot.app.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not running:
            return
