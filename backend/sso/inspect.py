"""A structural read of a SAML response, before and beside pysaml2's checks.

pysaml2 raises or returns ``None`` with little explanation, so the facts staff
need in a failure message (both audience values, the times against the server
clock, which signature covers what) are read here from the decoded XML. Nothing
read here is trusted for login: the NameID and attributes shown after a
success come from the assertion pysaml2 verified.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from backend.errors import InvalidValue

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


@dataclass(frozen=True)
class SignatureInfo:
    """One ``ds:Signature`` element: what it is inside and what it references."""

    parent: str
    parent_id: str
    reference_uri: str
    signature_method: str
    digest_methods: list[str]
    certificates: list[str]


@dataclass
class ResponseFacts:
    """Facts read from a SAML response without verifying anything."""

    response_id: str = ""
    in_response_to: str = ""
    destination: str = ""
    issue_instant: str = ""
    response_issuer: str = ""
    status: str = ""
    status_message: str = ""
    assertion_count: int = 0
    encrypted_assertion_count: int = 0
    assertion_is_child: bool = False
    assertion_id: str = ""
    assertion_issuer: str = ""
    audiences: list[str] = field(default_factory=list)
    not_before: datetime | None = None
    not_on_or_after: datetime | None = None
    confirmation_not_on_or_after: datetime | None = None
    confirmation_recipient: str = ""
    confirmation_in_response_to: str = ""
    duplicate_ids: list[str] = field(default_factory=list)
    signatures: list[SignatureInfo] = field(default_factory=list)


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def decode_saml_response(text: str | bytes) -> bytes:
    """Decode a SAMLResponse as pasted: base64, URL-encoded form data, or XML.

    Browser developer tools show the POST body either as ``SAMLResponse=...``
    (URL-encoded) or as the bare base64 value. Both are accepted, and so is the
    decoded XML itself.
    """
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    raw = raw.strip()
    if raw.startswith("<"):
        return raw.encode()
    field = re.search(r"SAMLResponse=([^&\s]*)", raw)
    if field:
        raw = field.group(1)
    # unquote, not unquote_plus: base64 has no spaces, so a "+" is always part
    # of the value, whether the form body was URL-encoded or pasted as shown.
    raw = urllib.parse.unquote(raw)
    compact = re.sub(r"\s+", "", raw)
    try:
        xml = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(
            "the SAMLResponse is not valid base64; copy the whole SAMLResponse "
            "value from the browser's network tab (the POST to the ACS URL)"
        ) from None
    if not xml.lstrip().startswith(b"<"):
        raise InvalidValue(
            "the SAMLResponse decodes to something other than XML; copy the "
            "SAMLResponse form value, not the RelayState or a redirect URL"
        )
    return xml


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = re.match(r"\d*", tail).group(0)  # type: ignore[union-attr]
        text = head + "." + digits[:6].ljust(6, "0") + tail[len(digits) :]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _signature(parent: Element, node: Element) -> SignatureInfo:
    method = node.find(f"{_tag(DS, 'SignedInfo')}/{_tag(DS, 'SignatureMethod')}")
    reference = node.find(f"{_tag(DS, 'SignedInfo')}/{_tag(DS, 'Reference')}")
    digests = [d.get("Algorithm", "") for d in node.iter(_tag(DS, "DigestMethod"))]
    certs = [
        "".join((c.text or "").split()) for c in node.iter(_tag(DS, "X509Certificate"))
    ]
    return SignatureInfo(
        parent=parent.tag.rpartition("}")[2],
        parent_id=parent.get("ID", ""),
        reference_uri=reference.get("URI", "") if reference is not None else "",
        signature_method=method.get("Algorithm", "") if method is not None else "",
        digest_methods=digests,
        certificates=certs,
    )


def _read_assertion(facts: ResponseFacts, assertion: Element) -> None:
    facts.assertion_id = assertion.get("ID", "")
    issuer = assertion.find(_tag(SAML, "Issuer"))
    facts.assertion_issuer = (issuer.text or "").strip() if issuer is not None else ""
    conditions = assertion.find(_tag(SAML, "Conditions"))
    if conditions is not None:
        facts.not_before = _time(conditions.get("NotBefore"))
        facts.not_on_or_after = _time(conditions.get("NotOnOrAfter"))
        facts.audiences = [
            (a.text or "").strip() for a in conditions.iter(_tag(SAML, "Audience"))
        ]
    data = assertion.find(
        f"{_tag(SAML, 'Subject')}/{_tag(SAML, 'SubjectConfirmation')}/"
        f"{_tag(SAML, 'SubjectConfirmationData')}"
    )
    if data is not None:
        facts.confirmation_not_on_or_after = _time(data.get("NotOnOrAfter"))
        facts.confirmation_recipient = data.get("Recipient", "")
        facts.confirmation_in_response_to = data.get("InResponseTo", "")


def read_response(xml: bytes) -> ResponseFacts:
    """Read the facts of a SAML response; raise InvalidValue if it is not one."""
    try:
        root = fromstring(xml)
    except (ParseError, DefusedXmlException) as error:
        raise InvalidValue(
            f"the SAMLResponse is not well-formed XML ({error}); copy it again"
        ) from None
    if root.tag != _tag(SAMLP, "Response"):
        raise InvalidValue(
            f"the XML is a {root.tag.rpartition('}')[2]}, not a SAML Response; "
            "copy the SAMLResponse value of the POST to the ACS URL"
        )

    facts = ResponseFacts(
        response_id=root.get("ID", ""),
        in_response_to=root.get("InResponseTo", ""),
        destination=root.get("Destination", ""),
        issue_instant=root.get("IssueInstant", ""),
    )
    issuer = root.find(_tag(SAML, "Issuer"))
    facts.response_issuer = (issuer.text or "").strip() if issuer is not None else ""
    code = root.find(f"{_tag(SAMLP, 'Status')}/{_tag(SAMLP, 'StatusCode')}")
    facts.status = code.get("Value", "") if code is not None else ""
    inner = code.find(_tag(SAMLP, "StatusCode")) if code is not None else None
    if inner is not None:
        facts.status += " / " + inner.get("Value", "")
    message = root.find(f"{_tag(SAMLP, 'Status')}/{_tag(SAMLP, 'StatusMessage')}")
    facts.status_message = (message.text or "").strip() if message is not None else ""

    assertions = list(root.iter(_tag(SAML, "Assertion")))
    facts.assertion_count = len(assertions)
    facts.encrypted_assertion_count = len(
        list(root.iter(_tag(SAML, "EncryptedAssertion")))
    )
    children = list(root.findall(_tag(SAML, "Assertion")))
    facts.assertion_is_child = len(children) == 1 and len(assertions) == 1
    if children:
        _read_assertion(facts, children[0])

    ids = Counter(node.get("ID") for node in root.iter() if node.get("ID"))
    facts.duplicate_ids = sorted(str(i) for i, count in ids.items() if count > 1)
    for parent in root.iter():
        for child in parent.findall(_tag(DS, "Signature")):
            facts.signatures.append(_signature(parent, child))
    return facts
