"""The project's `flask` commands, defined at module level and registered in one
place (`register`): `flask --app app --help` lists every group with its one-line
help. Each command calls one service, like a route does, and turns a business
error (core.errors.APIError) into a non-zero exit with its message.

    create-admin          the first (or another) admin employee
    seed-demo             the demo data set (and --scale N generated bookings)
    bookings ...          expire-holds, complete-trips
    departures cancel     cancel a whole departure and refund every booking
    enquiries ...         send-reminders
    outbox relay          deliver due outbox rows in this process
    payments reconcile    card payments and provider refunds whose webhook never arrived
    transport import-gtfs a GTFS feed into companies, stations, routes and trips
"""

import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from core.errors import APIError

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(app: Flask) -> None:
    """Attach every command and group of this module to `app.cli`."""
    for command in (
        create_admin,
        seed_demo,
        bookings_cli,
        departures_cli,
        enquiries_cli,
        outbox_cli,
        payments_cli,
        transport_cli,
    ):
        app.cli.add_command(command)


def progress_bar(length: int, label: str):
    """A click progress bar on stderr for `length` steps labelled `label`, showing
    the current item's text: the `progress` factory the seed services take
    (demo.progress.NoProgress describes the shape)."""
    return click.progressbar(
        length=length, label=label, file=sys.stderr, item_show_func=lambda item: item
    )


def parse_duration(text: str) -> timedelta:
    """`10m`, `90s`, `2h`, `1d` (or bare seconds) as a timedelta; click.BadParameter
    otherwise."""
    text = (text or "").strip().lower()
    unit = text[-1:] if text[-1:] in DURATION_UNITS else "s"
    number = text[:-1] if text[-1:] in DURATION_UNITS else text
    if not number.isdigit():
        raise click.BadParameter(
            f"{text!r}: use e.g. 90s, 10m, 2h", param_hint="--older-than"
        )
    return timedelta(seconds=int(number) * DURATION_UNITS[unit])


# ---- accounts and demo data ----------------------------------------------------


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Administrator", show_default=True)
@with_appcontext
def create_admin(email, password, name):
    """Create an admin employee (the first one, or another)."""
    from services.accounts.employees import create_employee

    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    try:
        admin = create_employee(name=name, email=email, role="admin", password=password)
    except APIError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"admin {admin.email} created (id {admin.id})")


@click.command("seed-demo", short_help="Load the demo data (--scale N: and bookings).")
@click.option(
    "--force",
    is_flag=True,
    help="Add the data set even when data exists (demo accounts are reused).",
)
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also generate N bookings over the last two years with payments, "
    "cancellations, refunds and N/10 customers (bulk insert, one transaction).",
)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed of the --scale data.",
)
@with_appcontext
def seed_demo(force, scale, random_seed):
    """Load the demo data set (staff, customers, packages, enquiries, bookings).

    With --scale N, the demo set is loaded first when the database is empty (or
    with --force), then N generated bookings are added (demo/seed_scale.py).
    """
    from demo.seed import seed_demo as run
    from demo.seed_scale import seed_scale

    try:
        if scale:
            seed_scale(
                scale,
                seed=random_seed,
                force=force,
                echo=click.echo,
                progress=progress_bar,
            )
        else:
            run(force=force, echo=click.echo, progress=progress_bar)
    except RuntimeError as exc:  # schema missing: tell the user what to run
        raise click.ClickException(str(exc)) from exc


# ---- booking -------------------------------------------------------------------

bookings_cli = AppGroup(
    "bookings",
    short_help="Booking maintenance: expire holds, complete trips.",
    help="Booking maintenance (safe to run from cron while the service runs).",
)


@bookings_cli.command("expire-holds")
def expire_holds():
    """Mark held bookings whose hold ran out as expired and free their seats."""
    from services.booking.holds import expire_holds as run

    click.echo(f"{run()} hold(s) expired")


@bookings_cli.command("complete-trips")
def complete_trips():
    """Mark confirmed bookings whose departure has ended as completed."""
    from services.booking.bookings import complete_trips as run

    click.echo(f"{run()} booking(s) completed")


departures_cli = AppGroup("departures", help="Operator actions on departures.")


@departures_cli.command("cancel")
@click.argument("departure_id", type=int)
@click.option("--reason", required=True)
@click.option(
    "--refund-to", type=click.Choice(["original", "wallet"]), default="original"
)
@click.option("--preview", is_flag=True, help="Show what would happen; change nothing.")
def cancel_departure(departure_id, reason, refund_to, preview):
    """Cancel a whole departure: every live booking cancelled and refunded in full.

    Runs services.booking.cancellations.cancel_departure as the operator (no
    employee) and prints the bookings as a table. Any business error (404, 409,
    422) or a blank reason exits non-zero with its message.
    """
    from services.booking.cancellations import cancel_departure as run

    if not reason or not reason.strip():
        raise click.ClickException("--reason must not be blank")
    try:
        answer = run(
            account=None,
            departure_id=departure_id,
            reason=reason.strip(),
            refund_to=refund_to,
            preview=preview,
        )
    except APIError as exc:
        raise click.ClickException(f"{exc.detail} ({exc.status})") from exc
    for line in departure_table(answer):
        click.echo(line)


