"""Demo data (placeholder until implemented)."""


def seed_demo(*, force=False, echo=print):
    """Load the demo data set."""
    echo("nothing to seed yet")
