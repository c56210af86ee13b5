"""The audit log: who changed what, from which terminal."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.models import AuditEvent, Community


@dataclass(frozen=True)
class Actor:
    """The operating-system user behind a change and their SSH client address."""

    os_user: str
    ssh_client: str | None


def current_actor() -> Actor:
    """Return who is running this process.

    ``SUDO_USER`` comes first so that a change made through ``sudo`` names the
    person, not root. The SSH client address comes from ``SSH_CLIENT`` or
    ``SSH_CONNECTION``, whose first word it is.
    """
    user = os.environ.get("SUDO_USER") or os.environ.get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = f"uid {os.getuid()}"
    ssh = os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or ""
    return Actor(os_user=user, ssh_client=ssh.split()[0] if ssh.split() else None)


def record(
    session: Session,
    action: str,
    *,
    community: Community | None = None,
    school_id: int | None = None,
    kind: str | None = None,
    actor: Actor | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to ``session``; it commits with the change it describes."""
    actor = actor or current_actor()
    event = AuditEvent(
        os_user=actor.os_user,
        ssh_client=actor.ssh_client,
        school_id=community.school_id if community else school_id,
        community_id=community.id if community else None,
        action=action,
        kind=kind,
        detail=detail,
    )
    session.add(event)
    return event
