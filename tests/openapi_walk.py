"""Walkers over the served OpenAPI document, shared by the spec tests."""

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec):
    """(method, path, operation) for every operation of the spec."""
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(spec, obj):
    """Follow `$ref`s (schemas and responses) to the object they name."""
    while isinstance(obj, dict) and "$ref" in obj:
        kind, name = obj["$ref"].split("/")[-2:]
        obj = spec["components"][kind][name]
    return obj
