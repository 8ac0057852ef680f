"""Enquiry and note schemas (docs/design.md "Resource map": enquiry, note fields)."""

from marshmallow import Schema, fields, validate

from models.enquiry import ENQUIRY_SOURCES, ENQUIRY_STAGES
from models.pipeline import ASSIGNMENT_METHODS
from schemas.common import ID, NO_NUL, PageArgs, not_blank, sort_field

NOT_BLANK = not_blank()
SUBJECT = [validate.Length(min=1, max=200), NOT_BLANK]
TEXT = [validate.Length(min=1, max=10000), NOT_BLANK]
STAGE = validate.OneOf(ENQUIRY_STAGES)
SOURCE = validate.OneOf(ENQUIRY_SOURCES)
TAG = [validate.Length(min=1, max=60), NOT_BLANK]


class NoteSchema(Schema):
    """One message of an enquiry thread: a staff note or a customer message."""

    id = fields.Integer(dump_only=True)
    enquiry_id = fields.Integer(dump_only=True)
    body = fields.String(
        metadata={"example": "Yes: children under 12 travel at the child price."}
    )
    author_type = fields.String(
        dump_only=True, metadata={"enum": ["employee", "customer"]}
    )
    author_employee_id = fields.Integer(dump_only=True, allow_none=True)
    author_customer_id = fields.Integer(dump_only=True, allow_none=True)
    author_name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "Sofia Marin"},
    )
    created_at = fields.DateTime(dump_only=True)


class NoteCreateSchema(Schema):
    """A new note: just its text (the author is the caller)."""

    body = fields.String(
        required=True,
        validate=TEXT,
        metadata={"example": "Yes: children under 12 travel at the child price."},
    )


class NoteQueryArgs(PageArgs):
    """Notes read as a thread: oldest first by default, `sort=-created_at` reverses."""

    sort = fields.String(
        load_default="created_at",
        validate=validate.OneOf(["created_at", "-created_at"]),
    )


class EnquirySchema(Schema):
    """An enquiry as lists show it (without its notes)."""

    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True, allow_none=True)
    subject = fields.String(metadata={"example": "Travelling with a child"})
    message = fields.String(
        metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"}
    )
    stage = fields.String(
        metadata={"enum": list(ENQUIRY_STAGES), "example": "contacted"}
    )
    status = fields.String(
        dump_only=True,
        metadata={
            "enum": list(ENQUIRY_STAGES),
            "example": "contacted",
            "description": "Former name of `stage` (same value).",
        },
    )
    stage_changed_at = fields.DateTime(dump_only=True)
    source = fields.String(
        metadata={"enum": list(ENQUIRY_SOURCES), "example": "web_form"}
    )
    campaign_tag = fields.String(
        allow_none=True, metadata={"example": "spring-mailing"}
    )
    lost_reason_id = fields.Integer(dump_only=True, allow_none=True)
    lost_feedback = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "Found a cheaper deal."}
    )
    booking_id = fields.Integer(dump_only=True, allow_none=True)
    won_at = fields.DateTime(dump_only=True, allow_none=True)
    first_response_due_at = fields.DateTime(dump_only=True, allow_none=True)
    first_response_at = fields.DateTime(dump_only=True, allow_none=True)
    first_response_overdue = fields.Boolean(dump_only=True, metadata={"example": False})
    assigned_to_id = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class StageChangeSchema(Schema):
    """One move between stages and how long the enquiry stayed in the one it left."""

    from_stage = fields.String(allow_none=True, metadata={"example": "new"})
    to_stage = fields.String(metadata={"example": "contacted"})
    seconds_in_from_stage = fields.Integer(allow_none=True, metadata={"example": 5400})
    changed_by_id = fields.Integer(allow_none=True)
    changed_at = fields.DateTime()


class AssignmentSchema(Schema):
    """One (re)assignment: round_robin, manual (by `assigned_by_id`) or pool."""

    employee_id = fields.Integer(allow_none=True)
    previous_employee_id = fields.Integer(allow_none=True)
    method = fields.String(
        metadata={"enum": list(ASSIGNMENT_METHODS), "example": "round_robin"}
    )
    assigned_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class DuplicateSchema(Schema):
    """A customer whose email or normalised phone matches."""

    id = fields.Integer()
    name = fields.String(metadata={"example": "Clara Byrne"})
    email = fields.String(metadata={"example": "clara.byrne@example.com"})
    phone = fields.String(allow_none=True, metadata={"example": "+353 1 555 0142"})
    active = fields.Boolean(metadata={"example": True})
    matched_on = fields.List(fields.String(), metadata={"example": ["phone"]})


