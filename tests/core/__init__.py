"""Tests of the core: the app, error, OpenAPI and fast-dump tests."""
