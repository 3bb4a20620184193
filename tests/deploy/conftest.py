"""Deployment files, checked offline: Dockerfiles, deploy/compose.yaml, deploy/k8s/.

Real: the Kubernetes JSON schemas (derived from the API's OpenAPI, bundled by the PyPI package
kubernetes-validate, one set per Kubernetes version, strict: unknown fields fail); the
compose-spec JSON schema (the copy vendored by check-jsonschema, ``vendor.compose-spec``);
BuildKit's own Dockerfile parser (PyPI ``dockerfile``); hadolint; ``bash -n``. The list of
services and what they need (package, nameko name, env prefix, database name) is read from
the services' own code, so a new service folder is checked without touching these tests.

Faked or absent: nothing is built, started or applied (no Docker engine, no cluster, no
kustomize binary here). deployfiles.py re-implements compose's ``${VAR:-default}``
interpolation (compose validates the interpolated file; so do we) and Docker's
``.dockerignore`` matching. kustomization.yaml is checked structurally.
"""
from __future__ import annotations

import pytest
import yaml

from deployfiles import COMPOSE_FILE, DEPLOYABLES, SERVICES, interpolate, k8s_documents


def pytest_generate_tests(metafunc):
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", SERVICES, ids=str)
    if "deployable" in metafunc.fixturenames:
        metafunc.parametrize("deployable", DEPLOYABLES, ids=str)
    if "k8s_doc" in metafunc.fixturenames:
        docs = k8s_documents()
        metafunc.parametrize("k8s_doc", [d for _, d in docs], ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in docs])


@pytest.fixture(scope="session")
def k8s() -> list[dict]:
    """What ``kubectl apply -k deploy/k8s`` applies (the examples left out)."""
    return [d for _, d in k8s_documents(include_examples=False)]


@pytest.fixture(scope="session")
def k8s_examples() -> list[dict]:
    return [d for f, d in k8s_documents() if f.endswith(".example.yaml")]


@pytest.fixture(scope="session")
def compose_raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="session")
def compose_required_env() -> dict[str, str]:
    """The variables deploy/compose.yaml demands (${VAR:?...}), with test values: the gateway's
    secret, the first admin's password, and one password per broker user (deploy/rabbitmq/)."""
    from deployfiles import rabbitmq_module

    table = rabbitmq_module("permissions")
    env = {"GATEWAY_SECRET_KEY": "0" * 64, "CRM_ADMIN_PASSWORD": "a-test-password"}
    env.update({p.password_variable: f"test-{p.user}-password" for p in table.PRINCIPALS if not p.optional})
    env[table.ADMIN_PASSWORD_VARIABLE] = "test-admin-password"
    return env


@pytest.fixture(scope="session")
def compose(compose_raw, compose_required_env) -> dict:
    """deploy/compose.yaml as compose sees it with only the required variables set."""
    return interpolate(compose_raw, compose_required_env)
