"""SSO set-up and test logins for a school, as the console and CLI use them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import audit
from backend.db import transaction
from backend.errors import Conflict, InvalidValue, NotFound
from backend.models import (
    Community,
    School,
    SsoConfig,
    SsoRequest,
    SsoSeenAssertion,
    SsoTestResponse,
    Student,
    utcnow,
)
from backend.services.schools import get_school
from backend.sso import keys
from backend.sso.inspect import decode_saml_response
from backend.sso.metadata import IdpPreview, parse_idp_metadata
from backend.sso.saml import (
    DEFAULT_BASE_URL,
    MAIL_OID,
    NAMEID_PERSISTENT,
    UID_OID,
    SamlFailure,
    SpSettings,
    VerifiedLogin,
    authn_request_url,
    make_client,
    sp_metadata,
)
from backend.sso.verify import ReplayState, verify_response

log = logging.getLogger(__name__)

KEPT_RESPONSES = 50
# A response to an AuthnRequest older than this is rejected as unsolicited.
REQUEST_LIFETIME = timedelta(hours=1)
REQUESTS_KEPT_FOR = timedelta(days=7)
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


@dataclass(frozen=True)
class StudentMatch:
    """A roster student that a login's mapped attributes point to."""

    community_slug: str
    student_key: str
    name: str
    matched_on: str


@dataclass
class TestLoginResult:
    """The outcome of checking one SAML response in a test login."""

    accepted: bool
    reason: str
    message: str
    login: VerifiedLogin | None = None
    username: str = ""
    email: str = ""
    student_id: str = ""
    students: list[StudentMatch] = field(default_factory=list)
    record_id: int | None = None


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


def start_test_login(
    factory: sessionmaker[Session], school_slug: str
) -> tuple[str, str]:
    """Make the AuthnRequest redirect URL of a test login; record its request ID."""
    with transaction(factory) as session:
        school, config = require_config(session, school_slug)
        request_id, url = authn_request_url(settings_for(school, config))
        session.add(SsoRequest(school_id=school.id, request_id=request_id))
        audit.record(
            session, "sso.test_login", school_id=school.id, request_id=request_id
        )
    return request_id, url


def _replay_state(session: Session, school: School, preview: IdpPreview) -> ReplayState:
    requests = session.execute(
        select(SsoRequest.request_id, SsoRequest.used_at, SsoRequest.created_at).where(
            SsoRequest.school_id == school.id
        )
    ).all()
    oldest_open = datetime.now(UTC) - REQUEST_LIFETIME

    def seen(assertion_id: str) -> bool:
        row = session.scalars(
            select(SsoSeenAssertion.id).where(
                SsoSeenAssertion.school_id == school.id,
                SsoSeenAssertion.assertion_id == assertion_id,
            )
        ).first()
        return row is not None

    return ReplayState(
        open_request_ids=frozenset(
            r for r, used, made in requests if used is None and made >= oldest_open
        ),
        used_request_ids=frozenset(r for r, used, _made in requests if used),
        expired_request_ids=frozenset(
            r for r, used, made in requests if used is None and made < oldest_open
        ),
        seen_assertion=seen,
        idp_fingerprints=tuple(c.fingerprint for c in preview.certificates),
    )


def find_students(
    session: Session, school: School, username: str, email: str, student_id: str
) -> list[StudentMatch]:
    """Find the active roster students of the school that a login's values match."""
    conditions = []
    if username:
        conditions.append(Student.sso_id == username)
    if email:
        conditions.append(Student.email == email.lower())
    if student_id:
        conditions.append(Student.student_id == student_id)
    if not conditions:
        return []
    rows = session.execute(
        select(Student, Community.slug)
        .join(Community, Community.id == Student.community_id)
        .where(
            Community.school_id == school.id,
            Student.active.is_(True),
            or_(*conditions),
        )
        .order_by(Community.created_at, Student.key)
    ).all()
    matches = []
    for student, slug in rows:
        if username and student.sso_id == username:
            on = "SSO ID"
        elif email and student.email == email.lower():
            on = "email"
        else:
            on = "student ID"
        name = f"{student.first_name or ''} {student.last_name or ''}".strip()
        matches.append(StudentMatch(slug, student.key, name, on))
    return matches


