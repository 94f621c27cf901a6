"""deploy/compose.yaml against the code, without a cluster: every service with its database,
migrate job, healthcheck and two replicas; only real settings, every required one set; the
topics the services use, with their partitions. Each rule is also fed a broken copy, to see it
fail."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shared.settings import SERVICES
from tests.deploy import compose_rules as rules
from tests.deploy.settings_env import known_env_names, required_env_names


@pytest.fixture(scope="module")
def compose() -> rules.Compose:
    return rules.load()


@pytest.fixture
def broken(compose: rules.Compose) -> rules.Compose:
    """A copy of the real file to break."""
    return copy.deepcopy(compose)


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_the_compose_file_holds(
    compose: rules.Compose, rule: Callable[[rules.Compose], rules.Problems]
) -> None:
    assert rule(compose) == []


def test_every_service_is_served_by_two_replicas_waiting_for_its_migrations(
    compose: rules.Compose,
) -> None:
    served = rules.containers(compose, "serve")
    assert sorted(served) == sorted(SERVICES)
    assert sorted(rules.containers(compose, "migrate")) == sorted(SERVICES)


# --- each rule fails on a broken file -----------------------------------------------------------


def service(compose: rules.Compose, name: str) -> dict[str, Any]:
    definition: dict[str, Any] = compose["services"][name]
    return definition


def test_a_misspelt_variable_is_found() -> None:
    snippet = rules.load(
        """
services:
  order:
    image: shopflow:1.0.0
    command: [serve, order]
    environment:
      SHOPFLOW_ENVIRONMENT: production
      SHOPFLOW_JWT_SECRETS: ${SHOPFLOW_JWT_SECRET}
      SHOPFLOW_ORDER_DATABSE_URL: postgresql://shopflow@order-db/shopflow
"""
    )
    assert rules.every_variable_is_a_setting(snippet) == [
        "order: SHOPFLOW_JWT_SECRETS is not a setting of the code",
        "order: SHOPFLOW_ORDER_DATABSE_URL is not a setting of the code",
    ]
    missing = rules.every_required_setting_is_set(snippet)[0]
    assert "SHOPFLOW_JWT_SECRET" in missing and "SHOPFLOW_ORDER_DATABASE_URL" in missing


def test_a_service_without_a_healthcheck_is_found() -> None:
    snippet = rules.load(
        """
services:
  pickup:
    image: shopflow:1.0.0
    command: [serve, pickup]
    deploy: { replicas: 2 }
