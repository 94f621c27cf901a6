"""What deploy/compose.yaml must hold, as functions from the parsed file to the problems found
(an empty list: it holds). tests/deploy/test_compose.py runs them on the real file and on
broken copies of it, so that each is seen to fail.

A shopflow container is one built from deploy/Dockerfile (`image: shopflow...`); the command
says what it is: `serve <service>` (a service) or `migrate <service>` (its migrate job).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock
from urllib.parse import urlsplit

import yaml

from shared.settings import DEV_ENVIRONMENTS, SERVICES, Settings
from tests.deploy.settings_env import (
    config_errors,
    known_env_names,
    required_env_names,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
MIN_REPLICAS = 2
TOPICS_JOB = "kafka-topics"
# A value for `${VAR}` (and `${VAR:?error}`) when checking: long enough for a secret.
PLACEHOLDER = "placeholder-value-of-a-deployment-secret-0123456789"
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}")

T = TypeVar("T")
Compose = dict[str, Any]
Problems = list[str]


def load(text: str | None = None) -> Compose:
    """The compose file parsed (YAML anchors and merge keys resolved)."""
    data = yaml.safe_load(COMPOSE.read_text() if text is None else text)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "no services"
    return data


def interpolate(value: str) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`, with the deployment's
    variables unknown here: a default where given, else a placeholder."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return match.group(3) if match.group(2) == "-" else PLACEHOLDER

    return _INTERPOLATION.sub(one, value)


def environment(container: Mapping[str, Any]) -> dict[str, str]:
    """A container's environment, interpolated (mapping or `NAME=value` list form)."""
    env = container.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): interpolate("" if v is None else str(v)) for k, v in env.items()}


def is_shopflow(container: Mapping[str, Any]) -> bool:
    return str(container.get("image", "")).split(":")[0] == "shopflow"


def role(container: Mapping[str, Any]) -> tuple[str, str] | None:
    """("serve" | "migrate", service) for a shopflow container, else None."""
    command = container.get("command")
    if is_shopflow(container) and isinstance(command, list) and len(command) == 2:
        return command[0], command[1]
    return None


