"""A corpus of forged and misdirected SAML responses: none is accepted.

Each case starts from a response that the test IdP signed for the school and
changes it the way an attacker could: wrapping the signed assertion, adding
comments inside signed values, duplicating the assertion, or replaying a
response made for another school's service provider.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from saml2 import saml, samlp

from backend.db import transaction
from backend.errors import InvalidValue
from backend.sso import logins, service
from tests.helpers import make_community
from tests.sso.conftest import BASE_URL, SsoSchool
from tests.sso.idp import IdpKey, TestIdp, idp_metadata

MAIL = "jdoe@uni.edu.evil.example"


def _check(school: SsoSchool, xml: str, slug: str = "uni") -> logins.TestLoginResult:
    encoded = base64.b64encode(xml.encode()).decode()
    return logins.check_test_response(school.factory, slug, encoded)


def _signed(school: SsoSchool) -> str:
    return school.idp.respond(
        school.request(),
        school.entity_id,
        school.acs_url,
        identity={"uid": ["jdoe"], "mail": [MAIL]},
    )


def _forged_copy(assertion: saml.Assertion, new_id: str) -> saml.Assertion:
    forged = saml.assertion_from_string(str(assertion))
    forged.signature = None
    forged.id = new_id
    for statement in forged.attribute_statement:
        for attribute in statement.attribute:
            for value in attribute.attribute_value:
                value.text = "dean@uni.edu"
    return forged


def wrapped_in_extensions(xml: str) -> str:
    """Forged assertion on top, the signed one hidden in the response Extensions."""
    response = samlp.response_from_string(xml)
    original = response.assertion[0]
    response.assertion = [_forged_copy(original, "forged-1")]
    response.extensions = samlp.Extensions(extension_elements=[])
    text = str(response)
    closing = "</ns0:Extensions>" if "</ns0:Extensions>" in text else None
    hidden = str(original).split("?>", 1)[-1]
    if closing is None:
        return text.replace(
            "<ns0:Extensions />", f"<ns0:Extensions>{hidden}</ns0:Extensions>"
        )
    return text.replace(closing, hidden + closing)


def signature_moved_to_forgery(xml: str) -> str:
    """Forged assertion carrying the original signature, which names another ID."""
    response = samlp.response_from_string(xml)
    original = response.assertion[0]
    forged = _forged_copy(original, "forged-2")
    forged.signature = original.signature
    response.assertion = [forged]
    return str(response)


def forged_with_same_id(xml: str) -> str:
    """Forged assertion that reuses the signed assertion's ID, signature copied."""
    response = samlp.response_from_string(xml)
    original = response.assertion[0]
    forged = _forged_copy(original, original.id)
    forged.signature = original.signature
    response.assertion = [forged]
    return str(response)


def signed_then_forged(xml: str) -> str:
    """The signed assertion followed by a second, unsigned one for another user."""
    response = samlp.response_from_string(xml)
    original = response.assertion[0]
    response.assertion = [original, _forged_copy(original, "forged-3")]
    return str(response)


def duplicated_assertion(xml: str) -> str:
    """The signed assertion twice, both copies valid on their own."""
    response = samlp.response_from_string(xml)
    original = response.assertion[0]
    twin = samlp.response_from_string(xml).assertion[0]
    response.assertion = [original, twin]
    return str(response)


def comment_in_attribute(xml: str) -> str:
    """A comment that cuts the signed mail value short for a naive reader."""
    return xml.replace("jdoe@uni.edu.evil.example", "jdoe@uni.edu<!---->.evil.example")


def comment_in_name_id(xml: str) -> str:
    return xml.replace("jdoe-persistent", "jdoe<!-- admin -->-persistent")


def doctype_entity(xml: str) -> str:
    """An internal entity in a DOCTYPE: an XML bomb seed and an identity swap."""
    body = xml.split("?>", 1)[-1] if xml.startswith("<?xml") else xml
    return '<!DOCTYPE r [<!ENTITY who "dean@uni.edu">]>' + body.replace(
        "jdoe@uni.edu.evil.example", "&who;"
    )


FORGERIES: list[tuple[str, Callable[[str], str]]] = [
    ("wrapped in extensions", wrapped_in_extensions),
    ("signature moved to forgery", signature_moved_to_forgery),
    ("forged with same id", forged_with_same_id),
    ("signed then forged", signed_then_forged),
    ("duplicated assertion", duplicated_assertion),
    ("comment in attribute", comment_in_attribute),
    ("comment in name id", comment_in_name_id),
]


def test_untouched_response_accepted(sso_school: SsoSchool) -> None:
    result = _check(sso_school, _signed(sso_school))
    assert result.accepted, result.message
    assert result.email == MAIL


@pytest.mark.parametrize(
    "forge", [case[1] for case in FORGERIES], ids=[case[0] for case in FORGERIES]
)
def test_forged_response_rejected(
    sso_school: SsoSchool, forge: Callable[[str], str]
) -> None:
    result = _check(sso_school, forge(_signed(sso_school)))
    assert not result.accepted, (result.reason, result.email)
    assert result.reason != "accepted"
    assert result.message


def test_response_for_other_school_rejected(
    sso_school: SsoSchool, tmp_path: Path, idp_keys: dict[str, IdpKey]
) -> None:
    make_community(sso_school.factory, "wc", "other")
    with transaction(sso_school.factory) as session:
        service.setup_sso(session, "other", BASE_URL, keys_dir=tmp_path / "other")
        service.set_idp_metadata(
            session, "other", idp_metadata([idp_keys["current"]]), "test"
        )
        other_metadata = service.export_sp_metadata(session, "other")
    other_idp = TestIdp(idp_keys["current"], other_metadata)
    other_entity = sso_school.entity_id.replace("/uni", "/other")
    other_acs = sso_school.acs_url.replace("/uni", "/other")
    other_request, _ = logins.start_test_login(sso_school.factory, "other")
    uni_request = sso_school.request()

    for request_id in (other_request, uni_request):
        xml = other_idp.respond(request_id, other_entity, other_acs)
        result = _check(sso_school, xml)
        assert not result.accepted, request_id
        assert result.reason in ("audience", "destination", "unsolicited")


def test_doctype_entity_rejected(sso_school: SsoSchool) -> None:
    with pytest.raises(InvalidValue, match="EntitiesForbidden"):
        _check(sso_school, doctype_entity(_signed(sso_school)))


def test_comment_reason_named(sso_school: SsoSchool) -> None:
    result = _check(sso_school, comment_in_attribute(_signed(sso_school)))
    assert result.reason == "comment"
