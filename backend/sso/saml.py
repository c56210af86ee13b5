"""The SAML service provider of one school, built on pysaml2 and xmlsec1.

Security settings here cannot be switched off by staff:

- a signed assertion or response is required;
- signatures and digests must be SHA-256 or stronger;
- each AuthnRequest ID is accepted in one response only;
- assertion IDs go to a replay cache;
- an unsolicited response is rejected unless the school allows IdP-initiated
  login.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.errors import InvalidValue
from backend.sso.inspect import ResponseFacts

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://cloud.penjiapp.com"
SIGN_ON_URL = "https://web.penjiapp.com/login"
UID_OID = "urn:oid:0.9.2342.19200300.100.1.1"
MAIL_OID = "urn:oid:0.9.2342.19200300.100.1.3"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
ATTRNAME_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
FRIENDLY_NAMES = {UID_OID: "uid", MAIL_OID: "mail"}

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
STRONG_DIGESTS = {
    SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
STRONG_SIGNATURES = {
    RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
}


class SamlFailure(Exception):
    """A rejected SAML response; the message gives the reason in plain words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SpSettings:
    """The settings pysaml2 needs to act as one school's service provider."""

    school_slug: str
    base_url: str
    key_path: Path
    cert_pem: str
    name_id_format: str
    idp_metadata_xml: str
    allow_idp_initiated: bool
    clock_skew_seconds: int
    requested_attributes: list[str]
    extra_acs_urls: tuple[str, ...] = ()

    @property
    def entity_id(self) -> str:
        return sp_entity_id(self.base_url, self.school_slug)

    @property
    def acs_url(self) -> str:
        return sp_acs_url(self.base_url, self.school_slug)


@dataclass
class Attribute:
    """One SAML attribute as released by the IdP."""

    name: str
    friendly_name: str
    values: list[str]


@dataclass
class VerifiedLogin:
    """The NameID and attributes of a verified response, with its facts."""

    name_id: str
    name_id_format: str
    attributes: list[Attribute]
    facts: ResponseFacts
    assertion_expires_at: datetime
    warnings: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        """Return the values of the attribute called ``name`` or friendly ``name``."""
        for attribute in self.attributes:
            if name in (attribute.name, attribute.friendly_name):
                return attribute.values
        return []


def sp_entity_id(base_url: str, school_slug: str) -> str:
    return f"{base_url.rstrip('/')}/saml/{school_slug}/sp/metadata"


def sp_acs_url(base_url: str, school_slug: str) -> str:
    return f"{base_url.rstrip('/')}/saml/{school_slug}/login/callback"


def xmlsec_binary() -> str:
    """Return the path of the xmlsec1 program that checks and makes signatures."""
    path = shutil.which("xmlsec1")
    if path is None:
        raise InvalidValue(
            "the xmlsec1 program is missing; install it with 'apt-get install xmlsec1'"
        )
    return path


def cert_path(settings: SpSettings) -> Path:
    """Write the SP certificate next to its key (public, mode 0644) and return it."""
    path = settings.key_path.with_suffix(".crt")
    if not path.exists() or path.read_text() != settings.cert_pem:
        path.write_text(settings.cert_pem)
    return path


def pysaml2_config(settings: SpSettings) -> dict[str, Any]:
    """Build the pysaml2 SP configuration of a school."""
    from saml2 import BINDING_HTTP_POST

    acs = [
        (url, BINDING_HTTP_POST) for url in (settings.acs_url, *settings.extra_acs_urls)
    ]
    metadata = (
        {"inline": [settings.idp_metadata_xml]} if settings.idp_metadata_xml else {}
    )
    return {
        "entityid": settings.entity_id,
        "xmlsec_binary": xmlsec_binary(),
        "key_file": str(settings.key_path),
        "cert_file": str(cert_path(settings)),
        "metadata": metadata,
        "accepted_time_diff": settings.clock_skew_seconds,
        "allow_unknown_attributes": True,
        "only_use_keys_in_metadata": True,
        "metadata_key_usage": "signing",
        "delete_tmpfiles": True,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": acs},
                "want_assertions_or_response_signed": True,
                "want_response_signed": False,
                "want_assertions_signed": False,
                "allow_unsolicited": settings.allow_idp_initiated,
                "authn_requests_signed": True,
                "name_id_format": settings.name_id_format,
                "name_id_format_allow_create": True,
                "signing_algorithm": RSA_SHA256,
                "digest_algorithm": SHA256,
                "requested_attribute_name_format": ATTRNAME_URI,
            }
        },
    }


def make_client(settings: SpSettings) -> Any:
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(pysaml2_config(settings))
    return Saml2Client(config=config)


def sp_metadata(settings: SpSettings) -> str:
    """Return the SP metadata XML: SHA-256 only, requested attributes, NameID format."""
    from saml2 import md
    from saml2.config import SPConfig
    from saml2.extension.algsupport import DigestMethod, SigningMethod
    from saml2.metadata import entity_descriptor

    config = SPConfig()
    config.load(pysaml2_config(settings))
    descriptor = entity_descriptor(config)

    # pysaml2 lists every algorithm xmlsec1 supports, SHA-1 and MD5 included;
    # the SP accepts SHA-256 or stronger only, so it advertises SHA-256 alone.
    descriptor.extensions = md.Extensions(
        extension_elements=[],
    )
    descriptor.extensions.add_extension_element(DigestMethod(algorithm=SHA256))
    descriptor.extensions.add_extension_element(SigningMethod(algorithm=RSA_SHA256))

    sp = descriptor.spsso_descriptor
    # A signed response is accepted too, but a signed assertion is what IdPs
    # should send, so the metadata requests it.
    sp.want_assertions_signed = "true"
    requested = [
        md.RequestedAttribute(
            name=name,
            name_format=ATTRNAME_URI,
            friendly_name=FRIENDLY_NAMES.get(name),
            is_required="true",
        )
        for name in settings.requested_attributes
    ]
    sp.attribute_consuming_service = [
        md.AttributeConsumingService(
            index="1",
            service_name=[md.ServiceName(lang="en", text="Penji")],
            requested_attribute=requested,
        )
    ]
    return str(descriptor)


def authn_request_url(settings: SpSettings, relay_state: str = "") -> tuple[str, str]:
    """Make a signed AuthnRequest redirect URL; return its request ID and the URL."""
    from saml2 import BINDING_HTTP_REDIRECT

    client = make_client(settings)
    idps = list(client.metadata.identity_providers())
    if not idps:
        raise InvalidValue(
            "no IdP metadata is loaded; add it with 'penji-tui sso idp' first"
        )
    request_id, info = client.prepare_for_authenticate(
        entityid=idps[0],
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=RSA_SHA256,
        digest_alg=SHA256,
    )
    location = dict(info["headers"])["Location"]
    return request_id, location
