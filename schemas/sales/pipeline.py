"""Schemas of the sales pipeline around enquiries: lost reasons, activities,
quotes, sales capacity, duplicate customers, merges and merge requests
(docs/design.md "Lifecycles": enquiry; docs/security.md "Merging customers")."""

from marshmallow import Schema, fields, validate

from models.pipeline import ACTIVITY_KINDS, MERGE_REQUEST_STATUSES, QUOTE_STATUSES
from schemas.booking.bookings import MAX_SEATS, TravellerSchema
from schemas.common import (
    ID,
    NO_NUL,
    BoundedDateTime,
    Money,
    PageArgs,
    StrictBoolean,
    not_blank,
    sort_field,
)
from schemas.sales.enquiries import DuplicateSchema

NOT_BLANK = not_blank()
LABEL = [validate.Length(min=1, max=120), NOT_BLANK]
CODE = validate.Regexp(
    r"^[a-z0-9_]{1,40}$", error="Lower-case letters, digits and _ only."
)
SUMMARY = [validate.Length(min=1, max=200), NOT_BLANK]
NOTE = [validate.Length(max=10000), NO_NUL]


class LostReasonSchema(Schema):
    """A reason an enquiry was lost (a managed list)."""

    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"example": "price"})
    label = fields.String(metadata={"example": "Price"})
    active = fields.Boolean(metadata={"example": True})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class LostReasonCreateSchema(Schema):
    """A new lost reason: its label and optionally a code (default: the label)."""

    label = fields.String(
        required=True, validate=LABEL, metadata={"example": "Visa refused"}
    )
    code = fields.String(validate=CODE, metadata={"example": "visa_refused"})


class LostReasonUpdateSchema(Schema):
    """Relabel or retire (`active: false`) a lost reason."""

    label = fields.String(validate=LABEL, metadata={"example": "Price too high"})
    active = StrictBoolean(metadata={"example": False})


class LostReasonQueryArgs(Schema):
    """`?include_inactive=true` also lists retired reasons."""

    include_inactive = fields.Boolean(load_default=False)


class ActivitySchema(Schema):
    """A follow-up on an enquiry, due at a time, owned by an employee."""

    id = fields.Integer(dump_only=True)
    enquiry_id = fields.Integer(dump_only=True)
    kind = fields.String(metadata={"enum": list(ACTIVITY_KINDS), "example": "call"})
    summary = fields.String(metadata={"example": "Call back about the child price"})
    note = fields.String(
        allow_none=True, metadata={"example": "Ask about the child seat."}
    )
    due_at = fields.DateTime(metadata={"example": "2026-03-14T10:00:00+00:00"})
    owner_id = fields.Integer(allow_none=True)
    done = fields.Boolean(metadata={"example": False})
    done_at = fields.DateTime(dump_only=True, allow_none=True)
    done_by_id = fields.Integer(dump_only=True, allow_none=True)
    reminder_sent_at = fields.DateTime(dump_only=True, allow_none=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ActivityCreateSchema(Schema):
    """Plan an activity; the owner defaults to the enquiry's assignee."""

    kind = fields.String(
        required=True,
        validate=validate.OneOf(ACTIVITY_KINDS),
        metadata={"example": "call"},
    )
    summary = fields.String(
        required=True,
        validate=SUMMARY,
        metadata={"example": "Call back about the child price"},
    )
    due_at = BoundedDateTime(
        required=True, metadata={"example": "2026-03-14T10:00:00+00:00"}
    )
    owner_id = fields.Integer(strict=True, validate=ID, metadata={"example": 4})
    note = fields.String(
        allow_none=True,
        validate=NOTE,
        metadata={"example": "Ask about the child seat."},
    )


class ActivityUpdateSchema(Schema):
    """Mark an activity done (`done: true`) or edit it."""

    done = StrictBoolean(metadata={"example": True})
    summary = fields.String(
        validate=SUMMARY, metadata={"example": "Call back after 5 pm"}
    )
    due_at = BoundedDateTime(metadata={"example": "2026-03-14T10:00:00+00:00"})
    owner_id = fields.Integer(strict=True, validate=ID)
    note = fields.String(
        allow_none=True,
        validate=NOTE,
        metadata={"example": "Ask about the child seat."},
    )


class ActivityQueryArgs(PageArgs):
    """`?owner_id=&due=today|overdue&done=`; soonest due first by default."""

    owner_id = fields.Integer(validate=ID)
    due = fields.String(validate=validate.OneOf(["today", "overdue"]))
    done = fields.Boolean()
    sort = sort_field("due_at", "created_at")


class EnquiryActivityQueryArgs(PageArgs):
    """Pagination of one enquiry's activities (soonest due first)."""


class QuoteSchema(Schema):
    """A quote: seats on a departure at prices locked when it was made; `status` is
    open, accepted, withdrawn, or expired (open past `valid_until`)."""

    id = fields.Integer(dump_only=True)
    enquiry_id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    departure_id = fields.Integer(metadata={"example": 7})
    seats = fields.Integer(metadata={"example": 2})
    travellers = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={
            "example": [
                {"name": "Ana Silva", "birth_date": "1990-01-01", "category": "adult"}
            ]
        },
    )
    prices = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"adult": "900.00", "child": "450.00"}},
    )
    total_amount = Money()
    currency = fields.String(metadata={"example": "EUR"})
    valid_until = fields.DateTime()
    status = fields.String(
        attribute="current_status",
        metadata={"enum": [*QUOTE_STATUSES, "expired"], "example": "open"},
    )
    booking_id = fields.Integer(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class QuoteCreateSchema(Schema):
    """Quote seats on a departure; travellers, when given, are one per seat."""

    departure_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 7}
    )
    seats = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_SEATS),
        metadata={"example": 2},
    )
    travellers = fields.List(
        fields.Nested(TravellerSchema), validate=validate.Length(max=MAX_SEATS)
    )
    valid_until = fields.AwareDateTime(
        required=True, metadata={"example": "2026-03-21T00:00:00+00:00"}
    )


