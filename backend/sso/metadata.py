"""Reading the identity provider's metadata, and fetching it over HTTPS."""

from __future__ import annotations

import base64
import binascii
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError

from cryptography import x509
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from backend.errors import InvalidValue
from backend.sso.keys import sha256_fingerprint

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXPIRY_WARNING = timedelta(days=30)
FETCH_TIMEOUT_SECONDS = 10.0
MAX_METADATA_BYTES = 5_000_000


@dataclass(frozen=True)
class SigningCertificate:
    """One signing certificate of the IdP, with what staff check before launch."""

    fingerprint: str
    subject: str
    not_after: datetime
    pem: str

    def status(self, now: datetime) -> str:
        """Return ``expired``, ``expires soon`` (under 30 days) or ``valid``."""
        if self.not_after <= now:
            return "expired"
        if self.not_after - now < EXPIRY_WARNING:
            return "expires soon"
        return "valid"


@dataclass(frozen=True)
class IdpPreview:
    """The preview of an IdP metadata document, with its problems."""

    entity_id: str
    sign_on: list[tuple[str, str]]
    certificates: list[SigningCertificate]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _idp_entity(root: Element) -> Element:
    if root.tag == _tag(MD, "EntityDescriptor"):
        candidates = [root]
    elif root.tag == _tag(MD, "EntitiesDescriptor"):
        candidates = list(root.iter(_tag(MD, "EntityDescriptor")))
    else:
        raise InvalidValue(
            f"IdP metadata starts with {root.tag}, not an EntityDescriptor; "
            "ask the school's IT for the SAML 2.0 metadata of their IdP"
        )
    idps = [e for e in candidates if e.find(_tag(MD, "IDPSSODescriptor")) is not None]
    if len(idps) != 1:
        names = ", ".join(e.get("entityID", "?") for e in idps[:5]) or "none"
        raise InvalidValue(
            f"IdP metadata must describe exactly one identity provider; found "
            f"{len(idps)} ({names}); ask the school's IT for their IdP's own file"
        )
    return idps[0]


def _certificate(text: str) -> SigningCertificate:
    body = "".join(text.split())
    try:
        der = base64.b64decode(body, validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as error:
        raise InvalidValue(
            f"IdP metadata has an unreadable X509Certificate ({error}); "
            "ask the school's IT for a fresh copy"
        ) from None
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
    pem += "\n-----END CERTIFICATE-----\n"
    return SigningCertificate(
        fingerprint=sha256_fingerprint(der),
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        pem=pem,
    )


def parse_idp_metadata(xml: str | bytes, now: datetime | None = None) -> IdpPreview:
    """Parse IdP metadata into a preview: entity ID, endpoints and certificates.

    Every signing certificate is listed, so a rollover (old and new side by
    side) is accepted. An expired certificate is an error and one expiring in
    under 30 days a warning.
    """
    now = now or datetime.now(UTC)
    try:
        root = fromstring(xml)
    except (ParseError, DefusedXmlException) as error:
        raise InvalidValue(
            f"IdP metadata is not well-formed XML ({error}); paste or load the "
            "whole file again"
        ) from None

    entity = _idp_entity(root)
    entity_id = entity.get("entityID", "")
    descriptor = entity.find(_tag(MD, "IDPSSODescriptor"))
    assert descriptor is not None
    sign_on = [
        (service.get("Binding", ""), service.get("Location", ""))
        for service in descriptor.findall(_tag(MD, "SingleSignOnService"))
    ]
    certificates = []
    for key in descriptor.findall(_tag(MD, "KeyDescriptor")):
        if key.get("use", "signing") != "signing":
            continue
        for node in key.iter(_tag(DS, "X509Certificate")):
            certificates.append(_certificate(node.text or ""))

    preview = IdpPreview(entity_id, sign_on, certificates)
    _check_preview(preview, now)
    return preview


def _check_preview(preview: IdpPreview, now: datetime) -> None:
    if not preview.entity_id:
        preview.errors.append("the EntityDescriptor has no entityID")
    redirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    if not any(binding == redirect for binding, _ in preview.sign_on):
        preview.errors.append(
            "no SingleSignOnService with the HTTP-Redirect binding, which test "
            "logins send the AuthnRequest with"
        )
    if not preview.certificates:
        preview.errors.append("no signing certificate (KeyDescriptor use=signing)")
    for cert in preview.certificates:
        status = cert.status(now)
        when = f"{cert.not_after:%Y-%m-%d %H:%M} UTC"
        if status == "expired":
            preview.errors.append(f"certificate {cert.fingerprint} expired on {when}")
        elif status == "expires soon":
            preview.warnings.append(
                f"certificate {cert.fingerprint} expires on {when}, in under 30 days"
            )


def fetch_metadata(
    url: str, timeout: float = FETCH_TIMEOUT_SECONDS, cafile: str | None = None
) -> bytes:
    """Download IdP metadata from an HTTPS URL, checking the server's certificate.

    ``cafile`` adds trusted certificate authorities, such as a private CA.
    """
    if not url.lower().startswith("https://"):
        raise InvalidValue(
            f"metadata URL {url!r} is not HTTPS; ask the school's IT for the https:// "
            "address of their IdP metadata"
        )
    context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, headers={"Accept": "application/xml"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:
            data = reply.read(MAX_METADATA_BYTES + 1)
    except TimeoutError:
        raise InvalidValue(
            f"fetching {url} timed out after {timeout:g} s; check the address or "
            "load the metadata from a file"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InvalidValue(
            f"fetching {url} failed: {reason}; check the address or load the "
            "metadata from a file"
        ) from None
    if len(data) > MAX_METADATA_BYTES:
        raise InvalidValue(
            f"metadata at {url} is larger than 5 MB; is it the right URL?"
        )
    return data
