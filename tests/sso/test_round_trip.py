"""A full signed SAML round trip against the test IdP, and what it records."""

from __future__ import annotations

import base64
import urllib.parse

from backend.sso import logins
from tests.helpers import csv_bytes, run_import
from tests.sso.conftest import SsoSchool
from tests.sso.idp import IDP_SSO_URL


def b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def test_round_trip_accepted(sso_school_any: SsoSchool) -> None:
    school = sso_school_any
    run_import(
        school.factory,
        "students",
        csv_bytes(
            "Email,First Name,Last Name,SSO ID,Student ID",
            ["jdoe@uni.edu,Jane,Doe,jdoe,000123"],
        ),
    )
    _request_id, url = logins.start_test_login(school.factory, "uni")
    request_id, acs_url = school.idp.read_request(url)
    xml = school.idp.respond(request_id, school.entity_id, acs_url)

    result = logins.check_test_response(school.factory, "uni", b64(xml))

    assert result.message == "the response is valid"
    assert result.accepted
    assert result.login is not None
    assert result.login.name_id == "jdoe-persistent"
    assert result.username == "jdoe"
    assert result.email == "jdoe@uni.edu"
    assert [(m.community_slug, m.matched_on) for m in result.students] == [
        ("lc", "SSO ID")
    ]


def test_login_url_signed_sha256(sso_school: SsoSchool) -> None:
    request_id, url = logins.start_test_login(sso_school.factory, "uni")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith(IDP_SSO_URL + "?")
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert sso_school.idp.read_request(url) == (request_id, sso_school.acs_url)


def test_round_trip_lists_attributes(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(
        sso_school.request(), sso_school.entity_id, sso_school.acs_url
    )
    result = logins.check_test_response(sso_school.factory, "uni", b64(xml))
    assert result.login is not None
    names = {(a.name, a.friendly_name): a.values for a in result.login.attributes}
    assert names[("urn:oid:0.9.2342.19200300.100.1.1", "uid")] == ["jdoe"]
    assert names[("urn:oid:0.9.2342.19200300.100.1.3", "mail")] == ["jdoe@uni.edu"]


def test_signed_response_accepted(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(
        sso_school.request(),
        sso_school.entity_id,
        sso_school.acs_url,
        sign_assertion=False,
        sign_response=True,
    )
    result = logins.check_test_response(sso_school.factory, "uni", b64(xml))
    assert result.reason == "accepted"


def test_url_encoded_form_accepted(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(
        sso_school.request(), sso_school.entity_id, sso_school.acs_url
    )
    form = urllib.parse.urlencode({"SAMLResponse": b64(xml), "RelayState": "x"})
    result = logins.check_test_response(sso_school.factory, "uni", form)
    assert result.reason == "accepted"


def test_responses_kept_decoded(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(
        sso_school.request(), sso_school.entity_id, sso_school.acs_url
    )
    logins.check_test_response(sso_school.factory, "uni", b64(xml))
    logins.check_test_response(sso_school.factory, "uni", b64(xml))

    with sso_school.factory() as session:
        kept = logins.recent_responses(session, "uni")
    assert [row.accepted for row in kept] == [False, True]
    assert kept[1].xml.startswith("<")
    assert kept[1].name_id == "jdoe-persistent"
    assert kept[0].detail["reason"] == "replayed"


def test_decode_keeps_plus_signs() -> None:
    from backend.sso.inspect import decode_saml_response

    xml = b"<samlp:Response>" + b"\xfb\xff" * 30 + b"</samlp:Response>"
    value = base64.b64encode(xml).decode()
    assert "+" in value
    encoded = urllib.parse.quote(value, safe="")
    assert decode_saml_response(value) == xml
    assert decode_saml_response(f"SAMLResponse={encoded}&RelayState=x") == xml
    assert decode_saml_response(f"SAMLResponse={value}") == xml
