"""The layering holds: the platform (shared/) imports no service and no tool; a service
imports no other service; nothing in a service's domain/ does I/O or reads a clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def test_the_platform_imports_no_service_and_no_tool() -> None:
    offenders = {
        str(path.relative_to(ROOT)): name
        for path in _modules(ROOT / "shared")
        for name in _imports(path)
        if name.split(".")[0] in {"services", "bench", "tests"}
    }
    assert offenders == {}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): name
        for path in _modules(ROOT / "services" / service)
        for name in _imports(path)
        if name.startswith("services.") and name.split(".")[1] != service
    }
    assert offenders == {}


IMPURE = {"sqlalchemy", "asyncpg", "aiokafka", "httpx", "fastapi", "shared.clock", "shared.db"}


@pytest.mark.parametrize("service", SERVICES)
def test_a_domain_module_does_no_io_and_reads_no_clock(service: str) -> None:
    domain = ROOT / "services" / service / "domain"
    if not domain.is_dir():
        pytest.skip(f"{service} has no domain package")
    offenders = {}
    for path in _modules(domain):
        source = path.read_text()
        bad = {n for n in _imports(path) if n.split(".")[0] in IMPURE or n in IMPURE}
        if "datetime.now(" in source or ".utcnow(" in source or "time.time(" in source:
            bad.add("reads the clock")
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}
