"""marshmallow schemas: one module per resource (input, output and OpenAPI docs)."""
