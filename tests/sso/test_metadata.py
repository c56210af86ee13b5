"""SP metadata export, IdP metadata preview, and fetching it over HTTPS."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from backend.db import transaction
from backend.errors import InvalidValue
from backend.sso import service
from backend.sso.metadata import fetch_metadata, parse_idp_metadata
from tests.sso.conftest import SsoSchool
from tests.sso.https_server import MetadataServer
from tests.sso.idp import IDP_ENTITY_ID, IDP_SSO_URL, REDIRECT, IdpKey, idp_metadata

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
ALG = "{urn:oasis:names:tc:SAML:metadata:algsupport}"


def test_sp_metadata_entity_and_acs(sso_school: SsoSchool) -> None:
    root = fromstring(sso_school.sp_metadata)
    acs = root.find(f"{MD}SPSSODescriptor/{MD}AssertionConsumerService")
    assert root.get("entityID") == "https://cloud.penjiapp.com/saml/uni/sp/metadata"
    assert acs is not None
    assert acs.get("Location") == "https://cloud.penjiapp.com/saml/uni/login/callback"


def test_sp_metadata_sha256_only(sso_school: SsoSchool) -> None:
    root = fromstring(sso_school.sp_metadata)
    digests = [e.get("Algorithm") for e in root.iter(f"{ALG}DigestMethod")]
    signing = [e.get("Algorithm") for e in root.iter(f"{ALG}SigningMethod")]
    assert digests == ["http://www.w3.org/2001/04/xmlenc#sha256"]
    assert signing == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]


def test_sp_metadata_requested_attributes(sso_school: SsoSchool) -> None:
    root = fromstring(sso_school.sp_metadata)
    names = [e.get("Name") for e in root.iter(f"{MD}RequestedAttribute")]
    assert names == [
        "urn:oid:0.9.2342.19200300.100.1.1",
        "urn:oid:0.9.2342.19200300.100.1.3",
    ]


def test_sp_metadata_nameid_format(sso_school: SsoSchool) -> None:
    root = fromstring(sso_school.sp_metadata)
    formats = [e.text for e in root.iter(f"{MD}NameIDFormat")]
    assert formats == ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"]


def test_sp_key_owner_only(sso_school: SsoSchool, tmp_path: Path) -> None:
    with sso_school.factory() as session:
        _school, config = service.require_config(session, "uni")
    key = Path(config.key_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert "PRIVATE KEY" not in config.cert_pem


def test_readable_key_rejected(sso_school: SsoSchool) -> None:
    with sso_school.factory() as session:
        _school, config = service.require_config(session, "uni")
    Path(config.key_path).chmod(0o644)
    with sso_school.factory() as session, pytest.raises(InvalidValue, match="chmod"):
        service.export_sp_metadata(session, "uni")


def test_idp_preview_lists_rollover(idp_keys: dict[str, IdpKey]) -> None:
    preview = parse_idp_metadata(idp_metadata([idp_keys["current"], idp_keys["next"]]))
    assert preview.entity_id == IDP_ENTITY_ID
    assert preview.sign_on == [(REDIRECT, IDP_SSO_URL)]
    assert len(preview.certificates) == 2
    assert preview.errors == []
    assert preview.warnings == []


def test_idp_preview_fingerprint(idp_keys: dict[str, IdpKey]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(idp_keys["current"].cert_pem.encode())
    expected = cert.fingerprint(hashes.SHA256()).hex().upper()
    preview = parse_idp_metadata(idp_metadata([idp_keys["current"]]))
    assert preview.certificates[0].fingerprint.replace(":", "") == expected


def test_idp_preview_warns_expiring(idp_keys: dict[str, IdpKey]) -> None:
    preview = parse_idp_metadata(idp_metadata([idp_keys["soon"]]))
    assert preview.errors == []
    assert len(preview.warnings) == 1
    assert "under 30 days" in preview.warnings[0]


def test_idp_preview_errors_expired(idp_keys: dict[str, IdpKey]) -> None:
    preview = parse_idp_metadata(idp_metadata([idp_keys["expired"]]))
    assert len(preview.errors) == 1
    assert "expired" in preview.errors[0]


def test_expired_idp_metadata_rejected(
    sso_school: SsoSchool, idp_keys: dict[str, IdpKey]
) -> None:
    xml = idp_metadata([idp_keys["expired"]])
    with (
        transaction(sso_school.factory) as session,
        pytest.raises(InvalidValue, match="expired"),
    ):
        service.set_idp_metadata(session, "uni", xml, "test")


def test_malformed_idp_metadata_rejected() -> None:
    with pytest.raises(InvalidValue, match="not well-formed"):
        parse_idp_metadata("<md:EntityDescriptor")


def test_metadata_fetched_over_https(
    tmp_path: Path, idp_keys: dict[str, IdpKey]
) -> None:
    body = idp_metadata([idp_keys["current"]]).encode()
    with MetadataServer(tmp_path, body) as server:
        data = fetch_metadata(
            f"{server.url}/metadata", timeout=5, cafile=str(server.cert_file)
        )
    assert data == body


def test_untrusted_https_rejected(tmp_path: Path) -> None:
    with (
        MetadataServer(tmp_path, b"<x/>") as server,
        pytest.raises(InvalidValue, match="failed"),
    ):
        fetch_metadata(f"{server.url}/metadata", timeout=5)


def test_slow_metadata_times_out(tmp_path: Path) -> None:
    with (
        MetadataServer(tmp_path, b"<x/>") as server,
        pytest.raises(InvalidValue, match="timed out"),
    ):
        fetch_metadata(f"{server.url}/slow", timeout=0.3, cafile=str(server.cert_file))


def test_plain_http_rejected() -> None:
    with pytest.raises(InvalidValue, match="not HTTPS"):
        fetch_metadata("http://127.0.0.1:9/metadata")