"""
    )
    assert rules.every_service_has_a_healthcheck(snippet) == ["pickup: no healthcheck"]


def test_a_healthcheck_on_another_port_is_found(broken: rules.Compose) -> None:
    service(broken, "order")["healthcheck"]["test"] = ["CMD", "true"]
    assert rules.every_service_has_a_healthcheck(broken) == [
        "order: the healthcheck does not ask :8001/readyz"
    ]


def test_a_single_replica_and_a_missing_service_are_found(broken: rules.Compose) -> None:
    service(broken, "fulfillment")["deploy"] = {"replicas": 1}
    del broken["services"]["pickup"]
    assert rules.every_service_runs_replicated(broken) == [
        "pickup: no container serves it",
        "fulfillment: 1 replica(s), at least 2",
    ]


def test_a_service_not_waiting_for_its_migrations_is_found(broken: rules.Compose) -> None:
    del service(broken, "aftersales")["depends_on"]["aftersales-migrate"]
    assert rules.every_service_has_its_database_and_migrate_job(broken) == [
        "aftersales: does not wait for aftersales-migrate to complete successfully"
    ]


def test_a_service_without_a_migrate_job_is_found(broken: rules.Compose) -> None:
    del broken["services"]["analytics-migrate"]
    assert rules.every_service_has_its_database_and_migrate_job(broken) == [
        "analytics: no migrate job (command: [migrate, analytics])"
    ]


def test_a_shared_or_missing_database_is_found(broken: rules.Compose) -> None:
    env = service(broken, "pickup")["environment"]
    env["SHOPFLOW_PICKUP_DATABASE_URL"] = env["SHOPFLOW_PICKUP_DATABASE_URL"].replace(
        "pickup-db", "order-db"
    )
    del broken["services"]["aftersales-db"]
    problems = rules.every_service_has_its_database_and_migrate_job(broken)
    assert "pickup: shares the database order-db with order" in problems
    assert "pickup-migrate: migrates another database than pickup uses" in problems
    assert "aftersales: its database URL names no PostgreSQL of this file" in problems


def test_a_missing_production_secret_is_found(broken: rules.Compose) -> None:
    del service(broken, "order")["environment"]["SHOPFLOW_JWT_SECRET"]
    service(broken, "pickup")["environment"]["SHOPFLOW_JWT_SECRET"] = "too-short"
    problems = rules.every_required_setting_is_set(broken)
    assert "order: SHOPFLOW_JWT_SECRET not set" in problems
    assert any(p.startswith("pickup: Settings:") and "shorter than 32" in p for p in problems)


def test_a_development_environment_is_found(broken: rules.Compose) -> None:
    service(broken, "analytics")["environment"]["SHOPFLOW_ENVIRONMENT"] = "development"
    assert rules.every_required_setting_is_set(broken) == [
        "analytics: SHOPFLOW_ENVIRONMENT is a development one"
    ]


def test_a_setting_of_the_wrong_type_is_found(broken: rules.Compose) -> None:
    service(broken, "analytics")["environment"]["SHOPFLOW_MAIL_SMTP_PORT"] = "smtp"
    (problem,) = rules.every_required_setting_is_set(broken)
    assert problem.startswith("analytics: MailSettings:") and "smtp_port" in problem


def test_topics_the_job_does_not_create_are_found(broken: rules.Compose) -> None:
    env = service(broken, rules.TOPICS_JOB)["environment"]
    env["TOPICS"] = env["TOPICS"].replace("shopflow.pickup.events", "")
    problems = rules.topics_match_the_services(broken)
    assert "pickup: uses shopflow.pickup.events, which kafka-topics does not create" in problems
    assert "order: uses shopflow.pickup.events, which kafka-topics does not create" in problems


def test_partitions_other_than_the_services_are_found(broken: rules.Compose) -> None:
    service(broken, rules.TOPICS_JOB)["environment"]["PARTITIONS"] = "1"
    problems = rules.topics_match_the_services(broken)
    assert "order: SHOPFLOW_KAFKA_PARTITIONS 12, the topics have 1" in problems
    assert "shopflow.order.events: 1 partitions for 2 replicas reading" in problems


def test_topics_that_forget_events_are_found(broken: rules.Compose) -> None:
    job = service(broken, rules.TOPICS_JOB)
    job["command"] = [c.replace(" --config retention.ms=-1", "") for c in job["command"]]
    assert rules.topics_match_the_services(broken) == [
        "kafka-topics: the topics do not keep every event (retention.ms=-1)"
    ]


def test_replication_over_the_brokers_is_found(broken: rules.Compose) -> None:
    del broken["services"]["kafka-3"]
    assert rules.topics_match_the_services(broken) == ["kafka-topics: replication 3 over 2 brokers"]


# --- the settings module the checks use -----------------------------------------------------


def test_the_settings_names_come_from_the_classes() -> None:
    known = known_env_names()
    # an alias, a shared setting, a service's own, the mail's and webhooks', a per-service one
    assert {
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "SHOPFLOW_JWT_SECRET",
        "SHOPFLOW_ORDER_UNPAID_TIMEOUT_MINUTES",
        "SHOPFLOW_MAIL_SMTP_HOST",
        "SHOPFLOW_WEBHOOK_TIMEOUT_S",
        "SHOPFLOW_ANALYTICS_METRICS_PORT",
    } <= known
    assert "SHOPFLOW_DATABASE_URL" not in known  # the alias replaces the prefixed name


def test_production_requires_the_secret_the_broker_and_the_own_database() -> None:
    assert required_env_names("fulfillment") == {
        "SHOPFLOW_ENVIRONMENT",
        "SHOPFLOW_JWT_SECRET",
        "KAFKA_BOOTSTRAP_SERVERS",
        "SHOPFLOW_FULFILLMENT_DATABASE_URL",
    }
    with pytest.raises(ValueError, match="unknown service"):
        required_env_names("billing")


def test_interpolation_takes_defaults_and_placeholders() -> None:
    assert rules.interpolate("a${X:-b}c") == "abc"
    assert rules.interpolate("${X:?set X}") == rules.PLACEHOLDER
    assert rules.interpolate("p:${X}@h $$HOME") == f"p:{rules.PLACEHOLDER}@h $HOME"
