"""Package schemas (docs/design.md "Resource map": package fields, itinerary)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.package import PACKAGE_STATUSES, TRANSPORT_MODES
from schemas.catalogue.translations import (
    LANGUAGE_EXAMPLE,
    Localized,
    TaxRate,
    TextTranslationSchema,
    Translations,
)
from schemas.common import (
    NO_NUL,
    NOT_BLANK,
    Currency,
    FilterDate,
    Money,
    PageArgs,
    sort_field,
)

TITLE = validate.Length(min=1, max=200)
PLACE = validate.Length(min=1, max=120)
DURATION = validate.Range(min=1, max=365)
DEPOSIT = validate.Range(min=1, max=100)
TEXT = validate.Length(max=20_000)
# PostgreSQL text cannot hold NUL characters: NO_NUL / NOT_BLANK (schemas.common)
# refuse them with a 422, not a 500.


class ItineraryDaySchema(Schema):
    """One day of the itinerary; `day_number` runs 1..duration_days, unique.
    Answers show `title` and `description` in the caller's language (from
    `translations`, else the original); `translations` holds the texts in German
    and Spanish (docs/i18n.md "Catalogue translations")."""

    day_number = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=365),
        metadata={"example": 1},
    )
    title = Localized(
        required=True,
        validate=[TITLE, NOT_BLANK],
        metadata={"example": "Arrival in Lisbon"},
    )
    description = Localized(
        load_default="",
        validate=[TEXT, NO_NUL],
        metadata={"example": "Transfer to the hotel, evening walk through Alfama."},
    )
    location = fields.String(
        allow_none=True,
        validate=[PLACE, NO_NUL],
        metadata={"example": "Lisbon"},
    )
    translations = Translations(
        TextTranslationSchema,
        load_default=None,
        metadata={"example": {"de": {"title": "Ankunft in Lissabon"}}},
    )


class PackageSchema(Schema):
    """A package as the API shows it, with its itinerary and workflow fields.
    `title` and `description` (and each day's) are in the caller's language
    (Content-Language) with a fallback to the original; `translations` holds the
    texts in other languages as stored; `tax_rate` is the effective VAT rate in
    percent (the package's, else DEFAULT_TAX_RATE)."""

    id = fields.Integer(dump_only=True)
    title = Localized(metadata={"example": "Lisbon and Sintra in Spring"})
    description = Localized(
        metadata={"example": "Seven days of Lisbon and Sintra with a local guide."}
    )
    translations = Translations(
        TextTranslationSchema, metadata={"example": LANGUAGE_EXAMPLE}
    )
    tax_rate = TaxRate(allow_none=False)
    destination = fields.String(metadata={"example": "Lisbon, Portugal"})
    origin = fields.String(allow_none=True, metadata={"example": "Dublin"})
    transport_mode = fields.String(
        metadata={"enum": list(TRANSPORT_MODES), "example": "flight"}
    )
    duration_days = fields.Integer(metadata={"example": 7})
    base_price = Money()
    currency = fields.String()
    deposit_percent = fields.Integer(metadata={"example": 30})
    status = fields.String(
        dump_only=True,
        metadata={"enum": list(PACKAGE_STATUSES), "example": "published"},
    )
    rejection_reason = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "Day 3 has no hotel; add one and resubmit."},
    )
    itinerary = fields.List(fields.Nested(ItineraryDaySchema))
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    last_edited_by_id = fields.Integer(dump_only=True, allow_none=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    approved_by_id = fields.Integer(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PackageCreateSchema(Schema):
    """A new package (always starts as `draft`); the currency defaults to
    DEFAULT_CURRENCY, the deposit to 100 % (payment in full), `tax_rate` to
    DEFAULT_TAX_RATE; `translations` carry the title and description in German and
    Spanish (`{"de": {"title": ..., "description": ...}}`)."""

    title = fields.String(
        required=True,
        validate=[TITLE, NOT_BLANK],
        metadata={"example": "Lisbon and Sintra in Spring"},
    )
    description = fields.String(
        load_default="",
        validate=[TEXT, NO_NUL],
        metadata={"example": "Seven days of Lisbon and Sintra with a local guide."},
    )
    destination = fields.String(
        required=True,
        validate=[PLACE, NOT_BLANK],
        metadata={"example": "Lisbon, Portugal"},
    )
    origin = fields.String(
        allow_none=True,
        validate=[PLACE, NO_NUL],
        metadata={"example": "Dublin"},
    )
    transport_mode = fields.String(
        load_default="none", validate=validate.OneOf(TRANSPORT_MODES)
    )
    duration_days = fields.Integer(
        required=True,
        strict=True,
        validate=DURATION,
        metadata={"example": 7},
    )
    base_price = Money(required=True)
    currency = Currency(metadata={"example": "EUR"})
    deposit_percent = fields.Integer(
        load_default=100,
        strict=True,
        validate=DEPOSIT,
        metadata={"example": 30},
    )
    itinerary = fields.List(fields.Nested(ItineraryDaySchema), load_default=list)
    translations = Translations(
        TextTranslationSchema, load_default=None, metadata={"example": LANGUAGE_EXAMPLE}
    )
    tax_rate = TaxRate()


class PackageUpdateSchema(Schema):
    """Partial update; `itinerary`, when given, replaces the whole itinerary, and
    `translations` all the translations (`null` removes them); `tax_rate: null`
    goes back to DEFAULT_TAX_RATE."""

    title = fields.String(
        validate=[TITLE, NOT_BLANK],
        metadata={"example": "Lisbon and Sintra in Spring"},
    )
    description = fields.String(
        validate=[TEXT, NO_NUL],
        metadata={"example": "Seven days of Lisbon and Sintra with a local guide."},
    )
    destination = fields.String(
        validate=[PLACE, NOT_BLANK],
        metadata={"example": "Lisbon, Portugal"},
    )
    origin = fields.String(
        allow_none=True,
        validate=[PLACE, NO_NUL],
        metadata={"example": "Dublin"},
    )
    transport_mode = fields.String(validate=validate.OneOf(TRANSPORT_MODES))
    duration_days = fields.Integer(
        strict=True,
        validate=DURATION,
        metadata={"example": 7},
    )
    base_price = Money()
    currency = Currency(metadata={"example": "EUR"})
    deposit_percent = fields.Integer(
        strict=True,
        validate=DEPOSIT,
        metadata={"example": 30},
    )
    itinerary = fields.List(fields.Nested(ItineraryDaySchema))
    translations = Translations(
        TextTranslationSchema, metadata={"example": LANGUAGE_EXAMPLE}
    )
    tax_rate = TaxRate()


class PackageRejectSchema(Schema):
    """Why the revision is rejected (required, not blank)."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(max=2000), NOT_BLANK],
        metadata={"example": "Day 3 has no hotel; add one and resubmit."},
    )


class PackageQueryArgs(PageArgs):
    """Catalogue filters: `q` full-text search; `destination` / `origin` (case-
    insensitive substring); `transport_mode`; `min_price` / `max_price` on
    base_price; `starts_after` / `starts_before` (a scheduled departure starts on or
    after / on or before those dates - the same departure when both are given);
    `status` (applies within what the caller may see); `sort` one of SORTABLE,
    `-` prefixed for descending (default newest first)."""

    q = fields.String(validate=validate.Length(max=200))
    destination = fields.String(validate=[validate.Length(max=120), NO_NUL])
    origin = fields.String(validate=[validate.Length(max=120), NO_NUL])
    transport_mode = fields.String(validate=validate.OneOf(TRANSPORT_MODES))
    min_price = Money()
    max_price = Money()
    starts_after = FilterDate()
    starts_before = FilterDate()
    status = fields.String(validate=validate.OneOf(PACKAGE_STATUSES))
    sort = sort_field(
        "created_at",
        "updated_at",
        "title",
        "destination",
        "base_price",
        "duration_days",
    )

    @validates_schema
    def _price_range(self, data, **_kwargs):
        """`min_price` may not exceed `max_price`."""
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ValidationError("Must not exceed max_price.", "min_price")

    @validates_schema
    def _date_range(self, data, **_kwargs):
        """`starts_after` may not be later than `starts_before`."""
        after, before = data.get("starts_after"), data.get("starts_before")
        if after is not None and before is not None and after > before:
            raise ValidationError("Must not be after starts_before.", "starts_after")
