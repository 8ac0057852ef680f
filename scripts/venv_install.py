"""Install a requirements file into the project's virtualenv with a short, visible
progress report instead of pip's page of output (`make run`, `make test`).

    python scripts/venv_install.py .venv requirements-local.txt

Creates the virtualenv when missing, runs `pip install -r FILE` and shows one
progress line (rewritten in place on a terminal, a line every 15 packages in a log):
how many packages pip has collected and the last one. On failure pip's whole output
is printed and the exit status is pip's. Needs Python 3.11+.
"""

import argparse
import subprocess
import sys
import time
import venv
from pathlib import Path

STEP_WORDS = ("Collecting ", "Requirement already satisfied: ")
LOG_EVERY = 15


def package_name(line: str) -> str:
    """The requirement named by a pip progress line, e.g. `flask==3.1.3`."""
    for word in STEP_WORDS:
        if line.startswith(word):
            return line[len(word) :].split()[0]
    return ""


class Progress:
    """One progress line: rewritten in place on a terminal, printed now and then in
    a log (CI), so that a long install is visibly moving either way."""

    def __init__(self, label: str, stream=sys.stdout):
        self.label, self.stream, self.count = label, stream, 0
        self.tty = stream.isatty()

    def step(self, name: str) -> None:
        """Count one more collected package named `name`."""
        self.count += 1
        text = f"{self.label}: {self.count} packages ({name})"
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif self.count % LOG_EVERY == 0:
            print(text, file=self.stream, flush=True)

    def done(self, seconds: float) -> None:
        """Close the line with the total and the time taken."""
        if self.tty:
            self.stream.write("\r\033[K")
        print(
            f"{self.label}: {self.count} packages ready in {seconds:.0f} s",
            file=self.stream,
            flush=True,
        )


def ensure_venv(path: Path) -> Path:
    """The virtualenv's python, creating the virtualenv (with pip) when missing."""
    python = path / "bin" / "python"
    if not python.exists():
        print(f"creating the virtualenv {path}/", flush=True)
        venv.create(path, with_pip=True)
    return python


def install(python: Path, requirements: str, label: str) -> int:
    """`pip install -r requirements` with a progress line; pip's exit status."""
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-r",
        requirements,
    ]
    started = time.monotonic()
    progress = Progress(label)
    output = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as pip:
        for line in pip.stdout:
            output.append(line)
            name = package_name(line.strip())
            if name:
                progress.step(name)
    if pip.returncode != 0:
        print("".join(output), file=sys.stderr)
        print(f"pip install -r {requirements} failed", file=sys.stderr)
        return pip.returncode
    progress.done(time.monotonic() - started)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, make the virtualenv and install into it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("venv", type=Path, help="the virtualenv folder (.venv)")
    parser.add_argument("requirements", help="a requirements file")
    parser.add_argument("--label", default="installing", help="the progress label")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under the python3 that makes the venv
        print("Python 3.11+ is needed; this is " + sys.version.split()[0])
        return 1
    return install(ensure_venv(args.venv), args.requirements, args.label)


if __name__ == "__main__":
    sys.exit(main())
