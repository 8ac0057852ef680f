"""Tests of the published contract: the OpenAPI document (complete, exported,
linted by Redocly), the Postman collection, a generated Python client, the Swagger
UI, fuzz regressions and the roles matrix of docs/design.md. They use the root
fixtures (`app`, `client`, `actors`, `spec`) and the walkers in
tests/openapi_walk.py."""