def containers(compose: Compose, action: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Service -> (compose name, definition) of the containers doing `action` for it."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, container in compose["services"].items():
        what = role(container)
        if what and what[0] == action:
            found[what[1]] = (name, container)
    return found


def _depends(container: Mapping[str, Any]) -> dict[str, str]:
    """depends_on as {name: condition} (the list form means service_started)."""
    deps = container.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {k: (v or {}).get("condition", "service_started") for k, v in deps.items()}


def _settings(env: Mapping[str, str]) -> Settings:
    with mock.patch.dict("os.environ", dict(env), clear=True):
        return Settings()


def _under(env: Mapping[str, str], lookup: Callable[[Settings], T]) -> T:
    """`lookup` on the settings of `env`, with `env` as the environment (some of Settings'
    methods read per-service variables from it: database_url_for, port_for ...)."""
    with mock.patch.dict("os.environ", dict(env), clear=True):
        return lookup(Settings())


def _database_url(service: str, env: Mapping[str, str]) -> str | None:
    try:
        return _under(env, lambda s: s.database_url_for(service))
    except (RuntimeError, ValueError):
        return None


# --- the rules ---------------------------------------------------------------------------------


def every_service_runs_replicated(compose: Compose) -> Problems:
    served = containers(compose, "serve")
    problems = [f"{s}: no container serves it" for s in SERVICES if s not in served]
    for name, container in served.values():
        replicas = (container.get("deploy") or {}).get("replicas", 1)
        if replicas < MIN_REPLICAS:
            problems.append(f"{name}: {replicas} replica(s), at least {MIN_REPLICAS}")
    return problems


def every_service_has_a_healthcheck(compose: Compose) -> Problems:
    """Readiness on the service's own port (/readyz: its database and broker)."""
    problems = []
    for service, (name, container) in containers(compose, "serve").items():
        check = container.get("healthcheck") or {}
        test = check.get("test")
        if not test or check.get("disable") or test in (["NONE"], "NONE"):
            problems.append(f"{name}: no healthcheck")
            continue
        port = _under(environment(container), functools.partial(Settings.port_for, service=service))
        text = " ".join(test) if isinstance(test, list) else str(test)
        if f":{port}/readyz" not in text:
            problems.append(f"{name}: the healthcheck does not ask :{port}/readyz")
    return problems


def every_service_has_its_database_and_migrate_job(compose: Compose) -> Problems:
    """Its own PostgreSQL (no two services share one), migrated by a job the service waits
    for, on the same database."""
    problems: Problems = []
    jobs = containers(compose, "migrate")
    owners: dict[str, str] = {}
    for service, (name, container) in containers(compose, "serve").items():
        url = _database_url(service, environment(container))
        host = urlsplit(url).hostname if url else None
        database = compose["services"].get(host or "", {})
        if not str(database.get("image", "")).startswith("postgres:"):
            problems.append(f"{name}: its database URL names no PostgreSQL of this file")
        elif host in owners:
            problems.append(f"{name}: shares the database {host} with {owners[host]}")
        else:
            owners[host or ""] = name
        if service not in jobs:
            problems.append(f"{name}: no migrate job (command: [migrate, {service}])")
            continue
        job_name, job = jobs[service]
        if _depends(container).get(job_name) != "service_completed_successfully":
            problems.append(f"{name}: does not wait for {job_name} to complete successfully")
        if _database_url(service, environment(job)) != url:
            problems.append(f"{job_name}: migrates another database than {name} uses")
        if host and host not in _depends(job):
            problems.append(f"{job_name}: does not wait for its database {host}")
        if job.get("restart", "no") != "no" or (job.get("deploy") or {}).get("replicas", 1) != 1:
            problems.append(f"{job_name}: a job runs once (restart: no, one replica)")
    return problems


def every_variable_is_a_setting(compose: Compose) -> Problems:
    """No shopflow container sets a variable the code does not read (a typo would be
    ignored silently: the settings classes ignore unknown variables)."""
    known = known_env_names()
    return [
        f"{name}: {variable} is not a setting of the code"
        for name, container in compose["services"].items()
        if is_shopflow(container)
        for variable in environment(container)
        if variable.upper() not in known
    ]


def every_required_setting_is_set(compose: Compose) -> Problems:
    """Each shopflow container is in production and has what production needs, and its
    settings build from its environment (as when it starts)."""
    problems = []
    for name, container in compose["services"].items():
        what = role(container)
        if what is None:
            continue
        env = environment(container)
        given = {k.upper() for k, v in env.items() if v}
        missing = sorted(required_env_names(what[1]) - given)
        if missing:
            problems.append(f"{name}: {', '.join(missing)} not set")
        if env.get("SHOPFLOW_ENVIRONMENT", "development").lower() in DEV_ENVIRONMENTS:
            problems.append(f"{name}: SHOPFLOW_ENVIRONMENT is a development one")
        problems += [f"{name}: {error}" for error in config_errors(what[1], env)]
    return problems


def metrics_are_scrapable(compose: Compose, prometheus: Mapping[str, Any]) -> Problems:
    """Every service serves /metrics on a port of its own (no token) and Prometheus scrapes
    that port on every replica (DNS discovery of the compose service)."""
    problems = []
    targets: dict[str, set[int]] = {}
    for job in prometheus.get("scrape_configs") or []:
        for sd in job.get("dns_sd_configs") or []:
            for dns_name in sd.get("names") or []:
                targets.setdefault(dns_name, set()).add(int(sd.get("port", 0)))
    for service, (name, container) in containers(compose, "serve").items():
        env = environment(container)
        if _settings(env).metrics_access != "port":
            problems.append(f"{name}: /metrics needs a token (SHOPFLOW_METRICS_ACCESS=port)")
        port = _under(env, functools.partial(Settings.metrics_port_for, service=service))
        if port not in targets.get(name, set()):
            problems.append(f"{name}: Prometheus does not scrape it on its metrics port {port}")
    return problems


@cache
def service_topics(prefix: str) -> dict[str, dict[str, list[str]]]:
    """Per service, the topic it publishes (`own`) and those its consumers read
    (`consumes`), from the apps themselves (built in a child process: building an app
    configures the process's logging)."""
    script = """
import json, sys
from importlib import import_module
from shared.settings import SERVICES, Settings
settings = Settings(database_url="postgresql://u@db/x", kafka_bootstrap_servers="k:9092",
                    kafka_topic_prefix=sys.argv[1])
found = {}
for service in SERVICES:
    app = getattr(import_module(f"services.{service}.app"), f"create_{service}_app")(settings)
    runtime = app.state.runtime
    found[service] = {"own": runtime.topic, "consumes": sorted(
        {t for c in runtime.consumers.values() for t in c.topics})}
print(json.dumps(found))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, dict[str, list[str]]] = json.loads(done.stdout.splitlines()[-1])
    return result


def topics_match_the_services(compose: Compose) -> Problems:
    """The topics job creates every topic a service publishes or reads, with the partitions
    and replication the services are configured with (they would create them so), keeping
    every event (consumer groups reset to the start and the analytics rebuild replay them); a topic
    has at least as many partitions as any group reading it has members; the replication
    fits the brokers; every service waits for the job."""
    services = compose["services"]
    job = services.get(TOPICS_JOB)
    if job is None:
        return [f"no {TOPICS_JOB} job"]
    job_env = environment(job)
    created = set(job_env.get("TOPICS", "").split())
    partitions = int(job_env.get("PARTITIONS", "0"))
    replication = int(job_env.get("REPLICATION_FACTOR", "0"))
    brokers = [
        n
        for n, c in services.items()
        if "broker" in str(environment(c).get("KAFKA_PROCESS_ROLES", ""))
    ]
    problems = []
    if "retention.ms=-1" not in " ".join(map(str, job.get("command") or [])):
        problems.append(f"{TOPICS_JOB}: the topics do not keep every event (retention.ms=-1)")
    if replication > len(brokers):
        problems.append(f"{TOPICS_JOB}: replication {replication} over {len(brokers)} brokers")
    served = containers(compose, "serve")
    replicas_reading: dict[str, int] = {}
    for service, (name, container) in served.items():
        settings = _settings(environment(container))
        if settings.kafka_partitions != partitions:
            problems.append(
                f"{name}: SHOPFLOW_KAFKA_PARTITIONS {settings.kafka_partitions}, "
                f"the topics have {partitions}"
            )
        if settings.kafka_replication_factor != replication:
            problems.append(
                f"{name}: SHOPFLOW_KAFKA_REPLICATION_FACTOR {settings.kafka_replication_factor}, "
                f"the topics have {replication}"
            )
        if _depends(container).get(TOPICS_JOB) != "service_completed_successfully":
            problems.append(f"{name}: does not wait for {TOPICS_JOB} to complete successfully")
        topics = service_topics(settings.kafka_topic_prefix)[service]
        for topic in [topics["own"], *topics["consumes"]]:
            if topic not in created:
                problems.append(f"{name}: uses {topic}, which {TOPICS_JOB} does not create")
        replicas = int((container.get("deploy") or {}).get("replicas", 1))
        for topic in topics["consumes"]:
            replicas_reading[topic] = max(replicas_reading.get(topic, 0), replicas)
    for topic, replicas in sorted(replicas_reading.items()):
        if partitions < replicas:
            problems.append(f"{topic}: {partitions} partitions for {replicas} replicas reading")
    return problems


RULES: tuple[Callable[[Compose], Problems], ...] = (
    every_service_runs_replicated,
    every_service_has_a_healthcheck,
    every_service_has_its_database_and_migrate_job,
    every_variable_is_a_setting,
    every_required_setting_is_set,
    topics_match_the_services,
)


def all_problems(compose: Compose) -> Iterator[str]:
    for rule in RULES:
        yield from rule(compose)
