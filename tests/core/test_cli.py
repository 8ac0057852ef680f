"""The `flask` command line lists every group and command with a one-line help
(cli.py registers them all in one place)."""

import re

from cli import register

OURS = {
    "bookings",
    "create-admin",
    "departures",
    "enquiries",
    "outbox",
    "payments",
    "seed-demo",
}


def listed_commands(output: str) -> dict[str, str]:
    """The `Commands:` section of a click help page as {name: help line}."""
    section = output.split("Commands:", 1)[1]
    return dict(re.findall(r"^  (\S+)\s+(.*)$", section, re.MULTILINE))


def test_help_lists_every_group_with_a_whole_one_line_help(app):
    result = app.test_cli_runner().invoke(args=["--help"])
    assert result.exit_code == 0, result.output
    commands = listed_commands(result.output)
    assert set(commands) >= OURS
    for name in OURS:
        assert commands[name], name
        assert not commands[name].endswith("..."), (name, commands[name])


def test_each_group_lists_its_commands_with_help(app):
    runner = app.test_cli_runner()
    for group, expected in [
        ("bookings", {"expire-holds", "complete-trips"}),
        ("departures", {"cancel"}),
        ("enquiries", {"send-reminders"}),
        ("outbox", {"relay"}),
        ("payments", {"reconcile"}),
    ]:
        result = runner.invoke(args=[group, "--help"])
        assert result.exit_code == 0, result.output
        commands = listed_commands(result.output)
        assert set(commands) == expected, group
        assert all(commands.values()), group


def test_register_attaches_the_commands_to_an_app(app):
    from flask import Flask

    other = Flask("other")
    register(other)
    assert set(other.cli.commands) >= OURS


def test_listed_commands_reads_a_help_page():
    page = "Usage: x\n\nCommands:\n  one  First.\n  two  Second one.\n"
    assert listed_commands(page) == {"one": "First.", "two": "Second one."}
