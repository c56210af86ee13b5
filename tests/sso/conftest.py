"""Fixtures for SSO tests: a school with SSO set up and a test IdP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.sso import logins, service
from backend.sso.saml import sp_acs_url, sp_entity_id
from tests.helpers import make_community
from tests.sso.idp import IdpKey, TestIdp, idp_metadata, make_idp_key

BASE_URL = "https://cloud.penjiapp.com"


@dataclass
class SsoSchool:
    """A school ``uni`` with SSO against ``idp``, signing with ``keys["current"]``."""

    factory: sessionmaker[Session]
    idp: TestIdp
    keys: dict[str, IdpKey]
    sp_metadata: str
    entity_id: str = sp_entity_id(BASE_URL, "uni")
    acs_url: str = sp_acs_url(BASE_URL, "uni")

    def idp_with(self, key_name: str) -> TestIdp:
        return TestIdp(self.keys[key_name], self.sp_metadata)

    def request(self) -> str:
        request_id, _url = logins.start_test_login(self.factory, "uni")
        return request_id


@pytest.fixture(scope="session")
def idp_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IdpKey]:
    folder = tmp_path_factory.mktemp("idp-keys")
    return {
        "current": make_idp_key(folder, "current"),
        "next": make_idp_key(folder, "next"),
        "unknown": make_idp_key(folder, "unknown"),
        "soon": make_idp_key(folder, "soon", days=10),
        "expired": make_idp_key(folder, "expired", days=-1),
    }


def set_up_school(
    factory: sessionmaker[Session], keys_dir: Path, idp_keys: dict[str, IdpKey]
) -> SsoSchool:
    make_community(factory, "lc", "uni")
    with transaction(factory) as session:
        service.setup_sso(session, "uni", BASE_URL, keys_dir=keys_dir)
        service.set_idp_metadata(
            session, "uni", idp_metadata([idp_keys["current"]]), "test"
        )
        sp_metadata = service.export_sp_metadata(session, "uni")
    idp = TestIdp(idp_keys["current"], sp_metadata)
    return SsoSchool(factory, idp, idp_keys, sp_metadata)


@pytest.fixture
def sso_school(
    sqlite_factory: sessionmaker[Session],
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
) -> Iterator[SsoSchool]:
    """A school with SSO on a SQLite database."""
    yield set_up_school(sqlite_factory, tmp_path / "keys", idp_keys)


@pytest.fixture
def sso_school_any(
    factory: sessionmaker[Session],
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
) -> Iterator[SsoSchool]:
    """A school with SSO on each database backend."""
    yield set_up_school(factory, tmp_path / "keys", idp_keys)
