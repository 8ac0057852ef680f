"""Schema building blocks: money, pagination envelope, list arguments, problems."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

MAX_PER_PAGE = 100
# A keyset cursor: base64url payload "." base64url signature
# (services.shared.pagination).
MAX_CURSOR = 2048
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
# The characters Python's str.isspace() calls whitespace, as a regex class body that
# Python `re` and ECMA-262 (the dialect of JSON Schema `pattern`, used by clients and
# schemathesis) read alike: `\s` differs between them (\x1c-\x1f, \x85).
SPACE = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
# PostgreSQL text cannot hold NUL characters (a 500 otherwise): every free-text field
# refuses them with a 422 and says so in its `pattern` (anchored with ^ and $, which
# both dialects read alike; marshmallow's Regexp matches from the start).
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


def not_blank(
    error: str = "Must not be blank or contain NUL characters.",
) -> validate.Regexp:
    """A validator for free text that has a non-space character and no NUL."""
    return validate.Regexp(rf"^[^\x00]*[^\x00{SPACE}][^\x00]*$", error=error)


NOT_BLANK = not_blank()

MAX_ID = 2_147_483_647
# Ids are INTEGER primary keys: 1 .. 2**31 - 1 on both databases.
ID = validate.Range(min=1, max=MAX_ID)


class Money(fields.Decimal):
    """A non-negative amount in the currency's major unit, as a decimal string
    ("1200.00") in JSON; never a float (docs/design.md "Rules with numbers": money).
    Documented in OpenAPI as `type: string, format: decimal` (registered in app.py)."""

    MAX = Decimal("9999999999.99")

    def __init__(self, **kwargs):
        metadata = {"example": "1200.00", "pattern": r"^\d{1,10}(\.\d{1,2})?$"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(
            places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse a decimal string; refuse JSON numbers (docs/design.md
        "Rules with numbers": decimal strings in requests too, and the spec's
        `type: string`), negatives and more than 2 places."""
        require_decimal_string(value)
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount < 0 or amount > self.MAX:
            raise ValidationError(f"Must be between 0 and {self.MAX}.")
        if isinstance(value, str) and "." in value and len(value.split(".")[1]) > 2:
            raise ValidationError("At most 2 decimal places.")
        return amount


def require_decimal_string(value) -> None:
    """ValidationError unless `value` is a string of ASCII characters: money never
    travels as a JSON number (a float would lose cents), and Python's Decimal would
    otherwise read other scripts' digits (fullwidth U+FF10-FF19, Arabic-Indic)."""
    if not isinstance(value, str):
        raise ValidationError('Send money as a decimal string such as "1200.00".')
    if not value.isascii():
        raise ValidationError("Use the ASCII digits 0-9 (and one '.').")


# Dates and moments the API accepts in filters and in planning fields: years 2000 to
# 2100. Far dates (0001-01-01, 9999-12-31) overflow the date arithmetic of the
# reports (the day after date_to) and of the UTC conversion: a 422, not a 500
# (docs/security.md "Bounded dates").
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
DATE_RANGE_ERROR = f"Must be between {FIRST_DATE} and {LAST_DATE}."
FILTER_DATES = validate.Range(min=FIRST_DATE, max=LAST_DATE, error=DATE_RANGE_ERROR)
MOMENTS = validate.Range(
    min=datetime.combine(FIRST_DATE, time.min, tzinfo=UTC),
    max=datetime.combine(LAST_DATE, time(23, 59, 59), tzinfo=UTC),
    error=f"Must be between {FIRST_DATE}T00:00:00Z and {LAST_DATE}T23:59:59Z.",
)


def _with_validator(bound: validate.Validator, kwargs: dict) -> dict:
    """`kwargs` of a field with `bound` run before the field's own validators."""
    extra = kwargs.pop("validate", None)
    if extra is None:
        extra = []
    elif callable(extra):
        extra = [extra]
    return {**kwargs, "validate": [bound, *extra]}


class FilterDate(fields.Date):
    """An ISO 8601 date bounded to FILTER_DATES (2000-01-01 to 2100-12-31; 422
    otherwise), for date filters of query arguments (report ranges, package
    search); other validators given with `validate=` run after the bound."""

    def __init__(self, **kwargs):
        super().__init__(**_with_validator(FILTER_DATES, kwargs))


class UTCAwareDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime with an offset that must also exist in UTC: year 1 at
    +14:00 or year 9999 at -14:00 would overflow the conversion (422, not 500)."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse as AwareDateTime, then check the UTC conversion."""
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(
                "The date is out of range once converted to UTC."
            ) from exc
        return moment


class BoundedDateTime(UTCAwareDateTime):
    """A UTCAwareDateTime bounded to MOMENTS (2000-01-01T00:00:00Z to
    2100-12-31T23:59:59Z; 422 otherwise), for planned moments such as an activity's
    `due_at` or an absence; other validators given with `validate=` run after."""

    def __init__(self, **kwargs):
        super().__init__(**_with_validator(MOMENTS, kwargs))


class StrictBoolean(fields.Boolean):
    """A JSON body boolean: only `true` or `false`. marshmallow's Boolean also takes
    0/1 and strings such as "yes", which the spec (`type: boolean`) does not allow.
    Query strings keep fields.Boolean (`?active=true`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Return `value` when it is a bool; ValidationError otherwise."""
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


Currency = lambda **kw: fields.String(  # noqa: E731 - tiny field factory
    validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as EUR."),
    **kw,
)


class PageArgs(Schema):
    """`?page=1&per_page=20` (max 100), or `?cursor=` from `meta.next_cursor`, and
    `sort=` (docs/design.md "API conventions"). `page` reaches the first 10,000 rows
    (OFFSET); `cursor` any depth (keyset). A cursor with `page` > 1 is refused (422).
    """

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={
            "description": "Page number (OFFSET paging), while (page - 1) * "
            "per_page < 10000; beyond, 422: follow `meta.next_cursor` instead."
        },
    )
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )
    cursor = fields.String(
        validate=[
            validate.Length(min=1, max=MAX_CURSOR),
            validate.Regexp(CURSOR_PATTERN, error="Not a cursor of this API."),
        ],
        metadata={
            "description": "Opaque keyset cursor: the `meta.next_cursor` of the "
            "previous page of the same list with the same `sort` and filters "
            "(else 422). Pages by cursor have `meta.page` null.",
            "example": "eyJvIjoiNWQ2YjRmIn0.c2lnbmF0dXJl",
        },
    )


def sort_field(*allowed: str) -> fields.String:
    """A `sort=` query field: one of `allowed` column names, or one `-` prefixed for
    descending (docs/design.md "API conventions"); documented as an enum. The service
    keeps the same list (services.shared.pagination.order_by_sort) and refuses anything
    else too."""
    choices = [name for field in allowed for name in (field, f"-{field}")]
    return fields.String(
        validate=validate.OneOf(choices), metadata={"example": f"-{allowed[0]}"}
    )


class PageMetaSchema(Schema):
    """Pagination metadata of a list response (docs/design.md "API conventions")."""

    page = fields.Integer(
        allow_none=True,
        metadata={"example": 1, "description": "The page number; null by cursor."},
    )
    per_page = fields.Integer(metadata={"example": 20})
    total = fields.Integer(
        metadata={
            "example": 47,
            "description": "Matching rows: exact up to 10000, above that the "
            "database's estimate when `total_is_estimate` is true.",
        }
    )
    pages = fields.Integer(metadata={"example": 3})
    has_more = fields.Boolean(
        metadata={"example": True, "description": "Another page follows this one."}
    )
    next_cursor = fields.String(
        allow_none=True,
        metadata={
            "example": "eyJvIjoiNWQ2YjRmIn0.c2lnbmF0dXJl",
            "description": "Send as `?cursor=` (same sort and filters) for the "
            "next page; null on the last page.",
        },
    )
    total_is_estimate = fields.Boolean(
        metadata={
            "example": False,
            "description": "`total` (and `pages`) is an estimate, not a count.",
        }
    )


_page_schemas: dict = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The `{"items": [...], "meta": {...}}` envelope schema for `item_schema`."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (Schema,),
            {
                "items": fields.List(fields.Nested(item_schema)),
                "meta": fields.Nested(PageMetaSchema),
            },
        )
    return _page_schemas[name]
