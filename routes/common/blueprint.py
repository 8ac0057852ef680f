"""The project's flask-smorest Blueprint: responses are dumped with the compiled
serialiser of schemas/fast_dump.py (the same JSON as marshmallow, less per-row
overhead); everything else, the OpenAPI documentation included, is flask-smorest's.
"""

import flask_smorest
from flask_smorest.utils import resolve_schema_instance

from schemas.fast_dump import fast_dump_method


class Blueprint(flask_smorest.Blueprint):
    """flask_smorest.Blueprint whose `response` schemas dump through
    schemas.fast_dump (output unchanged, tests/core/test_fast_dump.py)."""

    def response(self, status_code, schema=None, **kwargs):
        """As flask_smorest's `response`, with the schema instance's `dump`
        replaced by the compiled one (flask-smorest makes one instance per
        decorated view and calls `dump` on it for every response)."""
        if schema is not None:
            schema = resolve_schema_instance(schema)
            schema.dump = fast_dump_method(schema)
        return super().response(status_code, schema, **kwargs)
