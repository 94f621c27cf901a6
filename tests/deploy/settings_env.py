"""The environment variables the code reads, derived from its settings classes, for checking
deployment files (deploy/compose.yaml here; the Kubernetes manifests use it too).

The settings classes are found, not listed: `shared/settings.py` (every service reads it) and
every `settings.py` under `services/<service>/` (that service's own). A field's variable is
its alias where it has one (`DATABASE_URL`), else the class's `env_prefix` plus its name; the
per-service variables `Settings` reads by hand (`SHOPFLOW_<SERVICE>_DATABASE_URL`, `_PORT`,
`_METRICS_PORT`) are read from its source.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

from pydantic import AliasChoices, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from shared import settings as shared_settings
from shared.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
# What `Settings` reads from os.environ itself: f"SHOPFLOW_{service.upper()}_<SUFFIX>".
_PER_SERVICE = re.compile(r'f"SHOPFLOW_\{service\.upper\(\)\}_([A-Z0-9_]+)"')


@cache
def settings_classes() -> dict[str | None, tuple[type[BaseSettings], ...]]:
    """The settings classes by service; None: those every service reads (shared/)."""
    found: dict[str | None, tuple[type[BaseSettings], ...]] = {None: (Settings,)}
    for service in SERVICES:
        classes: list[type[BaseSettings]] = []
        for path in sorted((ROOT / "services" / service).rglob("settings.py")):
            if "migrations" in path.parts:
                continue
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            classes += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__
            ]
        found[service] = tuple(classes)
    return found


def _classes_of(service: str) -> tuple[type[BaseSettings], ...]:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
    classes = settings_classes()
    return classes[None] + classes[service]


def field_env_names(cls: type[BaseSettings], field: str) -> list[str]:
    """The variables that set `field` of `cls`, upper case (matching is case-insensitive)."""
    info: FieldInfo = cls.model_fields[field]
    alias = info.validation_alias or info.alias
    if isinstance(alias, str):
        return [alias.upper()]
    if isinstance(alias, AliasChoices):
        return [c.upper() for c in alias.choices if isinstance(c, str)]
    prefix = cls.model_config.get("env_prefix", "")
    return [(prefix + field).upper()]


def per_service_env_names(service: str) -> set[str]:
    """The variables `Settings` reads for one service by hand (its database, ports)."""
    suffixes = _PER_SERVICE.findall(Path(shared_settings.__file__).read_text())
    return {f"SHOPFLOW_{service.upper()}_{suffix}" for suffix in suffixes}


def _env_names(classes: tuple[type[BaseSettings], ...]) -> Iterator[str]:
    for cls in classes:
        for field in cls.model_fields:
            yield from field_env_names(cls, field)


@cache
def known_env_names() -> set[str]:
    """Every variable some service reads: a deployment setting anything else sets nothing."""
    names = set(_env_names(tuple(c for classes in settings_classes().values() for c in classes)))
    for service in SERVICES:
        names |= per_service_env_names(service)
    return names


def required_env_names(service: str) -> set[str]:
    """What `service` must be given in production (one database per service): the
    environment itself (SHOPFLOW_ENVIRONMENT), the fields without a default, what the validators
    refuse to start without in production (found by starting them with nothing set), the
    broker, and the service's own database URL (`Settings.database_url_for`)."""
    classes = _classes_of(service)
    names = {
        field_env_names(cls, field)[0]
        for cls in classes
        for field, info in cls.model_fields.items()
        if info.is_required()
    }
    known = set(_env_names(classes))
    environment = field_env_names(Settings, "environment")[0]
    names.add(environment)  # unset, it is `development`: the development secrets serve
    with _only({environment: "production"}):
        for cls in classes:
            try:
                cls()
            except ValidationError as exc:
                # the validators name the variables they miss; a required field is named
                # by pydantic itself (by field name, already counted above)
                names |= {name for name in known if re.search(rf"\b{name}\b", str(exc))}
    names.add(field_env_names(Settings, "kafka_bootstrap_servers")[0])
    names |= {n for n in per_service_env_names(service) if n.endswith("_DATABASE_URL")}
    return names


def config_errors(service: str, env: Mapping[str, str]) -> list[str]:
    """Why `service` would not start with exactly `env` as its environment: each of its
    settings classes is built from it, then its database and broker are looked up."""
    errors: list[str] = []
    with _only(env):
        for cls in _classes_of(service):
            try:
                built = cls()
            except ValidationError as exc:
                errors.append(f"{cls.__name__}: {exc}")
                continue
            if isinstance(built, Settings):
                for lookup in (built.database_url_for, built.port_for, built.metrics_port_for):
                    try:
                        lookup(service)
                    except (RuntimeError, ValueError) as exc:
                        errors.append(f"{cls.__name__}: {exc}")
                try:
                    built.bootstrap_servers()
                except RuntimeError as exc:
                    errors.append(f"{cls.__name__}: {exc}")
    return errors


def _only(env: Mapping[str, str]) -> Any:
    """os.environ is exactly `env` inside (restored after)."""
    return mock.patch.dict(os.environ, dict(env), clear=True)
