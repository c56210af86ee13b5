"""Leases: named locks in the database that expire if their holder dies.

A lease is a row in ``leases``. Taking one inserts the row; a row whose
``expires_at`` has passed, or whose holder process on this host has exited, may
be taken over. Each step commits on its own so that other processes see it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.models import Lease, utcnow

DEFAULT_TTL = timedelta(minutes=30)


class LeaseHeld(Exception):
    """Another process holds the lease."""

    def __init__(self, name: str, holder: str, expires_at: object) -> None:
        super().__init__(f"{name} is held by {holder} until {expires_at}")
        self.name = name
        self.holder = holder
        self.expires_at = expires_at


def this_holder() -> str:
    """Name this process as ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_dead(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(
    factory: sessionmaker[Session], name: str, ttl: timedelta = DEFAULT_TTL
) -> str:
    """Take lease ``name`` for ``ttl`` and return the holder name.

    Raises:
        LeaseHeld: another live process holds the lease.
    """
    holder = this_holder()
    now = utcnow()
    with factory() as session:
        try:
            with session.begin():
                session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
            return holder
        except IntegrityError:
            pass
        with session.begin():
            current = session.get(Lease, name)
            if current is None:
                session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
                return holder
            if current.expires_at > now and not _holder_is_dead(current.holder):
                raise LeaseHeld(name, current.holder, current.expires_at)
            taken = session.execute(
                update(Lease)
                .where(Lease.name == name, Lease.holder == current.holder)
                .values(holder=holder, acquired_at=now, expires_at=now + ttl)
            )
            if taken.rowcount != 1:
                raise LeaseHeld(name, "another process", current.expires_at)
    return holder


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    """Give back lease ``name`` if ``holder`` still has it."""
    with factory() as session, session.begin():
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def renew(
    factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta = DEFAULT_TTL
) -> bool:
    """Extend lease ``name``; return False if ``holder`` lost it meanwhile."""
    with factory() as session, session.begin():
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=utcnow() + ttl)
        )
        return result.rowcount == 1


@contextmanager
def held(
    factory: sessionmaker[Session], name: str, ttl: timedelta = DEFAULT_TTL
) -> Iterator[str]:
    """Hold lease ``name`` for the duration of a ``with`` block."""
    holder = acquire(factory, name, ttl)
    try:
        yield holder
    finally:
        release(factory, name, holder)


def current_holder(session: Session, name: str) -> str | None:
    """Return who holds lease ``name`` now, if anyone."""
    lease = session.scalars(select(Lease).where(Lease.name == name)).first()
    if lease is None or lease.expires_at <= utcnow():
        return None
    return lease.holder