class EnquiryDetailSchema(EnquirySchema):
    """One enquiry with its thread of notes (oldest first), its stage history, the
    seconds spent in each stage, its assignment history (staff) and, right after
    creation, `duplicates`: customers that look like the enquiry's customer."""

    notes = fields.List(fields.Nested(NoteSchema), dump_only=True)
    stage_history = fields.List(
        fields.Nested(StageChangeSchema), dump_only=True, attribute="stage_changes"
    )
    time_in_stages = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        dump_only=True,
        metadata={"example": {"new": 3600, "contacted": 86400}},
    )
    # Staff see these (a customer's view leaves them out); `duplicates` right after
    # creation only.
    assignments = fields.List(
        fields.Nested(AssignmentSchema),
        dump_only=True,
        metadata={"may_be_absent": True},
    )
    duplicates = fields.List(
        fields.Nested(DuplicateSchema), dump_only=True, metadata={"may_be_absent": True}
    )


class EnquiryCreateSchema(Schema):
    """Raise an enquiry. Staff (admin, sales) must name `customer_id`; a customer
    raises one for themselves and may omit it (their own id is also accepted)."""

    customer_id = fields.Integer(strict=True, validate=ID, metadata={"example": 12})
    package_id = fields.Integer(
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"example": 3},
    )
    subject = fields.String(
        required=True,
        validate=SUBJECT,
        metadata={"example": "Travelling with a child"},
    )
    message = fields.String(
        required=True,
        validate=TEXT,
        metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"},
    )
    source = fields.String(
        validate=SOURCE,
        metadata={
            "example": "phone",
            "description": "Staff only (default phone); "
            "a customer's own enquiry is always web_form.",
        },
    )
    campaign_tag = fields.String(
        allow_none=True, validate=TAG, metadata={"example": "spring-mailing"}
    )


class EnquiryUpdateSchema(Schema):
    """Staff work an enquiry: `stage` (see the transitions; `lost` needs
    `lost_reason_id`, optional `lost_feedback`; `won` needs `booking_id`),
    `booking_id` (links the winning booking of the enquiry's customer), assignee
    (null hands it back to the pool), subject, message, source, campaign tag.
    Every field is optional."""

    stage = fields.String(validate=STAGE, metadata={"example": "contacted"})
    lost_reason_id = fields.Integer(strict=True, validate=ID, metadata={"example": 1})
    lost_feedback = fields.String(
        allow_none=True,
        validate=[validate.Length(max=2000), NO_NUL],
        metadata={"example": "Found a cheaper flight-and-hotel deal."},
    )
    booking_id = fields.Integer(strict=True, validate=ID, metadata={"example": 42})
    source = fields.String(validate=SOURCE, metadata={"example": "phone"})
    campaign_tag = fields.String(
        allow_none=True, validate=TAG, metadata={"example": "spring-mailing"}
    )
    assigned_to_id = fields.Integer(
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"example": 4},
    )
    subject = fields.String(
        validate=SUBJECT,
        metadata={"example": "Travelling with a child"},
    )
    message = fields.String(
        validate=TEXT,
        metadata={"example": "Is the Lisbon trip suitable for a 7-year-old?"},
    )


class EnquiryQueryArgs(PageArgs):
    """`?stage=&assigned_to=&customer_id=&source=&first_response_overdue=&q=` (q:
    subject and message, any case; `status` is the former name of `stage`);
    `sort=` one of created_at, updated_at, stage_changed_at (prefix - for
    descending)."""

    stage = fields.String(validate=STAGE)
    status = fields.String(validate=STAGE)
    source = fields.String(validate=SOURCE)
    first_response_overdue = fields.Boolean()
    assigned_to = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    q = fields.String(validate=[validate.Length(min=1, max=100), NO_NUL])
    sort = sort_field("created_at", "updated_at", "stage_changed_at")
