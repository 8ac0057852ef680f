"""Demo and scale data for `flask seed-demo` (and `flask seed-demo --scale N`),
kept apart from the rules: the seeds call the services and models like any
client."""
