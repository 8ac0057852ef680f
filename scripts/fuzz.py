"""Fuzz the live API with schemathesis, as a customer, as staff and anonymously
(make fuzz, make fuzz-short).

    python scripts/fuzz.py --base-url http://127.0.0.1:5000 --profile short

`make fuzz-short` (CI) and `make fuzz` (the long pass) start a server on a fresh
SQLite database loaded with `flask seed-demo` and run this script against it. It
logs in the demo customer and the demo admin (demo/seed.py, DEMO_PASSWORD) and
runs `st run` over every operation of /api/v1/openapi.json three times: with the
customer's token, with the admin's token, and without a token, in that order (staff
calls may deactivate the demo customer; a customer cannot touch staff). The bearer
token is sent on every request, so `POST /auth/logout` (which revokes it) is only
fuzzed in the anonymous pass. Settings shared by the passes (checks, per-operation
expectations) live in tools/fuzz/schemathesis.toml.

Checks (schemathesis 4): no 5xx, status code / content type / headers / body
conformance to the spec, schema-invalid requests refused, schema-valid requests
accepted, missing auth refused, 405 with Allow for undocumented methods, deleted
resources gone, created resources readable. Phases: examples, coverage, fuzzing and
stateful (links inferred from the spec and the Location headers it sees).

Each pass writes an NDJSON event log to --report-dir; the script reads them back and
prints the totals: requests sent, responses by status class, 5xx responses, failed
checks. Exit status 1 when any pass fails (a failed check or a 5xx), else 0.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tools" / "fuzz" / "schemathesis.toml"
HOOKS = ROOT / "tools" / "fuzz" / "hooks.py"
SPEC_PATH = "/api/v1/openapi.json"
DEMO_PASSWORD = "demo-password-1"  # demo/seed.py DEMO_PASSWORD
IDENTITIES = {
    "customer": ("customer@easytravels.test", "customer"),
    "staff": ("admin@easytravels.test", "employee"),
    "anonymous": None,
}
# Per pass: max examples per operation, time budget (s) for the fuzzing and stateful
# phases to repeat in, fixed seed (reproducible CI runs).
PROFILES = {
    "short": {"max_examples": 8, "max_time": 45, "seed": 20261121},
    "long": {"max_examples": 60, "max_time": 240, "seed": 5},
}
PHASES = "examples,coverage,fuzzing,stateful"
TOKEN_ONLY_EXCLUDES = ["/api/v1/auth/logout"]


def login(base_url: str, email: str, account: str, *, attempts: int = 5) -> str:
    """An access token for the demo account; waits out a 429 (the login rate limit,
    which earlier passes may have spent). Raises RuntimeError when login fails."""
    for _ in range(attempts):
        answer = requests.post(
            f"{base_url}/api/v1/auth/login",
            json={"email": email, "password": DEMO_PASSWORD, "account": account},
            timeout=30,
        )
        if answer.status_code == 429:
            time.sleep(int(answer.headers.get("Retry-After", "10")) + 1)
            continue
        if answer.status_code != 200:
            raise RuntimeError(
                f"login {email}: {answer.status_code} {answer.text[:200]}"
            )
        return answer.json()["access_token"]
    raise RuntimeError(f"login {email}: still rate limited after {attempts} attempts")


def pass_config(report_dir: Path, name: str, token: str | None) -> Path:
    """tools/fuzz/schemathesis.toml plus, for a pass with a token, the bearer auth of
    the spec's `bearerAuth` scheme (so schemathesis knows the token is auth and drops
    it when it checks that a missing token is refused). Written next to the report."""
    text = CONFIG.read_text(encoding="utf-8")
    if token:
        text += f'\n[auth.openapi.bearerAuth]\nbearer = "{token}"\n'
    path = report_dir / f"{name}.schemathesis.toml"
    path.write_text(text, encoding="utf-8")
    return path


def st_command(
    base_url: str,
    profile: dict,
    report: Path,
    config: Path,
    token: str | None,
    only: str | None = None,
) -> list[str]:
    """The `st run` argument list of one pass (`only`: a path regex to narrow it)."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{base_url}{SPEC_PATH}",
        "--phases",
        PHASES,
        "--max-examples",
        str(profile["max_examples"]),
        "--max-time",
        str(profile["max_time"]),
        "--seed",
        str(profile["seed"]),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    if only:
        command += ["--include-path-regex", only]
    if token:
        for path in TOKEN_ONLY_EXCLUDES:
            command += ["--exclude-path", path]
    return command


def summarise(report: Path) -> dict:
    """Totals of one NDJSON event log: requests, status classes, 5xx, failed checks
    (by check name), test cases."""
    requests_sent, statuses, failures = 0, collections.Counter(), collections.Counter()
    server_errors = []
    if not report.is_file():  # schemathesis stopped before testing (config, schema)
        return {
            "requests": 0,
            "statuses": {},
            "server_errors": [],
            "failed_checks": {"schemathesis did not run": 1},
        }
    for line in report.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder", {})
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response")
            requests_sent += 1
            if response is None:
                statuses["no response"] += 1
                continue
            code = response["status_code"]
            statuses[f"{code // 100}xx"] += 1
            if code >= 500:
                request = interaction["request"]
                server_errors.append(f"{code} {request['method']} {request['uri']}")
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check.get("status") == "failure":
                    failures[check["name"]] += 1
    return {
        "requests": requests_sent,
        "statuses": dict(sorted(statuses.items())),
        "server_errors": server_errors,
        "failed_checks": dict(failures),
    }


def run_pass(
    name: str, base_url: str, profile: dict, report_dir: Path, only: str | None = None
) -> tuple[int, dict]:
    """Log in as `name`'s identity, run schemathesis, return (exit code, totals)."""
    identity = IDENTITIES[name]
    token = login(base_url, *identity) if identity else None
    report = report_dir / f"{name}.ndjson"
    print(f"\n===== fuzz pass '{name}' =====", flush=True)
    config = pass_config(report_dir, name, token)
    command = st_command(base_url, profile, report, config, token, only)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    return status, summarise(report)


def main(argv: list[str] | None = None) -> int:
    """Run the three passes and print their totals; 1 when any pass failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:5000")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="short")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "fuzz-report")
    parser.add_argument(
        "--passes",
        default="customer,staff,anonymous",
        help="comma-separated subset of customer,staff,anonymous",
    )
    parser.add_argument(
        "--only", help="fuzz only paths matching this regex, e.g. /reports"
    )
    args = parser.parse_args(argv)
    args.report_dir.mkdir(parents=True, exist_ok=True)
    profile = PROFILES[args.profile]
    base_url = args.base_url.rstrip("/")
    results, failed = {}, False
    for name in args.passes.split(","):
        status, totals = run_pass(name, base_url, profile, args.report_dir, args.only)
        results[name] = totals
        failed |= status != 0 or bool(totals["server_errors"])
    print("\n===== fuzz totals =====")
    for name, totals in results.items():
        print(
            f"{name:10} requests {totals['requests']:6}  "
            f"statuses {totals['statuses']}  "
            f"5xx {len(totals['server_errors'])}  "
            f"failed checks {totals['failed_checks']}"
        )
        for line in totals["server_errors"][:20]:
            print(f"    {line}")
    total = sum(t["requests"] for t in results.values())
    errors = sum(len(t["server_errors"]) for t in results.values())
    violations = sum(sum(t["failed_checks"].values()) for t in results.values())
    print(
        f"all passes: {total} requests, {errors} server errors, "
        f"{violations} failed checks ({'FAILED' if failed else 'passed'})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
