"""Schema building blocks: money, pagination envelope, list arguments, problems."""

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

MAX_PER_PAGE = 100
MAX_ID = 2_147_483_647
# Ids are INTEGER primary keys: 1 .. 2**31 - 1 on both databases.
ID = validate.Range(min=1, max=MAX_ID)


class Money(fields.Decimal):
    """A non-negative amount in the currency's major unit, as a decimal string
    ("1200.00") in JSON; never a float (DESIGN.md "Rules": money). Documented in
    OpenAPI as `type: string, format: decimal` (registered in app.py)."""

    MAX = Decimal("9999999999.99")

    def __init__(self, **kwargs):
        metadata = {"example": "1200.00", "pattern": r"^\d{1,10}(\.\d{1,2})?$"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(
            places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse a decimal string or number; refuse negatives and more than 2 places."""
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount < 0 or amount > self.MAX:
            raise ValidationError(f"Must be between 0 and {self.MAX}.")
        if isinstance(value, str) and "." in value and len(value.split(".")[1]) > 2:
            raise ValidationError("At most 2 decimal places.")
        return amount


Currency = lambda **kw: fields.String(  # noqa: E731 - tiny field factory
    validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as EUR."), **kw
)


class PageArgs(Schema):
    """`?page=1&per_page=20` (max 100) and `sort=` (DESIGN.md "API conventions")."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )


class PageMetaSchema(Schema):
    """Pagination metadata of a list response."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


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


class ProblemSchema(Schema):
    """RFC 9457 problem details, the shape of every error response."""

    type = fields.String(metadata={"example": "/problems/validation-error"})
    title = fields.String(metadata={"example": "Unprocessable Content"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=False
    )
