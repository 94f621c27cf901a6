"""deploy/Dockerfile: multi-stage, every base pinned to an exact version, run as a non-root
user, no `embedded` extra (no PostgreSQL or broker binaries in the image), and only real
settings in its environment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.deploy.settings_env import known_env_names

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"
# an exact release (3.11.14), optionally with a variant (-slim-bookworm); then a digest or not
_PINNED_TAG = re.compile(r"^\d+\.\d+\.\d+(?:-[a-z0-9.-]+)?$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def problems(text: str) -> list[str]:
    steps = instructions(text)
    args: dict[str, str] = {}
    stages: list[str] = []
    found: list[str] = []
    user_of_last_stage: str | None = None
    for keyword, rest in steps:
        if keyword == "ARG" and "=" in rest and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip('"')
        elif keyword == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            if image not in stages:  # FROM an earlier stage needs no pin
                found += _unpinned(image)
            if len(words) == 3 and words[1].upper() == "AS":
                stages.append(words[2])
            else:
                stages.append(image)
            user_of_last_stage = None
        elif keyword == "USER":
            user_of_last_stage = rest.split(":")[0]
        elif keyword == "RUN" and re.search(r"\[[^\]]*\bembedded\b[^\]]*\]", rest):
            found.append(f"installs the embedded extra: {rest}")
    if len(stages) < 2:
        found.append("not multi-stage")
    if user_of_last_stage in (None, "root", "0"):
        found.append("the final stage runs as root")
    return found


def _unpinned(image: str) -> list[str]:
    name, _, digest = image.partition("@")
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    if digest and not _DIGEST.match(digest):
        return [f"{image}: not a sha256 digest"]
    if not _PINNED_TAG.match(tag):
        return [f"{image}: not pinned to an exact version"]
    return []


def unknown_settings(text: str) -> list[str]:
    """ENV variables of the image that are neither the platform's (PATH, PYTHON*, PIP_*)
    nor settings the code reads."""
    known = known_env_names()
    names = [
        word.split("=", 1)[0]
        for keyword, rest in instructions(text)
        if keyword == "ENV"
        for word in (shlex.split(rest) if "=" in rest else rest.split()[:1])
    ]
    return [
        name
        for name in names
        if name != "PATH" and not name.startswith(("PYTHON", "PIP_")) and name not in known
    ]


def test_the_dockerfile_holds() -> None:
    assert problems(DOCKERFILE.read_text()) == []


def test_the_image_sets_only_real_settings() -> None:
    text = DOCKERFILE.read_text()
    assert unknown_settings(text) == []
    assert "SHOPFLOW_METRICS_ACCESS" in text
    misspelt = text.replace("SHOPFLOW_METRICS_ACCESS", "SHOPFLOW_METRIC_ACCESS")
    assert unknown_settings(misspelt) == ["SHOPFLOW_METRIC_ACCESS"]


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        ("FROM python:3.11 AS build\nFROM build\nUSER app\n", "python:3.11: not pinned"),
        ("FROM python:latest AS b\nFROM b\nUSER app\n", "python:latest: not pinned"),
        ("FROM python AS b\nFROM b\nUSER app\n", "python: not pinned"),
        ("FROM python:3.11.14-slim\nUSER app\n", "not multi-stage"),
        ("FROM python:3.11.14 AS b\nUSER app\nFROM python:3.11.14\n", "runs as root"),
        ("FROM python:3.11.14 AS b\nFROM b\nUSER root\n", "runs as root"),
        ("FROM python:3.11.14@sha256:abc AS b\nFROM b\nUSER 1\n", "not a sha256 digest"),
        (
            "ARG IMAGE=python:3.11\nFROM ${IMAGE} AS b\nFROM b\nUSER app\n",
            "python:3.11: not pinned",
        ),
        (
            "FROM python:3.11.14 AS b\nRUN pip install \\\n  '.[dev,embedded]'\nFROM b\nUSER app\n",
            "installs the embedded extra",
        ),
    ],
)
def test_a_bad_dockerfile_is_found(dockerfile: str, problem: str) -> None:
    assert any(problem in p for p in problems(dockerfile)), problems(dockerfile)
