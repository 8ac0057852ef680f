"""Enquiry and note schemas (DESIGN.md "Resource map": enquiry, note fields)."""

from marshmallow import Schema, fields, validate

from models.enquiry import ENQUIRY_STATUSES
from schemas.common import ID, NO_NUL, PageArgs, not_blank, sort_field

NOT_BLANK = not_blank()
SUBJECT = [validate.Length(min=1, max=200), NOT_BLANK]
TEXT = [validate.Length(min=1, max=10000), NOT_BLANK]
STATUS = validate.OneOf(ENQUIRY_STATUSES)


class NoteSchema(Schema):
    """One message of an enquiry thread: a staff note or a customer message."""

    id = fields.Integer(dump_only=True)
    enquiry_id = fields.Integer(dump_only=True)
    body = fields.String(metadata={"example": "Yes: children under 12 travel at the child price."})
    author_type = fields.String(dump_only=True, metadata={"enum": ["employee", "customer"]})
    author_employee_id = fields.Integer(dump_only=True, allow_none=True)
    author_customer_id = fields.Integer(dump_only=True, allow_none=True)
    author_name = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "Sofia Marin"},
    )
    created_at = fields.DateTime(dump_only=True)


class NoteCreateSchema(Schema):
    """A new note: just its text (the author is the caller)."""

    body = fields.String(
        required=True, validate=TEXT,
        metadata={"example": "Yes: children under 12 travel at the child price."},
    )


class NoteQueryArgs(PageArgs):
    """Notes read as a thread: oldest first by default, `sort=-created_at` reverses."""

    sort = fields.String(
        load_default="created_at", validate=validate.OneOf(["created_at", "-created_at"])
    )


class EnquirySchema(Schema):
    """An enquiry as lists show it (without its notes)."""

    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True, allow_none=True)
    subject = fields.String(metadata={"example": "Travelling with a child"})
    message = fields.String(metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"})
    status = fields.String(metadata={"enum": list(ENQUIRY_STATUSES)})
    assigned_to_id = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class EnquiryDetailSchema(EnquirySchema):
    """One enquiry with its thread of notes, oldest first."""

    notes = fields.List(fields.Nested(NoteSchema), dump_only=True)


class EnquiryCreateSchema(Schema):
    """Raise an enquiry. Staff (admin, sales) must name `customer_id`; a customer
    raises one for themselves and may omit it (their own id is also accepted)."""

    customer_id = fields.Integer(strict=True, validate=ID, metadata={"example": 12})
    package_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": 3},
    )
    subject = fields.String(
        required=True, validate=SUBJECT,
        metadata={"example": "Travelling with a child"},
    )
    message = fields.String(
        required=True, validate=TEXT,
        metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"},
    )


class EnquiryUpdateSchema(Schema):
    """Staff work an enquiry: status (see the transitions), assignee (null
    unassigns), subject, message. Every field is optional."""

    status = fields.String(validate=STATUS)
    assigned_to_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": 4},
    )
    subject = fields.String(
        validate=SUBJECT, metadata={"example": "Travelling with a child"},
    )
    message = fields.String(
        validate=TEXT,
        metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"},
    )


class EnquiryQueryArgs(PageArgs):
    """`?status=&assigned_to=&customer_id=&q=` (q: subject and message, any case);
    `sort=` one of created_at, updated_at (prefix - for descending)."""

    status = fields.String(validate=STATUS)
    assigned_to = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    q = fields.String(validate=[validate.Length(min=1, max=100), NO_NUL])
    sort = sort_field("created_at", "updated_at")
