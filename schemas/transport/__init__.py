"""Request and response schemas of the transport API (docs/transport.md)."""
