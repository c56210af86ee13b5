"""A SAML identity provider for tests, built on pysaml2's Server.

It signs with its own keys through the same xmlsec1 binary, and can change a
response before signing it (times, audience, attributes), which a real IdP
misconfiguration or an attacker would produce.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_URI, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from backend.sso.keys import pem_body
from backend.sso.saml import NAMEID_PERSISTENT, xmlsec_binary

IDP_ENTITY_ID = "https://idp.uni.test/idp/shibboleth"
IDP_SSO_URL = "https://idp.uni.test/idp/profile/SAML2/Redirect/SSO"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@dataclass(frozen=True)
class IdpKey:
    """An IdP signing key and certificate in files, as pysaml2 reads them."""

    key_file: Path
    cert_file: Path
    cert_pem: str


def make_idp_key(folder: Path, name: str, days: int = 365) -> IdpKey:
    """Create an RSA key and a self-signed certificate valid for ``days``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"idp {name}")])
    now = datetime.now(UTC)
    start = now - timedelta(days=1) if days > 0 else now - timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / f"{name}.key"
    cert_file = folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file.write_text(cert_pem)
    return IdpKey(key_file, cert_file, cert_pem)


def idp_metadata(certs: list[IdpKey], entity_id: str = IDP_ENTITY_ID) -> str:
    """Return IdP metadata listing each certificate as a signing key."""
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{pem_body(c.cert_pem)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for c in certs
    )
    return (
        '<?xml version="1.0"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="'
        'urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}"
        f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{IDP_SSO_URL}"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TestIdp:
    """An IdP that replies to AuthnRequests of one SP with signed responses."""

    __test__ = False

    def __init__(self, key: IdpKey, sp_metadata: str, entity_id: str = IDP_ENTITY_ID):
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": xmlsec_binary(),
                "key_file": str(key.key_file),
                "cert_file": str(key.cert_file),
                "metadata": {"inline": [sp_metadata]},
                "delete_tmpfiles": True,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (IDP_SSO_URL, BINDING_HTTP_REDIRECT)
                            ]
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_PERSISTENT],
                        "want_authn_requests_signed": True,
                    }
                },
            }
        )
        self.server = Server(config=config)

    def read_request(self, url: str) -> tuple[str, str]:
        """Check a redirect AuthnRequest URL with its signature; return ID and ACS."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        request = self.server.parse_authn_request(
            query["SAMLRequest"][0],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState", [None])[0],
            sigalg=query["SigAlg"][0],
            signature=query["Signature"][0],
        )
        message = request.message
        return message.id, message.assertion_consumer_service_url

    def respond(
        self,
        request_id: str | None,
        sp_entity_id: str,
        acs_url: str,
        identity: dict[str, list[str]] | None = None,
        change: Callable[[Any], None] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        weak: bool = False,
    ) -> str:
        """Return the XML of a response, changed by ``change`` before signing."""
        identity = identity or {"uid": ["jdoe"], "mail": ["jdoe@uni.edu"]}
        unsigned = self.server.create_authn_response(
            identity,
            in_response_to=request_id,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_PERSISTENT, text="jdoe-persistent"),
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
            sign_assertion=False,
            sign_response=False,
        )
        response = samlp.response_from_string(str(unsigned))
        if request_id is None:
            response.in_response_to = None
            for confirmation in response.assertion[0].subject.subject_confirmation:
                confirmation.subject_confirmation_data.in_response_to = None
        if change is not None:
            change(response)
        return self.sign(response, sign_assertion, sign_response, weak)

    def sign(
        self, response: Any, sign_assertion: bool, sign_response: bool, weak: bool
    ) -> str:
        sign_alg = SIG_RSA_SHA1 if weak else SIG_RSA_SHA256
        digest_alg = DIGEST_SHA1 if weak else DIGEST_SHA256
        cert = self.server.sec.my_cert
        to_sign = []
        if sign_assertion:
            assertion = response.assertion[0]
            assertion.signature = pre_signature_part(
                assertion.id, cert, 1, sign_alg=sign_alg, digest_alg=digest_alg
            )
            to_sign.append((class_name(assertion), assertion.id))
        if sign_response:
            response.signature = pre_signature_part(
                response.id, cert, 1, sign_alg=sign_alg, digest_alg=digest_alg
            )
            to_sign.append((class_name(response), response.id))
        if not to_sign:
            return str(response)
        return signed_instance_factory(response, self.server.sec, to_sign)


def class_name(instance: Any) -> str:
    return f"{instance.c_namespace}:{instance.c_tag}"


def shift_times(
    not_before: timedelta, not_on_or_after: timedelta
) -> Callable[[Any], None]:
    """Return a change that moves an assertion's validity window against now."""

    def change(response: Any) -> None:
        now = datetime.now(UTC)
        assertion = response.assertion[0]
        assertion.conditions.not_before = _iso(now + not_before)
        assertion.conditions.not_on_or_after = _iso(now + not_on_or_after)
        for confirmation in assertion.subject.subject_confirmation:
            confirmation.subject_confirmation_data.not_on_or_after = _iso(
                now + not_on_or_after
            )

    return change
