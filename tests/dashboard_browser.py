"""Helpers of the dashboard's browser tests: a live server with the demo data,
Debian's Chromium driven by Playwright, axe-core, screenshots.

The server is the project's own test gunicorn (`tests/live.py`) on a free port,
against a fresh SQLite file built by `flask db upgrade` and filled by
`flask seed-demo` (the demo staff accounts of demo/seed.py). The browser is
/usr/bin/chromium (Debian's package, `make chromium`); Playwright never downloads one.
"""

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests import ROOT
from tests.live import gunicorn_server

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE_JS = ROOT / "dashboard" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
FLASK = ROOT / ".venv" / "bin" / "flask"
# Flags for Chromium in a closed network and a container (the machine notes of this
# project: without them it keeps trying Google's hosts); Playwright adds --headless
# and --no-sandbox itself.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
BLOCKING_IMPACTS = ("serious", "critical")


def require_browser_tools() -> None:
    """Skip (fail under CI=true) when Chromium or the npm axe-core is missing."""
    missing = [str(p) for p in (CHROMIUM, AXE_JS) if not p.exists()]
    if not missing:
        return
    message = (
        f"browser tests need {', '.join(missing)} (run `make chromium dashboard-deps`)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _flask(args: list[str], env: dict, log: Path) -> None:
    """Run `flask --app app ARGS` for the live server's database; raise with its
    output."""
    result = subprocess.run(
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        )


@contextlib.contextmanager
def demo_server():
    """Yield the base URL of a live server on a fresh SQLite database with the demo
    data (migrated, seeded), stopped and deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="easytravels-dashboard-") as tmp:
        url = f"sqlite:///{tmp}/dashboard.db"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "DATABASE_URL")
        }
        env.update(APP_CONFIG="testing", TEST_DATABASE_URL=url, MAIL_SERVER="")
        _flask(["db", "upgrade"], env, Path(tmp) / "upgrade.log")
        _flask(["seed-demo"], env, Path(tmp) / "seed.log")
        server_env = {"TEST_DATABASE_URL": url, "MAIL_SERVER": ""}
        with gunicorn_server(workers=2, threads=4, env=server_env) as base:
            yield base


def violations(page) -> list[dict]:
    """Run axe-core (the pinned npm package) in `page`; the serious and critical
    violations as [{id, impact, help, targets}]."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluate runs through the DevTools protocol, so the page's CSP (script-src
        # 'self') does not block it, and the served page stays unchanged.
        page.evaluate(AXE_JS.read_text() + "\n;0")
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in BLOCKING_IMPACTS]


def screenshot(page, name: str, out_dir: Path) -> Path:
    """Save a full-page PNG of `page` as OUT_DIR/NAME.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
