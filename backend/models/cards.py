"""Card swipes: every swipe a reader delivered, with what it did.

A swipe row is written in the same transaction as the check-in it causes. Its
``swipe_uuid`` is unique, so a swipe delivered twice from the local queue
(after a crash between the commit and the queue update) is recorded once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

SWIPE_OUTCOMES = (
    "checked_in",
    "checked_out",
    "repeat",
    "failed_read",
    "no_id",
)


class CardSwipe(Base):
    """One swipe at a reader or kiosk; raw track data is not kept.

    ``outcome`` is one of ``SWIPE_OUTCOMES``. ``matched`` is whether the ID
    matched a roster student; unmatched IDs still check in, for staff to fix.
    ``reason`` explains why a swipe gave no ID or was ignored.
    """

    __tablename__ = "card_swipes"
    __table_args__ = (
        Index("ix_card_swipes_community_identifier", "community_id", "identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    swipe_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    reader: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(16))
    matched: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("drop_in_check_ins.id"))
    read_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
