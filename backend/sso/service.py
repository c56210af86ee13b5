"""SSO set-up and settings of a school: SP key, IdP metadata, attribute mapping."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit
from backend.errors import Conflict, InvalidValue, NotFound
from backend.models import (
    School,
    SsoConfig,
    utcnow,
)
from backend.services.schools import get_school
from backend.sso import keys
from backend.sso.metadata import IdpPreview, parse_idp_metadata
from backend.sso.saml import (
    DEFAULT_BASE_URL,
    MAIL_OID,
    NAMEID_PERSISTENT,
    UID_OID,
    SpSettings,
    make_client,
    sp_metadata,
)

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW_SECONDS = 600
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
EDITABLE = (
    "base_url",
    "name_id_format",
    "username_attribute",
    "email_attribute",
    "student_id_attribute",
    "email_domains",
    "allow_idp_initiated",
    "clock_skew_seconds",
)


def get_config(session: Session, school: School) -> SsoConfig | None:
    return session.scalars(
        select(SsoConfig).where(SsoConfig.school_id == school.id)
    ).first()


def require_config(session: Session, school_slug: str) -> tuple[School, SsoConfig]:
    """Return a school and its SSO settings; raise NotFound if SSO is not set up."""
    school = get_school(session, school_slug)
    config = get_config(session, school)
    if config is None:
        raise NotFound(
            f"SSO is not set up for school {school_slug!r}; run "
            f"'penji-tui sso setup {school_slug}' first"
        )
    return school, config


def settings_for(
    school: School, config: SsoConfig, extra_acs_urls: tuple[str, ...] = ()
) -> SpSettings:
    """Build the pysaml2 settings of a school, checking its key file's mode."""
    requested = [config.username_attribute, config.email_attribute]
    if config.student_id_attribute:
        requested.append(config.student_id_attribute)
    return SpSettings(
        school_slug=school.slug,
        base_url=config.base_url,
        key_path=keys.check_key_file(Path(config.key_path)),
        cert_pem=config.cert_pem,
        name_id_format=config.name_id_format,
        idp_metadata_xml=config.idp_metadata_xml or "",
        allow_idp_initiated=config.allow_idp_initiated,
        clock_skew_seconds=config.clock_skew_seconds,
        requested_attributes=list(dict.fromkeys(requested)),
        extra_acs_urls=extra_acs_urls,
    )


def setup_sso(
    session: Session,
    school_slug: str,
    base_url: str = DEFAULT_BASE_URL,
    keys_dir: Path | None = None,
    new_key: bool = False,
) -> SsoConfig:
    """Set up SSO for a school: SP key and certificate, defaults, share links.

    A second call changes nothing unless ``new_key`` requests a new key pair,
    which the school's IT must then load from the new SP metadata.
    """
    from backend.sso.links import ensure_links

    school = get_school(session, school_slug)
    base_url = _check_base_url(base_url)
    config = get_config(session, school)
    if config is not None and not new_key:
        ensure_links(session, school)
        return config

    folder = keys_dir or keys.default_keys_dir()
    entity_id = f"{base_url}/saml/{school.slug}/sp/metadata"
    pair = keys.generate_key_pair(school.slug, entity_id, folder)
    if config is None:
        config = SsoConfig(
            school_id=school.id,
            base_url=base_url,
            key_path=str(pair.key_path),
            cert_pem=pair.cert_pem,
            name_id_format=NAMEID_PERSISTENT,
            username_attribute=UID_OID,
            email_attribute=MAIL_OID,
            student_id_attribute=None,
            email_domains=[],
        )
        session.add(config)
        action = "sso.setup"
    else:
        config.key_path = str(pair.key_path)
        config.cert_pem = pair.cert_pem
        config.updated_at = utcnow()
        action = "sso.new_key"
    session.flush()
    ensure_links(session, school)
    log.info("SSO %s for school %s, key file %s", action, school.slug, pair.key_path)
    audit.record(session, action, school_id=school.id, key_path=str(pair.key_path))
    return config


def _check_base_url(value: str) -> str:
    text = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", text):
        raise InvalidValue(
            f"invalid base URL {value!r}; write it like https://cloud.penjiapp.com"
        )
    return text


