"""Helpers of the deployment-file tests: the deployables, read from the code, and small
re-implementations of compose interpolation and .dockerignore matching (see conftest.py)."""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose.yaml"
IMAGE_REPO = "crm-suite"  # our images: crm-suite/<folder>


@dataclass(frozen=True)
class Deployable:
    folder: Path  # gateway/ or services/<name>/
    name: str  # the folder's last part: compose service, k8s object and image name
    package: str
    nameko_name: str | None = None  # services only
    prefix: str | None = None  # <PREFIX>_DATABASE_URL
    database: str | None = None  # the database (and compose role) name

    @property
    def is_service(self) -> bool:
        return self.nameko_name is not None

    @property
    def start_command(self) -> list[str]:
        if self.is_service:
            return ["python", "-m", "service_common.run", f"{self.package}.service", "--config", "config.yml"]
        return ["gunicorn", "-c", "deploy/gunicorn.conf.py", "gateway:create_app()"]

    @property
    def probe_command(self) -> list[str]:
        return ["python", "-m", "service_common.probe", self.nameko_name]

    @property
    def dockerfile(self) -> Path:
        return self.folder / "Dockerfile"

    def __str__(self) -> str:
        return self.name


def _package(folder: Path) -> str:
    project = tomllib.loads((folder / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    return include[0].rstrip("*")


def _service(folder: Path) -> Deployable:
    """Package, nameko name, env prefix and database name, read from the service's code."""
    package = _package(folder)
    tree = ast.parse((folder / package / "service.py").read_text())
    database = nameko_name = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DATABASE" for t in node.targets):
            database = ast.literal_eval(node.value)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "name" for t in item.targets):
                    # the first nameko class is the service; later ones (the mailer's sender) run beside it
                    nameko_name = nameko_name or ast.literal_eval(item.value)
    assert database and nameko_name, f"{folder}: no DATABASE = (name, prefix) or nameko class name"
    return Deployable(folder, folder.name, package, nameko_name, database[1], database[0])


SERVICES = [
    _service(p.parent)
    for p in sorted((ROOT / "services").glob("*/pyproject.toml"))
    if p.parent.name != "common"
]
GATEWAY = Deployable(ROOT / "gateway", "gateway", "gateway")
DEPLOYABLES = [*SERVICES, GATEWAY]
RABBITMQ = DEPLOY / "rabbitmq"

# Caller-token issuers (service_common.auth): every one's <issuer>.pub goes to every service;
# <issuer>.key only to the issuer itself, and only to the issuers that sign: the gateway (users,
# API clients) and the services that mint a service identity for background work.
ISSUERS = ("gateway", *(s.nameko_name for s in SERVICES))
SIGNERS = ("gateway", "credit_monitor")


def rabbitmq_module(name: str):
    """deploy/rabbitmq/<name>.py (the broker permission table, the definitions writer), imported
    as ``rabbitmq_<name>`` so its plain name cannot clash with another module's."""
    full = f"rabbitmq_{name}"
    if full not in sys.modules:
        if str(RABBITMQ) not in sys.path:
            sys.path.append(str(RABBITMQ))  # definitions.py imports permissions.py by its plain name
        spec = importlib.util.spec_from_file_location(full, RABBITMQ / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
    return sys.modules[full]



# -- Kubernetes -------------------------------------------------------------------------

def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def k8s_documents(include_examples: bool = True) -> list[tuple[str, dict]]:
    out = []
    for path in k8s_files():
        if not include_examples and path.name.endswith(".example.yaml"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path.name, doc))
    return out


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
    return found[0]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels only, or a plain Service selector) against labels."""
    if "matchExpressions" in selector:
        raise AssertionError("matchExpressions: extend selects() before using them")
    wanted = selector.get("matchLabels", selector)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


# -- Compose ----------------------------------------------------------------------------

_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    pass


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation of ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $$, applied to every string value."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        is_set = name in env
        non_empty = bool(env.get(name))
        if op in (":-", "-"):
            use_default = not non_empty if op == ":-" else not is_set
            return interpolate(arg, env) if use_default else env[name]
        if op in (":?", "?"):
            if not (non_empty if op == ":?" else is_set):
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        if op in (":+", "+"):
            return interpolate(arg, env) if (non_empty if op == ":+" else is_set) else ""
        return env.get(name, "")

    return _VAR.sub(sub, value)


def compose_variables(text: str) -> set[str]:
    return {m.group("name") or m.group("bare") for m in _VAR.finditer(text) if m.group(0) != "$$"}


# -- Dockerfiles ------------------------------------------------------------------------

@dataclass
class Instruction:
    cmd: str
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    line: int


@dataclass
class Stage:
    image: str  # with the global ARG defaults substituted
    alias: str | None
    instructions: list[Instruction]

    def all(self, cmd: str) -> list[Instruction]:
        return [i for i in self.instructions if i.cmd == cmd]


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages of a Dockerfile, parsed by BuildKit's parser (the ``dockerfile`` package)."""
    import dockerfile

    args: dict[str, str] = {}
    stages: list[Stage] = []
    for c in dockerfile.parse_file(str(path)):
        ins = Instruction(c.cmd.upper(), tuple(c.flags), tuple(c.value), bool(c.json), c.start_line)
        if ins.cmd == "ARG" and not stages:
            name, _, default = ins.value[0].partition("=")
            args[name] = default
        elif ins.cmd == "FROM":
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), ins.value[0])
            alias = ins.value[2] if len(ins.value) == 3 and ins.value[1].upper() == "AS" else None
            stages.append(Stage(image, alias, []))
        else:
            assert stages, f"{path}: {ins.cmd} before the first FROM"
            stages[-1].instructions.append(ins)
    return stages


def dockerignore_patterns() -> list[tuple[bool, re.Pattern]]:
    """(negated, regex) for each line of .dockerignore, after Docker's rules."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        pattern = pattern.strip("/")
        rx, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif pattern[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif pattern[i] == "?":
                rx, i = rx + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                rx, i = rx + pattern[i : end + 1], end + 1
            else:
                rx, i = rx + re.escape(pattern[i]), i + 1
        patterns.append((negated, re.compile(rx)))
    return patterns


def dockerignored(relpath: str, patterns) -> bool:
    """Whether the build context leaves ``relpath`` out: the last pattern matching the path,
    or one of its parent folders, decides."""
    parts = relpath.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, rx in patterns:
        if any(rx.fullmatch(p) for p in prefixes):
            excluded = not negated
    return excluded