def _consume(session: Session, school: School, login: VerifiedLogin) -> None:
    answered = login.facts.in_response_to or login.facts.confirmation_in_response_to
    if answered:
        # The condition on used_at makes a concurrent second use update nothing.
        marked = session.execute(
            update(SsoRequest)
            .where(
                SsoRequest.school_id == school.id,
                SsoRequest.request_id == answered,
                SsoRequest.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            raise SamlFailure(
                "replayed",
                f"replayed: request {answered} already has an accepted response",
            )
    session.add(
        SsoSeenAssertion(
            school_id=school.id,
            assertion_id=login.facts.assertion_id,
            expires_at=login.assertion_expires_at,
        )
    )
    session.flush()


def check_test_response(
    factory: sessionmaker[Session],
    school_slug: str,
    text: str | bytes,
    via: str = "paste",
    extra_acs_urls: tuple[str, ...] = (),
) -> TestLoginResult:
    """Check a SAMLResponse for a test login and keep it, decoded, for staff.

    A verified response uses up its request ID and its assertion ID even when
    the mapping then fails, so the same response cannot be accepted later.
    """
    xml = decode_saml_response(text)
    try:
        with transaction(factory) as session:
            result = _check(session, school_slug, xml, via, extra_acs_urls)
    except IntegrityError:
        # Another process accepted the same assertion at the same moment.
        result = TestLoginResult(
            False,
            "replayed",
            "replayed: the assertion was accepted at the same moment elsewhere",
        )
    if result.record_id is None:
        with transaction(factory) as session:
            school = get_school(session, school_slug)
            result.record_id = _keep(session, school, xml, via, result)
    return result


def _check(
    session: Session,
    school_slug: str,
    xml: bytes,
    via: str,
    extra_acs_urls: tuple[str, ...],
) -> TestLoginResult:
    school, config = require_config(session, school_slug)
    preview = idp_preview(config)
    if preview is None:
        raise InvalidValue(
            f"no IdP metadata for {school_slug}; load it with 'penji-tui sso idp' first"
        )
    settings = settings_for(school, config, extra_acs_urls)
    state = _replay_state(session, school, preview)
    try:
        login = verify_response(xml, settings, preview.entity_id, state)
    except SamlFailure as failure:
        log.info("test login for %s rejected: %s", school.slug, failure.reason)
        result = TestLoginResult(False, failure.reason, str(failure))
        result.record_id = _keep(session, school, xml, via, result)
        return result

    try:
        _consume(session, school, login)
    except SamlFailure as failure:
        result = TestLoginResult(False, failure.reason, str(failure))
        result.record_id = _keep(session, school, xml, via, result)
        return result
    result = _map_login(session, school, config, login)
    result.record_id = _keep(session, school, xml, via, result)
    return result


def _map_login(
    session: Session, school: School, config: SsoConfig, login: VerifiedLogin
) -> TestLoginResult:
    username = next(iter(login.values(config.username_attribute)), "")
    email = next(iter(login.values(config.email_attribute)), "")
    student_id = ""
    if config.student_id_attribute:
        student_id = next(iter(login.values(config.student_id_attribute)), "")
    released = ", ".join(a.name for a in login.attributes) or "none"
    for label, name, value in (
        ("username", config.username_attribute, username),
        ("email", config.email_attribute, email),
    ):
        if not value:
            return TestLoginResult(
                False,
                "missing_attribute",
                f"missing attribute: the {label} attribute {name} is not in the "
                f"assertion; the IdP released: {released}. Ask the school's IT to "
                "release it, or change the mapping",
                login=login,
            )
    result = TestLoginResult(
        True,
        "accepted",
        "the response is valid",
        login=login,
        username=username,
        email=email,
        student_id=student_id,
    )
    if config.student_id_attribute and not student_id:
        login.warnings.append(
            f"the student ID attribute {config.student_id_attribute} is not in the "
            "assertion"
        )
    result.students = find_students(session, school, username, email, student_id)
    if not result.students:
        login.warnings.append("no roster student matches these values")
    return result


def _keep(
    session: Session, school: School, xml: bytes, via: str, result: TestLoginResult
) -> int:
    login = result.login
    detail: dict[str, Any] = {"reason": result.reason}
    if login is not None:
        detail["name_id_format"] = login.name_id_format
        detail["attributes"] = [
            {"name": a.name, "friendly_name": a.friendly_name, "values": a.values}
            for a in login.attributes
        ]
        detail["warnings"] = login.warnings
        detail["students"] = [m.__dict__ for m in result.students]
    row = SsoTestResponse(
        school_id=school.id,
        via=via,
        accepted=result.accepted,
        failure=None if result.accepted else result.message,
        name_id=login.name_id if login else None,
        detail=detail,
        xml=xml.decode("utf-8", "replace"),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "sso.test_response",
        school_id=school.id,
        response_id=row.id,
        via=via,
        accepted=result.accepted,
        reason=result.reason,
    )
    _trim(session, school)
    return row.id


def _trim(session: Session, school: School) -> None:
    keep = (
        select(SsoTestResponse.id)
        .where(SsoTestResponse.school_id == school.id)
        .order_by(SsoTestResponse.id.desc())
        .limit(KEPT_RESPONSES)
    )
    kept = list(session.scalars(keep))
    if len(kept) == KEPT_RESPONSES:
        session.execute(
            delete(SsoTestResponse).where(
                SsoTestResponse.school_id == school.id,
                SsoTestResponse.id < min(kept),
            )
        )
    now = datetime.now(UTC)
    session.execute(
        delete(SsoSeenAssertion).where(
            SsoSeenAssertion.school_id == school.id,
            SsoSeenAssertion.expires_at < now,
        )
    )
    # Old request IDs only turn a "replayed" message into "unsolicited".
    session.execute(
        delete(SsoRequest).where(
            SsoRequest.school_id == school.id,
            SsoRequest.created_at < now - REQUESTS_KEPT_FOR,
        )
    )


def recent_responses(
    session: Session, school_slug: str, limit: int = KEPT_RESPONSES
) -> list[SsoTestResponse]:
    """Return the last test-login responses of a school, newest first."""
    school = get_school(session, school_slug)
    return list(
        session.scalars(
            select(SsoTestResponse)
            .where(SsoTestResponse.school_id == school.id)
            .order_by(SsoTestResponse.id.desc())
            .limit(limit)
        )
    )


def school_for_email(session: Session, email: str) -> School | None:
    """Return the school whose SSO email domains cover ``email``, if any."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    for config in session.scalars(select(SsoConfig)):
        if domain in (config.email_domains or []):
            return session.get(School, config.school_id)
    return None
