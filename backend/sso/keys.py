"""The SP signing key and certificate of each school.

Keys live in a folder of their own, by default ``keys`` under the user data
folder (``$PENJI_SSO_KEYS_DIR`` overrides it). The folder is mode 0700 and each
key file 0600; the database records only the path, never the key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from backend.errors import InvalidValue

KEYS_DIR_ENV = "PENJI_SSO_KEYS_DIR"
KEY_BITS = 2048
CERT_YEARS = 10


@dataclass(frozen=True)
class KeyPair:
    """The path of a school's SP key file, and its certificate in PEM."""

    key_path: Path
    cert_pem: str


def default_keys_dir() -> Path:
    """Return the folder for SP keys: ``$PENJI_SSO_KEYS_DIR`` or the data folder."""
    if os.environ.get(KEYS_DIR_ENV):
        return Path(os.environ[KEYS_DIR_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("penji-tui", appauthor=False)) / "keys"


def _private_folder(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def generate_key_pair(school_slug: str, entity_id: str, folder: Path) -> KeyPair:
    """Create an RSA key and a self-signed SHA-256 certificate for one school.

    The key file is created with mode 0600 before any byte is written, so it is
    never readable by others, even for a moment.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, entity_id[:64])])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
        .sign(key, hashes.SHA256())
    )

    folder = _private_folder(folder)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    key_path = folder / f"{school_slug}-sp-{stamp}.key"
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return KeyPair(key_path=key_path, cert_pem=cert_pem)


def check_key_file(path: Path) -> Path:
    """Return ``path`` if it is a key file that only its owner can read."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise InvalidValue(
            f"SP key file {path} not found; create a new key with "
            "'penji-tui sso setup --new-key'"
        ) from None
    if mode & 0o077:
        raise InvalidValue(
            f"SP key file {path} has mode {mode:o}, readable by others; "
            f"run 'chmod 600 {path}' and check who read it"
        )
    return path


def pem_body(cert_pem: str) -> str:
    """Return the base64 body of a PEM certificate, as metadata carries it."""
    lines = [line.strip() for line in cert_pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def sha256_fingerprint(der: bytes) -> str:
    """Return a certificate's SHA-256 fingerprint as colon-separated hex pairs."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
