"""`flask` command-line commands: create-admin, seed-demo."""

import click
from flask import Flask


def register(app: Flask) -> None:
    """Attach the project's commands to `app.cli`."""

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--name", default="Administrator", show_default=True)
    def create_admin(email, password, name):
        """Create an admin employee (the first one, or another)."""
        from errors import APIError
        from services.employees import create_employee

        if len(password) < app.config["PASSWORD_MIN_LENGTH"]:
            raise click.BadParameter("at least 8 characters", param_hint="--password")
        try:
            admin = create_employee(name=name, email=email, role="admin", password=password)
        except APIError as exc:
            raise click.ClickException(exc.detail) from exc
        click.echo(f"admin {admin.email} created (id {admin.id})")

    @app.cli.command("seed-demo")
    @click.option(
        "--force",
        is_flag=True,
        help="Add the data set even when data exists (demo accounts are reused).",
    )
    def seed_demo(force):
        """Load the demo data set (staff, customers, packages, enquiries, bookings)."""
        from services.seed import seed_demo as run

        try:
            run(force=force, echo=click.echo)
        except RuntimeError as exc:  # schema missing: tell the user what to run
            raise click.ClickException(str(exc)) from exc
