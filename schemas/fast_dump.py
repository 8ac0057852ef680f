"""A compiled `dump` for output schemas: the same JSON-ready dicts as marshmallow's
`Schema.dump`, without its per-field, per-row call overhead.

marshmallow serialises every field of every row through `Field.serialize` ->
`Field.get_value` -> `utils.get_value` -> `Field._serialize`; for a page of 20
packages with their itineraries that is thousands of calls, about a quarter of a
list request. `compile_dump(schema)` builds, once per schema instance, a plan of
(key, attribute, converter) and a loop over it. Every field keeps marshmallow's
own `_serialize` (money as decimal strings, datetimes in ISO 8601, the same None
handling); only three exact field classes take a shortcut when the value already
has the output type (`String` and a `str`, `Integer` and an `int`, `Boolean` and a
`bool`: marshmallow would return the value unchanged). A schema with dump hooks, a
custom accessor or a custom dict class, and a field that overrides `serialize` or
`get_value` or reads a dotted attribute, keep marshmallow's path, so the output is
the same by construction (tests/core/test_fast_dump.py compares both on every response
schema of the API).
"""

from collections.abc import Callable

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

Dumper = Callable[[object], dict]


def _value_for_key(obj, key, default):
    """marshmallow.utils._get_value_for_key: an item of a mapping or sequence, else
    the attribute; `default` when neither exists."""
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, default)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, default)


def _same_type(kind: type, slow):
    """A converter returning values of type `kind` unchanged and handing anything
    else (None included) to the field's own `_serialize` (`slow`)."""

    def convert(value, attr, obj):
        return value if type(value) is kind else slow(value, attr, obj)

    return convert


def _nested(field: fields.Nested):
    """Converter of a Nested field: None stays None, else the nested schema's
    compiled dump (a list of them when the field or its schema is `many`)."""
    schema = field.schema
    dump = compile_dump(schema)
    if dump is None:
        return field._serialize
    if schema.many or field.many:
        return lambda value, attr, obj: (
            None if value is None else [dump(each) for each in value]
        )
    return lambda value, attr, obj: None if value is None else dump(value)


def _list(field: fields.List):
    """Converter of a List field: each element through the inner field's
    converter, as `List._serialize` does with `inner._serialize`."""
    inner = _converter(field.inner)
    return lambda value, attr, obj: (
        None if value is None else [inner(each, attr, obj) for each in value]
    )


def _converter(field: fields.Field):
    """`convert(value, attr, obj)` with the result of `field._serialize`."""
    kind = type(field)
    if kind is fields.String:
        return _same_type(str, field._serialize)
    if kind is fields.Integer and not field.as_string:
        return _same_type(int, field._serialize)
    if kind is fields.Boolean:
        return _same_type(bool, field._serialize)
    if kind is fields.Nested:
        return _nested(field)
    if kind is fields.List:
        return _list(field)
    return field._serialize


def _plain(field: fields.Field, key) -> bool:
    """True when marshmallow's `Field.serialize` for `field` is just: read the
    attribute, apply `dump_default` when missing, call `_serialize`."""
    kind = type(field)
    return (
        field._CHECK_ATTRIBUTE
        and kind.serialize is fields.Field.serialize
        and kind.get_value is fields.Field.get_value
        and isinstance(key, str)
        and "." not in key
    )


def _standard(schema: Schema) -> bool:
    """True when `schema` dumps the way `Schema.dump` does by default: no pre/post
    dump hooks, the default accessor, serialiser and dict class."""
    kind = type(schema)
    return (
        not schema._hooks[PRE_DUMP]
        and not schema._hooks[POST_DUMP]
        and kind.get_attribute is Schema.get_attribute
        and kind._serialize is Schema._serialize
        and kind.dump is Schema.dump
        and schema.dict_class is dict
    )


def compile_dump(schema: Schema) -> Dumper | None:
    """A function `dump(obj) -> dict` equal to `schema.dump(obj, many=False)`, or
    None when the schema does not dump the standard way (see `_standard`); kept on
    the instance, so each schema instance is compiled once."""
    cached = schema.__dict__.get("_compiled_dump", missing)
    if cached is not missing:
        return cached
    dump = _build(schema) if _standard(schema) else None
    schema.__dict__["_compiled_dump"] = dump
    return dump


def _build(schema: Schema) -> Dumper:
    """The compiled dump of a standard schema (see compile_dump)."""
    plan = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        source = name if field.attribute is None else field.attribute
        if _plain(field, source):
            plan.append((key, name, source, field.dump_default, _converter(field)))
        else:
            plan.append((key, name, None, field, None))
    accessor = schema.get_attribute

    def dump(obj) -> dict:
        result = {}
        by_key = hasattr(obj, "__getitem__")
        for key, name, source, default, convert in plan:
            if convert is None:  # the field's own serialize (`default` is it)
                value = default.serialize(name, obj, accessor=accessor)
                if value is not missing:
                    result[key] = value
                continue
            if by_key:
                value = _value_for_key(obj, source, missing)
            else:
                value = getattr(obj, source, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            result[key] = convert(value, name, obj)
        return result

    return dump


def fast_dump_method(schema: Schema) -> Callable:
    """A replacement for `schema.dump` (same signature and result) that uses the
    compiled dump when the schema allows it."""
    original = schema.dump
    compiled = compile_dump(schema)
    if compiled is None:
        return original

    def dump(obj, *, many: bool | None = None):
        many = schema.many if many is None else bool(many)
        if many and obj is not None:
            return [compiled(each) for each in obj]
        return compiled(obj)

    return dump
