"""Tests of the api: the published contract (OpenAPI, Postman, generated client,
fuzz regressions, role matrix)."""
