"""HTTP plumbing at the bottom of the layers: errors, extensions, logging, security
headers, rate limits, input limits, JSON output, the OpenAPI document and the catalogue
cache. It imports no service, route, model or schema."""
