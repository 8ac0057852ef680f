"""Demo and scale data for `flask seed-demo` and `flask seed-scale`, apart from the rules (they call the services like any client)."""
