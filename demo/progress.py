"""The progress reporter the seeds use when the caller shows none."""


class NoProgress:
    """The progress reporter services use when the caller shows none: a context
    manager whose `update(n, current_item=None)` does nothing. Long-running
    services (the seeds) take a `progress(length, label)` factory with this shape;
    the CLI passes one that draws a bar (cli.py `progress_bar`)."""

    def __init__(self, length: int = 0, label: str = ""):
        self.length, self.label = length, label

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n_steps: int, current_item=None) -> None:
        """Count `n_steps` more steps done (ignored)."""