class CapacitySchema(Schema):
    """A sales employee's pipeline capacity (open enquiries; the round-robin
    weight), absence window and current open load."""

    employee_id = fields.Integer(dump_only=True)
    capacity = fields.Integer(metadata={"example": 20})
    absent_from = fields.DateTime(allow_none=True)
    absent_until = fields.DateTime(allow_none=True)
    absent = fields.Boolean(dump_only=True, metadata={"example": False})
    open_enquiries = fields.Integer(dump_only=True, metadata={"example": 7})
    last_assigned_at = fields.DateTime(dump_only=True, allow_none=True)


class CapacityUpdateSchema(Schema):
    """Set capacity (0 takes the employee out of the round-robin) and absence."""

    capacity = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=10000), metadata={"example": 25}
    )
    absent_from = BoundedDateTime(
        allow_none=True, metadata={"example": "2026-08-01T00:00:00+00:00"}
    )
    absent_until = BoundedDateTime(
        allow_none=True, metadata={"example": "2026-08-15T00:00:00+00:00"}
    )


class DuplicateQueryArgs(Schema):
    """`?email=&phone=`: at least one."""

    email = fields.String(validate=[validate.Length(min=1, max=254), NO_NUL])
    phone = fields.String(validate=[validate.Length(min=1, max=32), NO_NUL])


class DuplicateListSchema(Schema):
    """Customers matching the email (any case) or the normalised phone."""

    items = fields.List(fields.Nested(DuplicateSchema))


class MergeSchema(Schema):
    """Merge `from_customer_id` into the customer of the path: at once when their
    email or normalised phone match, else as a merge request awaiting a second
    employee's approval, with `reason` telling the checker why."""

    from_customer_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 13}
    )
    reason = fields.String(
        allow_none=True,
        validate=[validate.Length(max=2000), NOT_BLANK],
        metadata={"example": "Same traveller: new email after a marriage."},
    )


class MergeRequestSchema(Schema):
    """A merge of two customers whose email and phone do not match, waiting for
    (or given) the approval of an admin or finance employee other than the
    requester (maker-checker)."""

    id = fields.Integer(dump_only=True, metadata={"example": 5})
    customer_id = fields.Integer(
        dump_only=True,
        metadata={"example": 12, "description": "The customer that stays."},
    )
    from_customer_id = fields.Integer(
        dump_only=True,
        metadata={"example": 13, "description": "The customer merged into it."},
    )
    status = fields.String(
        dump_only=True,
        metadata={"enum": list(MERGE_REQUEST_STATUSES), "example": "pending"},
    )
    reason = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "Same traveller: new email after a marriage."},
    )
    requested_by_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 4}
    )
    decided_by_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": None}
    )
    decided_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"example": None}
    )
    rejection_reason = fields.String(
        dump_only=True, allow_none=True, metadata={"example": None}
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T10:00:00+00:00"}
    )


class MergeRequestQueryArgs(PageArgs):
    """`?status=pending|approved|rejected&customer_id=` (either side); newest first."""

    status = fields.String(validate=validate.OneOf(MERGE_REQUEST_STATUSES))
    customer_id = fields.Integer(validate=ID)
    sort = sort_field("created_at")


class MergeRequestRejectSchema(Schema):
    """Why the merge is refused (required, not blank)."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(max=2000), NOT_BLANK],
        metadata={"example": "Different people: same name, other birth dates."},
    )
