"""Password hashing with Werkzeug's scrypt (docs/design.md "Rules with numbers": passwords)."""

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    """Return a scrypt hash of `password` (about 162 characters)."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`; False for accounts without one."""
    if not password_hash:
        return False
    return check_password_hash(password_hash, password)
