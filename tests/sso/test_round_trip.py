"""A full signed SAML round trip against the test IdP."""

from __future__ import annotations

from backend.sso import service
from tests.sso.conftest import SsoSchool


def test_round_trip_accepted(sso_school_any: SsoSchool) -> None:
    school = sso_school_any
    request_id = school.request()
    xml = school.idp.respond(request_id, school.entity_id, school.acs_url)
    import base64

    result = service.check_test_response(
        school.factory, "uni", base64.b64encode(xml.encode()).decode()
    )
    assert result.message == "the response is valid"
    assert result.accepted
    assert result.username == "jdoe"
