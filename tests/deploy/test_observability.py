"""Prometheus scrapes every replica of every service without a token, and the provisioned
Grafana dashboard asks only for metrics that exist (shared/metrics.py, the Kafka exporter)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from shared import metrics
from tests.deploy import compose_rules as rules

DEPLOY = rules.ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "shopflow.json"
# What the Kafka exporter (danielqsj/kafka-exporter) serves that the dashboard reads.
EXPORTER_METRICS = {"kafka_consumergroup_lag"}
# The panels the operators watch (deploy/README.md, "What to watch").
PANELS = (
    "Consumer lag",
    "Outbox pending",
    "Dead letters",
    "HTTP p99",
    "Event rates",
    "Deadlines due",
)
_METRIC = re.compile(r"\b((?:shopflow|kafka)_[a-z0-9_]+)\b")


def shopflow_metric_names() -> set[str]:
    """The series names shared/metrics.py defines (a counter's with _total, a histogram's
    _bucket, _sum and _count)."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names |= {family.name + s for s in suffixes[family.type]}
    return names


def unknown_metrics(dashboard: dict[str, Any]) -> list[str]:
    known = shopflow_metric_names() | EXPORTER_METRICS
    return [
        f"{panel['title']}: {name}"
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in _METRIC.findall(target["expr"])
        if name not in known
    ]


@pytest.fixture(scope="module")
def prometheus() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS.read_text())
    return config


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return board


def test_prometheus_scrapes_every_service_on_its_metrics_port(
    prometheus: dict[str, Any],
) -> None:
    assert rules.metrics_are_scrapable(rules.load(), prometheus) == []


def test_metrics_behind_a_token_or_an_unscraped_port_are_found(
    prometheus: dict[str, Any],
) -> None:
    compose = rules.load()
    compose["services"]["order"]["environment"]["SHOPFLOW_METRICS_ACCESS"] = "operator"
    compose["services"]["pickup"]["environment"]["SHOPFLOW_PICKUP_METRICS_PORT"] = "9999"
    assert rules.metrics_are_scrapable(compose, prometheus) == [
        "order: /metrics needs a token (SHOPFLOW_METRICS_ACCESS=port)",
        "pickup: Prometheus does not scrape it on its metrics port 9999",
    ]


def test_the_dashboard_reads_only_metrics_that_exist(dashboard: dict[str, Any]) -> None:
    assert unknown_metrics(dashboard) == []
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in _METRIC.findall(expr)}
    assert "shopflow_deadlines_due" in used and "kafka_consumergroup_lag" in used


def test_a_misspelt_metric_on_the_dashboard_is_found(dashboard: dict[str, Any]) -> None:
    board = copy.deepcopy(dashboard)
    board["panels"][0]["targets"][0]["expr"] = "sum(rate(shopflow_http_request_total[5m]))"
    assert unknown_metrics(board) == [f"{board['panels'][0]['title']}: shopflow_http_request_total"]


def test_the_dashboard_has_the_panels_to_watch(dashboard: dict[str, Any]) -> None:
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert [p for p in PANELS if not any(t.startswith(p) for t in titles)] == []


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard(
    dashboard: dict[str, Any],
) -> None:
    provisioning = GRAFANA / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())
    uids = {d["uid"] for d in datasources["datasources"]}
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} <= uids
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "shopflow.yaml").read_text())[
        "providers"
    ]
    mounts = rules.load()["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts
    home = rules.load()["services"]["grafana"]["environment"][
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"
    ]
    assert home == f"{provider['options']['path']}/{Path(DASHBOARD).name}"
