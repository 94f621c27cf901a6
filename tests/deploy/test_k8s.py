"""The Kubernetes manifests (deploy/k8s) checked without a cluster (the checks:
tests/deploy/k8s_rules.py): the real manifests pass every check, and each check catches a
manifest broken on purpose."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import jsonschema
import pytest

from tests.deploy.k8s_rules import (
    CHECKS,
    KUSTOMIZATIONS,
    Manifest,
    named,
    of_kind,
    operator_schemas,
    pod_specs,
    render,
    secrets_created_by_readme,
)

# --- the checks on the manifests as they are ----------------------------------------------------


@pytest.mark.parametrize("kustomization", sorted(KUSTOMIZATIONS))
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_manifests_pass_the_check(kustomization: str, check: str) -> None:
    assert CHECKS[check](render(kustomization)) == []


def test_the_kinds_rendered_are_the_ones_expected() -> None:
    kinds = sorted({d["kind"] for d in render("production")})
    assert kinds == sorted(
        {
            "Namespace",
            "ConfigMap",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "Job",
            "NetworkPolicy",
            "Kafka",
            "KafkaNodePool",
            "KafkaTopic",
            "Cluster",
        }
    )
    assert {
        d["metadata"].get("namespace") for d in render("production") if d["kind"] != "Namespace"
    } == {"shopflow"}


def test_the_readme_creates_the_secrets_the_services_read() -> None:
    assert secrets_created_by_readme() == {
        "shopflow-auth": {"jwt-secret"},
        "shopflow-carriers": {"secrets"},
        "shopflow-smtp": {"host", "username", "password"},
    }


def test_production_pins_the_image_and_scales_up_from_the_base() -> None:
    base, production = render("base"), render("production")
    for _, spec in pod_specs(production):
        for container in spec["containers"]:
            image = container["image"]
            assert re.fullmatch(r"[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})", image), image
            assert not image.endswith(":latest"), image
    for cluster in of_kind(production, "Cluster"):
        assert cluster["spec"]["instances"] == 3, cluster["metadata"]["name"]
    for deployment in of_kind(base, "Deployment"):
        name = deployment["metadata"]["name"]
        bigger = named(production, "Deployment", name)
        assert bigger is not None
        assert deployment["spec"]["replicas"] == 2
        assert bigger["spec"]["replicas"] > deployment["spec"]["replicas"]
        before = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
        after = bigger["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert after != before
        assert _mebibytes(after["limits"]["memory"]) > _mebibytes(before["limits"]["memory"])
        hpa = named(production, "HorizontalPodAutoscaler", name)
        assert hpa is not None and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


def _mebibytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)


# --- each check catches a broken manifest -------------------------------------------------------


def _deployment(docs: list[Manifest], name: str = "order") -> Manifest:
    return the(docs, "Deployment", name)


def _container(docs: list[Manifest], name: str = "order") -> Manifest:
    return _deployment(docs, name)["spec"]["template"]["spec"]["containers"][0]


def the(docs: list[Manifest], kind: str, name: str) -> Manifest:
    found = named(docs, kind, name)
    assert found is not None, f"no {kind}/{name}"
    return found


def _drop(docs: list[Manifest], kind: str, name: str) -> None:
    docs.remove(the(docs, kind, name))


def _set_env(docs: list[Manifest], name: str, value: str, service: str = "order") -> None:
    env = _container(docs, service)["env"]
    env[:] = [v for v in env if v["name"] != name] + [{"name": name, "value": value}]


def _config(docs: list[Manifest]) -> dict[str, str]:
    return the(docs, "ConfigMap", "shopflow-config")["data"]


BROKEN: dict[str, tuple[Callable[[list[Manifest]], None], str, str]] = {
    # name: (how the manifests are broken, the check that must catch it, words of its problem)
    "a misspelt kind": (lambda d: _deployment(d).update(kind="Deploymnet"), "schemas", "no schema"),
    "a misspelt Deployment field": (
        lambda d: _deployment(d)["spec"].update(replica=2),
        "schemas",
        "replica",
    ),
    "a misspelt container field": (
        lambda d: _container(d).update(readinesProbe=_container(d).pop("readinessProbe")),
        "schemas",
        "readinesProbe",
    ),
    "a wrong field type": (
        lambda d: _deployment(d)["spec"].update(replicas="two"),
        "schemas",
        "two",
    ),
    "a misspelt CloudNativePG field": (
        lambda d: the(d, "Cluster", "order-db")["spec"].update(instance=3),
        "schemas",
        "instance",
    ),
    "a KafkaTopic without its cluster label": (
        lambda d: the(d, "KafkaTopic", "shopflow.order.events")["metadata"].pop("labels"),
        "schemas",
        "labels",
    ),
    "a node pool with an unknown role": (
        lambda d: the(d, "KafkaNodePool", "broker")["spec"].update(roles=["brokers"]),
        "schemas",
        "brokers",
    ),
    "a Deployment without a readiness probe": (
        lambda d: _container(d).pop("readinessProbe"),
        "workloads",
        "no readinessProbe",
    ),
    "a Deployment without a liveness probe": (
        lambda d: _container(d, "pickup").pop("livenessProbe"),
        "workloads",
        "no livenessProbe",
    ),
    "a container without limits": (
        lambda d: _container(d)["resources"].pop("limits"),
        "workloads",
        "no cpu in its limits",
    ),
    "a service without its PodDisruptionBudget": (
        lambda d: _drop(d, "PodDisruptionBudget", "fulfillment"),
        "workloads",
        "0 PodDisruptionBudgets",
    ),
    "a service without its HorizontalPodAutoscaler": (
        lambda d: _drop(d, "HorizontalPodAutoscaler", "analytics"),
        "workloads",
        "0 HorizontalPodAutoscalers",
    ),
    "an HPA beyond the partitions": (
        lambda d: the(d, "HorizontalPodAutoscaler", "order")["spec"].update(maxReplicas=99),
        "workloads",
        "over the 12 partitions",
    ),
    "a PDB that blocks every eviction": (
        lambda d: the(d, "PodDisruptionBudget", "order")["spec"].update(minAvailable=2),
        "workloads",
        "lets no pod be evicted",
    ),
    "a service without its migrate Job": (
        lambda d: _drop(d, "Job", "aftersales-migrate"),
        "workloads",
        "0 migrate Jobs",
    ),
    "a service without its NetworkPolicy": (
        lambda d: _drop(d, "NetworkPolicy", "pickup"),
        "workloads",
        "0 NetworkPolicies",
    ),
    "a service missing": (lambda d: _drop(d, "Deployment", "pickup"), "workloads", "pickup"),
    "a Secret that nobody creates": (
        lambda d: _container(d)["env"][1]["valueFrom"]["secretKeyRef"].update(name="jwt"),
        "references",
        "unknown Secret",
    ),
    "a key the Secret does not have": (
        lambda d: _container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(key="url"),
        "references",
        "does not have",
    ),
    "an inlined secret": (
        lambda d: _set_env(d, "SHOPFLOW_JWT_SECRET", "y" * 40),
        "references",
        "inlined",
    ),
    "a misspelt setting": (
        lambda d: _config(d).update(SHOPFLOW_KAFKA_PARTITION="6"),
        "settings",
        "SHOPFLOW_KAFKA_PARTITION is not a setting",
    ),
    "a development environment": (
        lambda d: _config(d).update(SHOPFLOW_ENVIRONMENT="development"),
        "settings",
        "environment is 'development'",
    ),
    "Kafka without idempotence": (
        lambda d: _config(d).update(SHOPFLOW_KAFKA_IDEMPOTENCE="false"),
        "settings",
        "kafka_idempotence",
    ),
    "metrics behind the token": (
        lambda d: _config(d).pop("SHOPFLOW_METRICS_ACCESS"),
        "settings",
        "metrics_access",
    ),
    "the wrong http port": (
        lambda d: _container(d)["ports"][0].update(containerPort=8080),
        "settings",
        "http port",
    ),
    "a probe on the wrong path": (
        lambda d: _container(d)["livenessProbe"]["httpGet"].update(path="/health"),
        "settings",
        "livenessProbe is not GET /healthz",
    ),
    "another service's database": (
        lambda d: _container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(name="pickup-db-app"),
        "settings",
        "not its Cluster's uri",
    ),
    "a policy reaching another database": (
        lambda d: the(d, "NetworkPolicy", "order")["spec"]["egress"][1]["to"][0]["podSelector"][
            "matchLabels"
        ].update({"cnpg.io/cluster": "pickup-db"}),
        "network",
        "reaches pickup-db",
    ),
    "a policy reaching Kafka's controllers' port": (
        lambda d: the(d, "NetworkPolicy", "order")["spec"]["egress"][2]["ports"].append(
            {"protocol": "TCP", "port": 9090}
        ),
        "network",
        "9090",
    ),
    "a policy open to everything": (
        lambda d: the(d, "NetworkPolicy", "order")["spec"]["egress"].append({}),
        "network",
        "open to anywhere",
    ),
    "a topic with other partitions": (
        lambda d: the(d, "KafkaTopic", "shopflow.order.events")["spec"].update(partitions=6),
        "kafka",
        "6 partitions",
    ),
    "partitions changed in the services only": (
        lambda d: _config(d).update(SHOPFLOW_KAFKA_PARTITIONS="24"),
        "kafka",
        "=24",
    ),
    "a misnamed topic": (
        lambda d: the(d, "KafkaTopic", "shopflow.order.events")["spec"].update(
            topicName="shopflow.orders.events"
        ),
        "kafka",
        "topics",
    ),
    "a topic replicated twice": (
        lambda d: the(d, "KafkaTopic", "shopflow.pickup.events")["spec"].update(replicas=2),
        "kafka",
        "2 replicas",
    ),
    "two brokers": (
        lambda d: the(d, "KafkaNodePool", "broker")["spec"].update(replicas=2),
        "kafka",
        "2 brokers",
    ),
    "min ISR 1": (
        lambda d: the(d, "Kafka", "shopflow")["spec"]["kafka"]["config"].update(
            {"min.insync.replicas": 1}
        ),
        "kafka",
        "min.insync.replicas is 1",
    ),
    "the wrong bootstrap address": (
        lambda d: _config(d).update(KAFKA_BOOTSTRAP_SERVERS="kafka:9092"),
        "kafka",
        "KAFKA_BOOTSTRAP_SERVERS",
    ),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_manifest_is_caught(broken: str) -> None:
    breaks, check, words = BROKEN[broken]
    docs = render("base")
    assert CHECKS[check](copy.deepcopy(docs)) == []
    breaks(docs)
    problems = CHECKS[check](docs)
    assert any(words in problem for problem in problems), problems


def test_the_operator_schemas_are_json_schemas() -> None:
    schemas = operator_schemas()
    for kind, schema in schemas["kinds"].items():
        jsonschema.Draft202012Validator.check_schema({"$defs": schemas["$defs"], **schema})
        assert kind.endswith("/" + schema["properties"]["kind"]["const"])
