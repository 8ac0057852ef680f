"""The house rules of the layout (docs/architecture.md "Where things live"): the
root holds only the entry modules, services hold rules (no demo data, no module
over 800 lines) and the README stays a five-minute read."""

from tests import ROOT

ROOT_MODULES = {"app.py", "config.py", "cli.py", "worker.py", "gunicorn.conf.py"}
MAX_SERVICE_LINES = 800
MAX_README_LINES = 300


def test_only_the_entry_modules_sit_at_the_root():
    assert {path.name for path in ROOT.glob("*.py")} <= ROOT_MODULES


def test_no_service_module_is_over_800_lines():
    long = {
        path.relative_to(ROOT).as_posix(): length
        for path in (ROOT / "services").rglob("*.py")
        if (length := len(path.read_text().splitlines())) > MAX_SERVICE_LINES
    }
    assert long == {}


def test_demo_data_lives_apart_from_the_services():
    assert not [p for p in (ROOT / "services").rglob("*.py") if "seed" in p.name]
    assert (ROOT / "demo" / "seed.py").is_file()


def test_the_readme_is_at_most_300_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= MAX_README_LINES
