"""The transport domain: companies and operators, places, vehicles, routes, fares,
schedules, trips, search and GTFS (docs/transport.md)."""
