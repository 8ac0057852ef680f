"""Tests of the transport domain (docs/transport.md)."""
