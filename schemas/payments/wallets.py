"""Wallet schemas (docs/design.md "Resource map": /customers/<id>/wallet; "Lifecycles":
wallet): the balance, the ledger and staff adjustments."""

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from models.billing import WALLET_ENTRY_KINDS
from schemas.common import (
    Money,
    PageArgs,
    PageMetaSchema,
    not_blank,
    require_decimal_string,
)


class SignedMoney(fields.Decimal):
    """A signed amount as a decimal string ("-25.00"); never a float. Loads at most
    2 decimal places and at most Money.MAX either way."""

    def __init__(self, **kwargs):
        metadata = {"example": "-25.00", "pattern": r"^-?\d{1,10}(\.\d{1,2})?$"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(
            places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse a decimal string (not a JSON number); refuse more than 2 places or too
        large."""
        require_decimal_string(value)
        amount = super()._deserialize(value, attr, data, **kwargs)
        if abs(amount) > Money.MAX:
            raise ValidationError(f"Must be between -{Money.MAX} and {Money.MAX}.")
        if isinstance(value, str) and "." in value and len(value.split(".")[1]) > 2:
            raise ValidationError("At most 2 decimal places.")
        return amount


def _not_zero(value: Decimal) -> None:
    if value == 0:
        raise ValidationError("An adjustment cannot be zero.")


class WalletEntrySchema(Schema):
    """One ledger line: a signed amount and the balance after it."""

    id = fields.Integer(dump_only=True)
    amount = SignedMoney(dump_only=True)
    currency = fields.String(dump_only=True)
    balance_after = Money(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(WALLET_ENTRY_KINDS)})
    reason = fields.String(dump_only=True, metadata={"example": "Refund of ET-7KQ2MZ"})
    booking_id = fields.Integer(dump_only=True, allow_none=True)
    payment_id = fields.Integer(dump_only=True, allow_none=True)
    refund_id = fields.Integer(dump_only=True, allow_none=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class WalletSchema(Schema):
    """A customer's wallet: balance (the ledger sum) and one page of the ledger,
    newest first, with its pagination `meta`."""

    customer_id = fields.Integer(dump_only=True)
    balance = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    entries = fields.List(fields.Nested(WalletEntrySchema), dump_only=True)
    meta = fields.Nested(PageMetaSchema, dump_only=True)


class WalletQueryArgs(PageArgs):
    """`?page=&per_page=` over the ledger."""


class WalletAdjustmentCreateSchema(Schema):
    """A staff adjustment: a signed, non-zero amount and the reason for it."""

    amount = SignedMoney(required=True, validate=_not_zero)
    reason = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=500),
            not_blank("Give a reason (no NUL characters)."),
        ],
        metadata={"example": "Goodwill credit for the delayed transfer"},
    )
