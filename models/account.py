"""Accounts: employees (staff with one role) and customers, plus OTP codes and
revoked token sessions (docs/design.md "Accounts and roles", "Rules with numbers")."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db, utcnow

ROLES = ("admin", "hr", "sales", "operation", "operation_head", "finance", "operator")
STAFF = ROLES


class AccountMixin:
    """Fields and helpers shared by employees and customers."""

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    # When the account holder proved the phone is theirs with a code texted to it
    # (POST /auth/phone/confirm); any change of the phone clears it
    # (_phone_changed). Only a confirmed phone receives sign-in codes
    # (docs/security.md "One-time codes by SMS").
    phone_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Tokens issued before this instant are refused (password change, deactivation).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the holder's mail, documents and API answers: `en`, `de` or
    # `es`; null follows the request's Accept-Language (docs/i18n.md).
    locale: Mapped[str | None] = mapped_column(String(5))

    @property
    def identity(self) -> str:
        """The JWT subject: `"<account type>:<id>"` (a string: docs/architecture.md
        "Stack notes")."""
        return f"{self.account_type}:{self.id}"


class Employee(AccountMixin, TimestampMixin, db.Model):
    """A staff member with exactly one role."""

    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin','hr','sales','operation','operation_head','finance',"
            "'operator')",
            name="role_valid",
        ),
        # An `operator` works for exactly one transport company; no other role has
        # one (docs/transport.md "Companies and operators").
        CheckConstraint(
            "(role = 'operator') = (company_id IS NOT NULL)",
            name="operator_company",
        ),
        # Never reuse an id: an old token's subject must not name a new account.
        {"sqlite_autoincrement": True},
    )
    account_type = "employee"
    is_staff = True  # any role (docs/design.md "Accounts and roles")

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_companies.id", ondelete="RESTRICT"), index=True
    )


class Customer(AccountMixin, TimestampMixin, db.Model):
    """A traveller who books; may have no password when registered by sales."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("wallet_balance >= 0", name="wallet_non_negative"),
        # `sort=name` pages by keyset on an index (docs/design.md "API conventions").
        Index("ix_customers_name", "name"),
        {"sqlite_autoincrement": True},
    )
    account_type = "customer"
    role = "customer"
    is_staff = False

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str | None] = mapped_column(Text)
    # What invoices show as the buyer (snapshotted at issue, docs/documents.md).
    billing_address: Mapped[str | None] = mapped_column(Text)
    vat_id: Mapped[str | None] = mapped_column(String(20))
    # Cached sum of the wallet ledger; the CHECK keeps it from going negative.
    wallet_balance: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), nullable=False
    )
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    # The phone as digits only (duplicate detection, services/sales/customer_merge.py).
    phone_normalized: Mapped[str | None] = mapped_column(String(32), index=True)
    # Set when this record was merged into another (it is then inactive and empty).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )

    enquiries = relationship(
        "Enquiry",
        back_populates="customer",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class OtpCode(db.Model):
    """A one-time code, stored as an HMAC, valid for a short time and a few tries."""

    __tablename__ = "otp_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_type: Mapped[str] = mapped_column(String(10), nullable=False)
    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
    # Purpose "email_change": the address the code was mailed to, which becomes the
    # account's email when the account holder confirms the code.
    new_email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (
        db.Index("ix_otp_codes_account", "account_type", "account_id", "created_at"),
    )


class RevokedSession(db.Model):
    """A login session (the `sid` claim shared by its access and refresh tokens) that
    was logged out; its tokens are refused until they would have expired anyway."""

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(36), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )


def is_staff(account) -> bool:
    """True for an Employee (any role); False for a customer or no account (an
    anonymous caller, a system action)."""
    return account is not None and account.is_staff


def _phone_changed(target, value, oldvalue, _initiator):
    """A new phone is not confirmed, whoever set it (the account holder, staff,
    a merge): clear `phone_confirmed_at` of a stored account whose phone changes
    (docs/security.md "One-time codes by SMS"). An account being created keeps
    what its constructor was given (unconfirmed unless said otherwise)."""
    if value != oldvalue and inspect(target).persistent:
        target.phone_confirmed_at = None
    return value


for _model in (Employee, Customer):
    # active_history: the old phone is loaded first, so an expired attribute
    # still compares against the stored number.
    event.listen(_model.phone, "set", _phone_changed, retval=True, active_history=True)