def _check_domains(value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value))
    domains = []
    for item in items:
        domain = str(item).strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN_RE.match(domain):
            raise InvalidValue(
                f"invalid email domain {item!r}; write it like northfield.edu"
            )
        domains.append(domain)
    return list(dict.fromkeys(domains))


def _check_change(name: str, value: Any) -> Any:
    if name == "base_url":
        return _check_base_url(value)
    if name == "email_domains":
        return _check_domains(value)
    if name == "allow_idp_initiated":
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if name == "clock_skew_seconds":
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            raise InvalidValue(
                f"clock_skew_seconds must be whole seconds, not {value!r}"
            ) from None
        if not 0 <= seconds <= MAX_CLOCK_SKEW_SECONDS:
            raise InvalidValue(
                f"clock_skew_seconds must be from 0 to {MAX_CLOCK_SKEW_SECONDS}, "
                f"not {seconds}; fix the clocks rather than widening the allowance"
            )
        return seconds
    text = str(value).strip() if value is not None else ""
    if name == "student_id_attribute":
        return text or None
    if not text:
        raise InvalidValue(f"{name} cannot be empty")
    return text


def _check_domains_free(session: Session, school: School, domains: list[str]) -> None:
    """Raise Conflict if another school already sends one of ``domains`` to SSO."""
    others = session.scalars(select(SsoConfig).where(SsoConfig.school_id != school.id))
    for other in others:
        taken = sorted(set(domains) & set(other.email_domains or []))
        if taken:
            owner = session.get(School, other.school_id)
            raise Conflict(
                f"email domain {taken[0]} already sends users to the SSO of school "
                f"{owner.slug if owner else other.school_id}; remove it there first"
            )


def update_settings(
    session: Session, school_slug: str, **changes: Any
) -> dict[str, Any]:
    """Change SSO settings of a school and return the old value of each changed one."""
    school, config = require_config(session, school_slug)
    old: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise InvalidValue(
                f"unknown SSO setting {name!r}; use one of: {', '.join(EDITABLE)}"
            )
        value = _check_change(name, value)
        if name == "email_domains":
            _check_domains_free(session, school, value)
        if getattr(config, name) != value:
            old[name] = getattr(config, name)
            setattr(config, name, value)
    if old:
        config.updated_at = utcnow()
        audit.record(
            session,
            "sso.update",
            school_id=school.id,
            old=old,
            new={name: getattr(config, name) for name in old},
        )
    return old


def set_idp_metadata(
    session: Session, school_slug: str, xml: str | bytes, source: str
) -> IdpPreview:
    """Store the IdP metadata of a school after checking it; return its preview.

    Metadata with errors (an expired certificate, no sign-on endpoint) is
    rejected, and so is metadata that pysaml2 cannot load.
    """
    school, config = require_config(session, school_slug)
    preview = parse_idp_metadata(xml)
    if preview.errors:
        raise InvalidValue(
            "IdP metadata rejected: "
            + "; ".join(preview.errors)
            + ". Ask the school's IT for corrected metadata"
        )
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    trial = settings_for(school, config)
    try:
        make_client(SpSettings(**{**trial.__dict__, "idp_metadata_xml": text}))
    except InvalidValue:
        raise
    except Exception as error:
        raise InvalidValue(
            f"pysaml2 could not load the IdP metadata: {error}"
        ) from None
    config.idp_metadata_xml = text
    config.idp_metadata_source = source
    config.updated_at = utcnow()
    audit.record(
        session,
        "sso.idp",
        school_id=school.id,
        source=source,
        entity_id=preview.entity_id,
        fingerprints=[c.fingerprint for c in preview.certificates],
    )
    return preview


def idp_preview(config: SsoConfig) -> IdpPreview | None:
    """Return the preview of the stored IdP metadata, or None when there is none."""
    if not config.idp_metadata_xml:
        return None
    return parse_idp_metadata(config.idp_metadata_xml)


def export_sp_metadata(session: Session, school_slug: str) -> str:
    school, config = require_config(session, school_slug)
    return sp_metadata(settings_for(school, config))


def school_for_email(session: Session, email: str) -> School | None:
    """Return the school whose SSO email domains cover ``email``, if any."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    for config in session.scalars(select(SsoConfig)):
        if domain in (config.email_domains or []):
            return session.get(School, config.school_id)
    return None
