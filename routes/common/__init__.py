"""Route-layer helpers shared by the URL-family modules: the Blueprint class, HTTP
caching, Idempotency-Key handling and the request facts handed to services."""
