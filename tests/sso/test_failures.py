"""Each way a SAML response must be rejected, with the reason staff read."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from backend.db import transaction
from backend.sso import logins, service
from tests.sso.conftest import SsoSchool
from tests.sso.idp import idp_metadata, shift_times


def b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def check(school: SsoSchool, xml: str) -> logins.TestLoginResult:
    return logins.check_test_response(school.factory, "uni", b64(xml))


def respond(school: SsoSchool, **options: Any) -> str:
    request_id = options.pop("request_id", None) or school.request()
    return school.idp.respond(request_id, school.entity_id, school.acs_url, **options)


def test_tampered_attribute_rejected(sso_school: SsoSchool) -> None:
    xml = respond(sso_school).replace("jdoe@uni.edu", "dean@uni.edu")
    result = check(sso_school, xml)
    assert result.reason == "bad_signature"
    assert not result.accepted


def test_bad_signature_names_fingerprints(sso_school: SsoSchool) -> None:
    xml = respond(sso_school).replace("jdoe@uni.edu", "dean@uni.edu")
    with sso_school.factory() as session:
        _school, config = service.require_config(session, "uni")
        preview = service.idp_preview(config)
    assert preview is not None
    result = check(sso_school, xml)
    assert preview.certificates[0].fingerprint in result.message


def test_unknown_certificate_rejected(sso_school: SsoSchool) -> None:
    idp = sso_school.idp_with("unknown")
    xml = idp.respond(sso_school.request(), sso_school.entity_id, sso_school.acs_url)
    result = check(sso_school, xml)
    assert result.reason == "bad_signature"


def test_certificate_rollover_accepted(sso_school: SsoSchool) -> None:
    both = idp_metadata([sso_school.keys["current"], sso_school.keys["next"]])
    with transaction(sso_school.factory) as session:
        service.set_idp_metadata(session, "uni", both, "rollover")
    for name in ("current", "next"):
        idp = sso_school.idp_with(name)
        xml = idp.respond(
            sso_school.request(), sso_school.entity_id, sso_school.acs_url
        )
        result = check(sso_school, xml)
        assert result.reason == "accepted", name


def test_unsigned_assertion_rejected(sso_school: SsoSchool) -> None:
    result = check(sso_school, respond(sso_school, sign_assertion=False))
    assert result.reason == "unsigned"


def test_sha1_signature_rejected(sso_school: SsoSchool) -> None:
    result = check(sso_school, respond(sso_school, weak=True))
    assert result.reason == "weak_algorithm"


def test_expired_assertion_rejected(sso_school: SsoSchool) -> None:
    change = shift_times(timedelta(hours=-2), timedelta(hours=-1))
    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "clock_skew"
    assert "server time is" in result.message


def test_not_yet_valid_rejected(sso_school: SsoSchool) -> None:
    change = shift_times(timedelta(minutes=10), timedelta(minutes=20))
    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "clock_skew"
    assert "not valid before" in result.message


def test_skew_within_allowance_accepted(sso_school: SsoSchool) -> None:
    change = shift_times(timedelta(seconds=30), timedelta(minutes=5))
    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "accepted"


def test_wrong_audience_rejected(sso_school: SsoSchool) -> None:
    def change(response: Any) -> None:
        restriction = response.assertion[0].conditions.audience_restriction[0]
        restriction.audience[0].text = "https://other.example/sp"

    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "audience"
    assert "https://other.example/sp" in result.message
    assert sso_school.entity_id in result.message


def test_wrong_destination_rejected(sso_school: SsoSchool) -> None:
    def change(response: Any) -> None:
        response.destination = "https://evil.example/acs"

    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "destination"
    assert "https://evil.example/acs" in result.message
    assert sso_school.acs_url in result.message


def test_replay_rejected(sso_school: SsoSchool) -> None:
    xml = respond(sso_school)
    first = check(sso_school, xml)
    second = check(sso_school, xml)
    assert first.reason == "accepted"
    assert second.reason == "replayed"


def test_replay_cache_survives_restart(sso_school: SsoSchool, tmp_path: Any) -> None:
    from backend.db import open_database

    xml = respond(sso_school)
    assert check(sso_school, xml).reason == "accepted"
    url = str(sso_school.factory.kw["bind"].url)
    sso_school.factory.kw["bind"].dispose()
    reopened = open_database(url)
    result = logins.check_test_response(reopened, "uni", b64(xml))
    assert result.reason == "replayed"
    reopened.kw["bind"].dispose()


def test_request_id_used_once(sso_school: SsoSchool) -> None:
    request_id = sso_school.request()
    first = check(sso_school, respond(sso_school, request_id=request_id))
    second = check(sso_school, respond(sso_school, request_id=request_id))
    assert first.reason == "accepted"
    assert second.reason == "replayed"
    assert request_id in second.message


def test_unknown_request_id_rejected(sso_school: SsoSchool) -> None:
    result = check(sso_school, respond(sso_school, request_id="id-never-sent"))
    assert result.reason == "unsolicited"


def test_unsolicited_rejected(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(None, sso_school.entity_id, sso_school.acs_url)
    result = check(sso_school, xml)
    assert result.reason == "unsolicited"


def test_idp_initiated_accepted_when_on(sso_school: SsoSchool) -> None:
    with transaction(sso_school.factory) as session:
        service.update_settings(session, "uni", allow_idp_initiated=True)
    xml = sso_school.idp.respond(None, sso_school.entity_id, sso_school.acs_url)
    first = check(sso_school, xml)
    second = check(sso_school, xml)
    assert first.reason == "accepted"
    assert second.reason == "replayed"


def test_missing_attribute_rejected(sso_school: SsoSchool) -> None:
    result = check(sso_school, respond(sso_school, identity={"uid": ["jdoe"]}))
    assert result.reason == "missing_attribute"
    assert "urn:oid:0.9.2342.19200300.100.1.3" in result.message


def test_wrapped_assertion_rejected(sso_school: SsoSchool) -> None:
    """A forged assertion on top, the signed original hidden in Advice."""
    from saml2 import saml

    signed = respond(sso_school)
    from saml2 import samlp

    response = samlp.response_from_string(signed)
    original = response.assertion[0]
    forged = saml.assertion_from_string(str(original))
    forged.signature = None
    forged.id = "forged-assertion"
    forged.advice = saml.Advice(assertion=[original])
    for statement in forged.attribute_statement:
        for attribute in statement.attribute:
            for value in attribute.attribute_value:
                value.text = "dean"
    response.assertion = [forged]
    result = check(sso_school, str(response))
    assert result.reason == "signature_wrapping"


def test_duplicate_id_wrapping_rejected(sso_school: SsoSchool) -> None:
    from saml2 import samlp

    response = samlp.response_from_string(respond(sso_school))
    original = response.assertion[0]
    copy = samlp.response_from_string(str(response)).assertion[0]
    copy.signature = None
    response.assertion = [copy, original]
    result = check(sso_school, str(response))
    assert result.reason == "signature_wrapping"


def test_other_idp_issuer_rejected(sso_school: SsoSchool) -> None:
    def change(response: Any) -> None:
        response.issuer.text = "https://other-idp.example"
        response.assertion[0].issuer.text = "https://other-idp.example"

    result = check(sso_school, respond(sso_school, change=change))
    assert result.reason == "issuer"


def test_not_base64_rejected(sso_school: SsoSchool) -> None:
    from backend.errors import InvalidValue

    with pytest.raises(InvalidValue, match="not valid base64"):
        logins.check_test_response(sso_school.factory, "uni", "%%% not base64 !!")


def test_clock_skew_capped(sso_school: SsoSchool) -> None:
    from backend.errors import InvalidValue

    with transaction(sso_school.factory) as session, pytest.raises(InvalidValue):
        service.update_settings(session, "uni", clock_skew_seconds=3600)


def test_expired_request_rejected(sso_school: SsoSchool) -> None:
    from sqlalchemy import update

    from backend.models import SsoRequest, utcnow

    request_id = sso_school.request()
    with transaction(sso_school.factory) as session:
        session.execute(
            update(SsoRequest)
            .where(SsoRequest.request_id == request_id)
            .values(created_at=utcnow() - timedelta(hours=2))
        )
    result = check(sso_school, respond(sso_school, request_id=request_id))
    assert result.reason == "unsolicited"
    assert "expired" in result.message


def test_replay_rejected_each_backend(sso_school_any: SsoSchool) -> None:
    xml = respond(sso_school_any)
    assert check(sso_school_any, xml).reason == "accepted"
    assert check(sso_school_any, xml).reason == "replayed"


def test_check_writes_audit_event(sso_school: SsoSchool) -> None:
    from sqlalchemy import select

    from backend.models import AuditEvent

    check(sso_school, respond(sso_school))
    with sso_school.factory() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "sso.test_login" in actions
    assert "sso.test_response" in actions
