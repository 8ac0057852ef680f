"""Password hashing with Werkzeug's scrypt (docs/design.md "Rules with numbers":
passwords)."""

import functools
import secrets

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    """Return a scrypt hash of `password` (about 162 characters)."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`; False for accounts without one."""
    if not password_hash:
        return False
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    """A scrypt hash of a random secret, made once per process with the same
    parameters as real hashes."""
    return hash_password(secrets.token_urlsafe(32))


def burn_verification(password: str) -> None:
    """Spend the time of one password check against a dummy hash, so a login for an
    unknown, inactive or password-less account takes as long as a wrong password
    for a real one (OWASP Authentication Cheat Sheet, "Authentication Responses")."""
    check_password_hash(_dummy_hash(), password)
