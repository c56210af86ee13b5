"""Test logins: the AuthnRequest URL, checking a SAMLResponse, kept responses."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import audit
from backend.db import transaction
from backend.errors import InvalidValue
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
from backend.sso.inspect import decode_saml_response
from backend.sso.metadata import IdpPreview
from backend.sso.saml import SamlFailure, VerifiedLogin, authn_request_url
from backend.sso.service import idp_preview, require_config, settings_for
from backend.sso.verify import ReplayState, verify_response

log = logging.getLogger(__name__)

KEPT_RESPONSES = 50
# A response to an AuthnRequest older than this is rejected as unsolicited.
REQUEST_LIFETIME = timedelta(hours=1)
REQUESTS_KEPT_FOR = timedelta(days=7)


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
