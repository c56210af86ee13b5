"""Running backend work off the event loop and reporting its result.

A screen calls ``run_job`` (or ``run_in_session``) with a backend function. The
function runs in a thread worker, which posts ``JobFinished`` with the result or
``JobFailed`` with a message for staff; the screen's handler then updates its
widgets on the event loop. Widgets are never touched from the worker thread.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual.message import Message
from textual.worker import Worker

from backend.db import transaction
from backend.errors import PenjiError

log = logging.getLogger(__name__)

T = TypeVar("T")

if TYPE_CHECKING:
    from textual.widget import Widget as _Base
else:
    _Base = object


class JobFinished(Message):
    """A backend job returned ``result``; ``handle`` receives it on the event loop."""

    def __init__(
        self, result: Any, handle: Callable[[Any], Awaitable[None] | None]
    ) -> None:
        super().__init__()
        self.result = result
        self.handle = handle


class JobFailed(Message):
    """A backend job raised; ``text`` explains it to staff."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__()
        self.name = name
        self.text = text


def describe_failure(name: str, error: BaseException) -> str:
    """Turn an exception into a message for staff, logging unexpected ones."""
    if isinstance(error, PenjiError):
        log.info("%s failed: %s", name, error)
        return str(error)
    if isinstance(error, SQLAlchemyError):
        log.error("%s failed on the database", name, exc_info=error)
        return (
            f"{name} failed on the database: {type(error).__name__}. "
            "Check that the database is reachable; details are in the log file."
        )
    log.error("%s failed unexpectedly", name, exc_info=error)
    return f"{name} failed unexpectedly ({type(error).__name__}); see the log file."


class JobRunner(_Base):
    """Mixin for screens: run backend calls in thread workers.

    Results come back through ``JobFinished``, handled here by calling the
    ``done`` callback given to ``run_job``. Failures show as an error
    notification; ``on_failed`` may add more, such as re-enabling a button.
    """

    def run_job(
        self,
        name: str,
        job: Callable[..., T],
        *args: Any,
        done: Callable[[T], Awaitable[None] | None] | None = None,
        exclusive: bool = False,
        group: str = "backend",
    ) -> Worker[None]:
        """Run ``job(*args)`` in a thread; ``done(result)`` runs on the event loop."""

        def work() -> None:
            try:
                result = job(*args)
            except Exception as error:
                self.post_message(JobFailed(name, describe_failure(name, error)))
                return
            if done is not None:
                self.post_message(JobFinished(result, done))

        return self.run_worker(
            work, name=name, group=group, thread=True, exclusive=exclusive
        )

    def run_in_session(
        self,
        name: str,
        job: Callable[..., T],
        *args: Any,
        done: Callable[[T], Awaitable[None] | None] | None = None,
        exclusive: bool = False,
        group: str = "backend",
    ) -> Worker[None]:
        """Run ``job(session, *args)`` in a thread, in one committed transaction."""
        factory = self.app.factory  # type: ignore[attr-defined]

        def in_session(*call_args: Any) -> T:
            session: Session
            with transaction(factory) as session:
                return job(session, *call_args)

        return self.run_job(
            name,
            in_session,
            *args,
            done=done,
            exclusive=exclusive,
            group=group,
        )

    async def on_job_finished(self, message: JobFinished) -> None:
        message.stop()
        try:
            shown = message.handle(message.result)
            if inspect.isawaitable(shown):
                await shown
        except Exception as error:
            text = describe_failure("Showing the result", error)
            self.app.notify(text, title="Failed", severity="error", timeout=10)

    def on_job_failed(self, message: JobFailed) -> None:
        message.stop()
        self.app.notify(message.text, title="Failed", severity="error", timeout=10)
        self.job_failed(message.name, message.text)

    def job_failed(self, name: str, text: str) -> None:
        """Hook for screens that must react to a failed job; does nothing here."""