def departure_table(answer: dict) -> list[str]:
    """The table lines of a departure cancellation answer (`cancel_departure`)."""
    head = "PREVIEW (nothing changed)" if not answer["cancelled"] else "CANCELLED"
    lines = [
        f"departure {answer['departure_id']}: {head}",
        (
            f"{'booking':>8}  {'reference':<10}  {'customer':>8}  {'status':<10}  "
            f"{'refund':>12}  refund_to"
        ),
    ]
    lines += [
        f"{row['booking_id']:>8}  {row['reference']:<10}  {row['customer_id']:>8}  "
        f"{row['status']:<10}  {row['refund_amount']:>12}  {row['refund_to']}"
        for row in answer["bookings"]
    ]
    lines.append(
        f"{len(answer['bookings'])} booking(s), total refund "
        f"{answer['total_refund']:.2f} {answer['currency']}"
    )
    return lines


# ---- sales ---------------------------------------------------------------------

enquiries_cli = AppGroup(
    "enquiries",
    short_help="Sales pipeline maintenance: activity reminders.",
    help="Sales pipeline maintenance (safe to run from cron while the service runs).",
)


@enquiries_cli.command("send-reminders")
@click.option(
    "--ahead-minutes",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Also remind of activities due within this many minutes.",
)
def send_reminders(ahead_minutes):
    """Mail owners about their open activities that are due, once each."""
    from services.sales.activities import send_due_reminders as run

    click.echo(f"{run(ahead=timedelta(minutes=ahead_minutes))} reminder(s) sent")


# ---- messaging -----------------------------------------------------------------

outbox_cli = AppGroup(
    "outbox",
    short_help="The outbox of mail and webhook deliveries.",
    help="The transactional outbox (mail and webhook deliveries).",
)


@outbox_cli.command("relay")
def outbox_relay():
    """Deliver every due outbox row now, in this process (no worker needed)."""
    from services.messaging.outbox import drain

    click.echo(f"{drain()} outbox row(s) handled")


# ---- payments ------------------------------------------------------------------

payments_cli = AppGroup(
    "payments",
    short_help="Card payments: reconcile with the provider.",
    help="Card payments through the provider (safe from cron while serving).",
)


@payments_cli.command("reconcile")
@click.option(
    "--older-than",
    default="10m",
    show_default=True,
    help="Only attempts last changed at least this long ago (90s, 10m, 2h).",
)
def reconcile(older_than):
    """Apply succeeded card payments whose webhook never arrived; retry refunds;
    record refunds made at the provider (last 30 days) whose event never arrived.

    Calls services.payments.card_payments.reconcile_pending and
    services.payments.provider_money.reconcile_refunds and prints their counts.
    """
    from services.payments.card_payments import reconcile_pending
    from services.payments.provider_money import reconcile_refunds

    try:
        counts = reconcile_pending(older_than=parse_duration(older_than))
        counts.update(reconcile_refunds())
    except APIError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(" ".join(f"{name}={value}" for name, value in counts.items()))


# ---- transport -----------------------------------------------------------------

transport_cli = AppGroup(
    "transport",
    short_help="Transport timetables: GTFS import.",
    help="The transport network and its timetables (GTFS).",
)


def _problem_lines(exc: APIError) -> list[str]:
    """The `errors` of a refused import as `file:row field: reason` lines (or the
    field errors of a ValidationFailed)."""
    errors = exc.extra.get("errors") or []
    if isinstance(errors, dict):
        return [f"{field}: {'; '.join(msgs)}" for field, msgs in errors.items()]
    return [
        f"{e['file'] or '-'}:{e['row'] or '-'} {e['field'] or '-'}: {e['reason']}"
        for e in errors
    ]


@transport_cli.command("import-gtfs")
@click.argument("feed", type=click.Path(exists=True, readable=True))
@click.option(
    "--company-id",
    type=int,
    help="Map every agency of the feed to this company (default: by agency_id).",
)
@click.option("--country", help="ISO 3166-1 alpha-2 country of new companies.")
@click.option(
    "--from",
    "first_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First service date whose trips are created (default: today).",
)
@click.option(
    "--until",
    "last_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last service date whose trips are created (default: 28 days on).",
)
def import_gtfs(feed, company_id, country, first_date, last_date):
    """Import the GTFS feed FEED (a .zip, or a folder of .txt files) all or
    nothing, showing progress on stderr.

    Calls services.transport.gtfs_import.import_feed (no size limit) and prints
    the rows created and matched; a faulty feed exits non-zero listing its
    errors (file:row field: reason) and changes nothing.
    """
    from services.transport.gtfs_import import import_feed

    try:
        summary = import_feed(
            feed,
            company_id=company_id,
            country=country,
            first_date=first_date.date() if first_date else None,
            last_date=last_date.date() if last_date else None,
            progress=progress_bar,
        )
    except APIError as exc:
        for line in _problem_lines(exc):
            click.echo(line, err=True)
        raise click.ClickException(f"{exc.detail} ({exc.status})") from exc
    for warning in summary["warnings"]:
        click.echo(f"warning {warning['code']}: {warning['reason']}", err=True)
    window = summary["window"]
    click.echo(f"service dates {window['from']} to {window['until']}")
    click.echo("created " + " ".join(f"{k}={v}" for k, v in summary["counts"].items()))
    click.echo("matched " + " ".join(f"{k}={v}" for k, v in summary["matched"].items()))
