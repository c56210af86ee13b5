"""Checking a SAML response, step by step, with a plain reason on each failure."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Comment, ProcessingInstruction, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser

from backend.sso.inspect import STATUS_SUCCESS, ResponseFacts, read_response
from backend.sso.saml import (
    STRONG_DIGESTS,
    STRONG_SIGNATURES,
    Attribute,
    SamlFailure,
    SpSettings,
    VerifiedLogin,
    make_client,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayState:
    """The request IDs and assertion IDs stored for a school, and its IdP keys."""

    open_request_ids: frozenset[str]
    used_request_ids: frozenset[str]
    expired_request_ids: frozenset[str]
    seen_assertion: Callable[[str], bool]
    idp_fingerprints: tuple[str, ...]


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "not given"


def check_no_comments(xml: bytes) -> None:
    """Reject comments and processing instructions inside the response.

    Canonicalization drops comments before the digest, so a comment added
    inside a signed value keeps the signature valid while a reader that skips
    comments sees a shorter value. A signed response has no need for comments,
    so any comment is treated as tampering.
    """
    builder = TreeBuilder(insert_comments=True, insert_pis=True)
    parser = DefusedXMLParser(target=builder)
    parser.feed(xml)
    root = parser.close()
    found = [
        node for node in root.iter() if node.tag in (Comment, ProcessingInstruction)
    ]
    if found:
        raise SamlFailure(
            "comment",
            f"the response contains {len(found)} XML comments or processing "
            "instructions, which can hide a change to a signed value; ask the "
            "school's IT whether anything rewrites responses on the way",
        )


def check_structure(facts: ResponseFacts) -> None:
    """Reject encrypted, missing, extra or wrapped assertions."""
    if facts.status and facts.status.split(" / ")[0] != STATUS_SUCCESS:
        detail = f": {facts.status_message}" if facts.status_message else ""
        raise SamlFailure(
            "idp_status", f"the IdP reported a failure, status {facts.status}{detail}"
        )
    if facts.encrypted_assertion_count:
        # TODO: decrypt EncryptedAssertion with the SP key once a school needs it;
        # the SP metadata offers no encryption key, so IdPs should not encrypt.
        raise SamlFailure(
            "encrypted",
            "the assertion is encrypted, which this SP does not accept; ask the "
            "school's IT to turn off assertion encryption for Penji",
        )
    if facts.duplicate_ids:
        raise SamlFailure(
            "signature_wrapping",
            "signature wrapping: the ID "
            f"{', '.join(facts.duplicate_ids)} occurs more than once in the response",
        )
    if facts.assertion_count == 0:
        raise SamlFailure("no_assertion", "the response contains no assertion")
    if not facts.assertion_is_child:
        raise SamlFailure(
            "signature_wrapping",
            f"signature wrapping: the response contains {facts.assertion_count} "
            "assertions or one hidden below another element; exactly one "
            "assertion directly inside the Response is accepted",
        )


def check_signatures(facts: ResponseFacts) -> None:
    """Require an enveloped SHA-256 or stronger signature on response or assertion."""
    covering = []
    for signature in facts.signatures:
        if signature.parent not in ("Response", "Assertion"):
            raise SamlFailure(
                "signature_wrapping",
                f"signature wrapping: a signature sits inside {signature.parent}, "
                "not directly in the Response or the Assertion",
            )
        if signature.reference_uri != f"#{signature.parent_id}":
            raise SamlFailure(
                "signature_wrapping",
                f"signature wrapping: the signature in the {signature.parent} "
                f"references {signature.reference_uri or 'nothing'}, not its own "
                f"ID #{signature.parent_id}",
            )
        if signature.signature_method not in STRONG_SIGNATURES:
            raise SamlFailure(
                "weak_algorithm",
                f"the {signature.parent} is signed with {signature.signature_method}; "
                "ask the school's IT to sign with RSA-SHA256 or stronger",
            )
        weak = [d for d in signature.digest_methods if d not in STRONG_DIGESTS]
        if weak:
            raise SamlFailure(
                "weak_algorithm",
                f"the {signature.parent} signature uses the digest {weak[0]}; ask "
                "the school's IT to use SHA-256 or stronger",
            )
        covering.append(signature.parent)
    if not covering:
        raise SamlFailure(
            "unsigned",
            "neither the response nor the assertion is signed; ask the school's IT "
            "to sign the assertion (or the whole response) for Penji",
        )


def check_addresses(facts: ResponseFacts, settings: SpSettings, idp_id: str) -> None:
    """Compare Destination, Audience, Recipient and Issuer with this SP and IdP."""
    acs_urls = (settings.acs_url, *settings.extra_acs_urls)
    if not facts.destination:
        raise SamlFailure(
            "destination",
            f"destination missing: the response has no Destination; expected "
            f"{settings.acs_url}",
        )
    if facts.destination not in acs_urls:
        raise SamlFailure(
            "destination",
            f"destination mismatch: the response is addressed to "
            f"{facts.destination}, but this SP's ACS URL is {settings.acs_url}",
        )
    if facts.confirmation_recipient and facts.confirmation_recipient not in acs_urls:
        raise SamlFailure(
            "destination",
            f"destination mismatch: the assertion's Recipient is "
            f"{facts.confirmation_recipient}, but this SP's ACS URL is "
            f"{settings.acs_url}",
        )
    if settings.entity_id not in facts.audiences:
        found = ", ".join(facts.audiences) or "none"
        raise SamlFailure(
            "audience",
            f"audience mismatch: the assertion is for {found}, but this SP's "
            f"entity ID is {settings.entity_id}",
        )
    for issuer in (facts.response_issuer, facts.assertion_issuer):
        if issuer and issuer != idp_id:
            raise SamlFailure(
                "issuer",
                f"issuer mismatch: the response comes from {issuer}, but the "
                f"school's IdP is {idp_id}",
            )


def check_times(facts: ResponseFacts, skew: timedelta, now: datetime) -> None:
    """Compare NotBefore and NotOnOrAfter with the server clock, allowing ``skew``."""
    if facts.not_before and now + skew < facts.not_before:
        raise SamlFailure(
            "clock_skew",
            f"clock skew: the assertion is not valid before "
            f"{_when(facts.not_before)}, and the server time is {_when(now)} "
            f"(allowance {skew.total_seconds():g} s); check both clocks",
        )
    for label, limit in (
        ("Conditions", facts.not_on_or_after),
        ("SubjectConfirmationData", facts.confirmation_not_on_or_after),
    ):
        if limit and now - skew >= limit:
            raise SamlFailure(
                "clock_skew",
                f"clock skew or expired: the assertion's {label} NotOnOrAfter is "
                f"{_when(limit)}, and the server time is {_when(now)} "
                f"(allowance {skew.total_seconds():g} s)",
            )


def check_replay(
    facts: ResponseFacts, settings: SpSettings, state: ReplayState
) -> None:
    """Reject a replayed assertion, a reused request ID and unsolicited responses."""
    if facts.assertion_id and state.seen_assertion(facts.assertion_id):
        raise SamlFailure(
            "replayed",
            f"replayed: assertion {facts.assertion_id} was already accepted once",
        )
    answered = facts.in_response_to or facts.confirmation_in_response_to
    if (
        facts.confirmation_in_response_to
        and facts.in_response_to
        and (facts.confirmation_in_response_to != facts.in_response_to)
    ):
        raise SamlFailure(
            "unsolicited",
            f"the Response answers {facts.in_response_to} but its assertion "
            f"answers {facts.confirmation_in_response_to}",
        )
    if not answered:
        if not settings.allow_idp_initiated:
            raise SamlFailure(
                "unsolicited",
                "unsolicited: the response answers no request, and IdP-initiated "
                "login is off for this school; start the login from Penji, or turn "
                "on IdP-initiated login",
            )
        return
    if answered in state.used_request_ids:
        raise SamlFailure(
            "replayed",
            f"replayed: request {answered} already has an accepted response",
        )
    if answered in state.expired_request_ids:
        raise SamlFailure(
            "unsolicited",
            f"unsolicited: request {answered} expired before this response came; "
            "start a new test login",
        )
    if answered not in state.open_request_ids:
        raise SamlFailure(
            "unsolicited",
            f"unsolicited: the response answers request {answered}, which this SP "
            "did not send; start a new test login",
        )


def _attributes(assertion: object) -> list[Attribute]:
    found = []
    for statement in getattr(assertion, "attribute_statement", []) or []:
        for attribute in statement.attribute:
            values = [v.text or "" for v in attribute.attribute_value]
            found.append(
                Attribute(attribute.name or "", attribute.friendly_name or "", values)
            )
    return found


def verify_with_pysaml2(
    xml: bytes, settings: SpSettings, facts: ResponseFacts, state: ReplayState
) -> object:
    """Let pysaml2 and xmlsec1 check the signature and conditions; never return None."""
    from saml2 import BINDING_HTTP_POST
    from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
    from saml2.sigver import MissingKey, SignatureError

    client = make_client(settings)
    answered = facts.in_response_to or facts.confirmation_in_response_to
    outstanding = {answered: "test-login"} if answered else {}
    tried = ", ".join(state.idp_fingerprints) or "none"
    try:
        result = client.parse_authn_request_response(
            base64.b64encode(xml).decode(), BINDING_HTTP_POST, outstanding=outstanding
        )
    except (SignatureError, IncorrectlySigned, MissingKey) as error:
        log.info("SAML signature check failed: %s", type(error).__name__)
        raise SamlFailure(
            "bad_signature",
            "bad signature: no signing certificate of the IdP metadata verifies it "
            f"(SHA-256 fingerprints tried: {tried}); the response was changed "
            "after signing, or the IdP signs with a certificate not in its metadata",
        ) from None
    except UnsolicitedResponse:
        raise SamlFailure(
            "unsolicited", "unsolicited: the response matches no open request"
        ) from None
    except StatusError as error:
        raise SamlFailure(
            "idp_status", f"the IdP reported a failure: {error}"
        ) from None
    except Exception as error:  # pysaml2 raises many unrelated types
        log.info("pysaml2 rejected a response: %s: %s", type(error).__name__, error)
        raise SamlFailure(
            "invalid", f"the SAML checks rejected the response: {error}"
        ) from None
    if result is None or getattr(result, "assertion", None) is None:
        raise SamlFailure(
            "invalid",
            "the SAML checks rejected the response without a reason (pysaml2 "
            "returns nothing on, for one, a Destination or InResponseTo mismatch)",
        )
    return result


def verify_response(
    xml: bytes,
    settings: SpSettings,
    idp_entity_id: str,
    state: ReplayState,
    now: datetime | None = None,
) -> VerifiedLogin:
    """Check a decoded SAML response and return the verified login.

    The structural checks come first, so a failure names its cause. Then
    pysaml2 with xmlsec1 verifies the signature against the IdP's metadata
    certificates and repeats the condition checks.
    """
    now = now or datetime.now(UTC)
    facts = read_response(xml)
    check_no_comments(xml)
    skew = timedelta(seconds=settings.clock_skew_seconds)
    check_structure(facts)
    check_signatures(facts)
    check_addresses(facts, settings, idp_entity_id)
    check_times(facts, skew, now)
    check_replay(facts, settings, state)

    result = verify_with_pysaml2(xml, settings, facts, state)
    assertion = result.assertion  # type: ignore[attr-defined]
    name_id = assertion.subject.name_id if assertion.subject else None
    if not assertion.id or assertion.id != facts.assertion_id:
        raise SamlFailure(
            "signature_wrapping",
            "signature wrapping: the verified assertion is not the one in the Response",
        )
    limits = [
        t for t in (facts.not_on_or_after, facts.confirmation_not_on_or_after) if t
    ]
    expires = min(limits) if limits else now + timedelta(hours=1)
    return VerifiedLogin(
        name_id=(name_id.text or "").strip() if name_id is not None else "",
        name_id_format=(name_id.format or "") if name_id is not None else "",
        attributes=_attributes(assertion),
        facts=facts,
        assertion_expires_at=expires + skew,
    )
