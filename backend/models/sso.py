"""School-wide SAML single sign-on, its test logins, and share links.

One ``sso_configs`` row per school contains the service-provider settings, the
identity provider's metadata and the attribute mapping. The SP private key is
never stored here: ``key_path`` names a file readable by its owner only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class SsoConfig(Base):
    """A school's SAML service-provider settings and identity provider."""

    __tablename__ = "sso_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), unique=True)
    base_url: Mapped[str] = mapped_column(String(300))
    key_path: Mapped[str] = mapped_column(String(1000))
    cert_pem: Mapped[str] = mapped_column(Text)
    name_id_format: Mapped[str] = mapped_column(String(200))
    idp_metadata_xml: Mapped[str | None] = mapped_column(Text)
    idp_metadata_source: Mapped[str | None] = mapped_column(String(1000))
    username_attribute: Mapped[str] = mapped_column(String(300))
    email_attribute: Mapped[str] = mapped_column(String(300))
    student_id_attribute: Mapped[str | None] = mapped_column(String(300))
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    allow_idp_initiated: Mapped[bool] = mapped_column(default=False)
    clock_skew_seconds: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoRequest(Base):
    """An AuthnRequest ID this SP sent; a response may answer it once only."""

    __tablename__ = "sso_requests"
    __table_args__ = (UniqueConstraint("school_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SsoSeenAssertion(Base):
    """An assertion ID already accepted: the replay cache.

    Rows are kept until ``expires_at``, the assertion's NotOnOrAfter plus the
    clock skew allowance, after which the assertion is rejected as expired anyway.
    """

    __tablename__ = "sso_seen_assertions"
    __table_args__ = (UniqueConstraint("school_id", "assertion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    assertion_id: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SsoTestResponse(Base):
    """A SAML response checked by a test login, decoded, for staff to look back at."""

    __tablename__ = "sso_test_responses"
    __table_args__ = (
        Index("ix_sso_test_responses_school_at", "school_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    via: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[bool]
    failure: Mapped[str | None] = mapped_column(Text)
    name_id: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    xml: Mapped[str] = mapped_column(Text)


class ShareLink(Base):
    """A "Link to School" (no community) or a "Link to Community".

    A rotated link gets ``revoked_at`` and stops working; the new token takes
    its place. At most one link per target is active.
    """

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
