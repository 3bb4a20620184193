"""The broker users of deploy/rabbitmq/ hold on a real RabbitMQ, and the suite runs over them.

Real: a throw-away RabbitMQ node (the machine's rabbitmq-server, on free ports, its own
cookie, database and logs in a temporary folder; the machine's broker on 5672 is never touched)
that loads the definitions file written by deploy/rabbitmq/definitions.py at boot, through the
same config line compose mounts (deploy/rabbitmq/20-definitions.conf). The permission checks
speak AMQP with pika, as the gateway does; then the five services start with the Procfile's
commands, each with its own user, the probe Kubernetes runs answers for each over that
service's own user, and calls go through the gateway's transport as the gateway user and through
the service-to-service client as a service user.

Not real: SQLite instead of PostgreSQL (the databases are not what is tested here).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest
from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker

from deployfiles import DEPLOY, ROOT, SERVICES, rabbitmq_module

permissions = rabbitmq_module("permissions")

pytestmark = pytest.mark.timeout(180)

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")  # Debian's real scripts (/usr/sbin's wrappers switch user)
DEFINITIONS_IN_CONTAINER = "/etc/rabbitmq/definitions/definitions.json"
START_LIMIT = 60.0


def _tool(name: str) -> str | None:
    if (RABBIT_BIN / name).exists():
        return str(RABBIT_BIN / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A RabbitMQ node of our own, started with the suite's definitions."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.name = f"defs-{secrets.token_hex(4)}@localhost"
        self.port = _free_port()
        self.passwords = {p.user: secrets.token_urlsafe(18) for p in permissions.PRINCIPALS}
        self.passwords[permissions.ADMIN] = secrets.token_urlsafe(18)
        home = tmp / "home"
        home.mkdir()
        plugins = tmp / "enabled_plugins"
        plugins.write_text("[].\n")
        self.env = {
            **os.environ,
            "HOME": str(home),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(_free_port()),
            "RABBITMQ_MNESIA_BASE": str(tmp / "mnesia"),
            "RABBITMQ_LOG_BASE": str(tmp / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_CONFIG_FILE": str(tmp / "rabbitmq.conf"),
        }
        self.proc: subprocess.Popen | None = None

    def write_definitions(self) -> Path:
        out = self.tmp / "definitions.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update({p.password_variable: self.passwords[p.user] for p in permissions.PRINCIPALS})
        env[permissions.ADMIN_PASSWORD_VARIABLE] = self.passwords[permissions.ADMIN]
        result = subprocess.run([sys.executable, str(DEPLOY / "rabbitmq" / "definitions.py"), "--output", str(out)],
                                env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert oct(out.stat().st_mode & 0o777) == "0o600", "the definitions hold password hashes"
        return out

    def start(self) -> None:
        definitions = self.write_definitions()
        conf = (DEPLOY / "rabbitmq" / "20-definitions.conf").read_text()
        assert DEFINITIONS_IN_CONTAINER in conf
        (self.tmp / "rabbitmq.conf").write_text(conf.replace(DEFINITIONS_IN_CONTAINER, str(definitions)))
        self.log = open(self.tmp / "server.log", "wb")
        self.proc = subprocess.Popen([_tool("rabbitmq-server")], env=self.env, cwd=self.tmp, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"rabbitmq-server exited {self.proc.returncode}:\n{self.tail()}")
            try:
                self.connect("crm").close()
                return
            except AMQPConnectionError:
                time.sleep(0.3)
        pytest.fail(f"the throw-away RabbitMQ did not accept the crm user within {START_LIMIT:g} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = (self.tmp / "server.log").read_text(errors="replace")
        for path in sorted((self.tmp / "log").glob("*.log")):
            text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            subprocess.run([_tool("rabbitmqctl"), "-n", self.name, "stop"], env=self.env,
                           capture_output=True, timeout=60)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group only
                self.proc.wait()
        self.log.close()

    def uri(self, user: str, password: str | None = None) -> str:
        password = self.passwords[user] if password is None else password
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/{permissions.VHOST}"

    def connect(self, user: str, password: str | None = None, vhost: str = permissions.VHOST):
        params = pika.ConnectionParameters(
            "127.0.0.1", self.port, vhost, pika.PlainCredentials(user, self.passwords.get(user, "") if password is None
                                                                  else password),
            connection_attempts=1, socket_timeout=5, blocked_connection_timeout=5)
        return pika.BlockingConnection(params)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if not _tool("rabbitmq-server") or not _tool("rabbitmqctl"):
        pytest.skip("rabbitmq-server is not installed here: the broker-permission proof needs a local RabbitMQ "
                    "(apt install rabbitmq-server); the regexes are still checked by test_rabbitmq_definitions.py")
    n = Node(tmp_path_factory.mktemp("rabbit"))
    try:
        n.start()
        yield n
    finally:
        n.stop()


# == What each user may do ==================================================================

REPLY = "rpc.reply-{user}-{uuid}"


def _allowed(node, user, action) -> bool:
    """Run ``action(channel)`` as ``user``: True when the broker allows all of it, False on
    ACCESS_REFUSED (anything else is an error of the test)."""
    connection = node.connect(user)
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # a refused publish closes the channel before the confirm
        action(channel)
        return True
    except ChannelClosedByBroker as exc:
        assert exc.reply_code == 403, exc
        return False
    finally:
        if connection.is_open:
            connection.close()


def serve(service):
    """What nameko's RpcConsumer does at start: declare the exchange and rpc-<service>, bind, consume."""
    def action(ch):
        ch.exchange_declare(permissions.RPC_EXCHANGE, "topic", durable=True)
        ch.queue_declare(f"rpc-{service}", durable=True)
        ch.queue_bind(f"rpc-{service}", permissions.RPC_EXCHANGE, routing_key=f"{service}.*")
        ch.basic_consume(f"rpc-{service}", lambda *a: None)
        # gone again, so no test message waits there for the real service started below
        ch.queue_delete(f"rpc-{service}")
    return action


def consume(queue):
    return lambda ch: ch.basic_consume(queue, lambda *a: None)


def publish(exchange, routing_key):
    def action(ch):
        ch.exchange_declare(exchange, "topic", durable=True, passive=True)
        ch.basic_publish(exchange, routing_key, b"{}")
    return action


def reply_queue(owner, binding_key=None):
    """A caller's reply queue, as the gateway's transport (or a nameko proxy) makes it."""
    def action(ch):
        key = str(uuid.uuid4())
        queue = REPLY.format(user=owner, uuid=key)
        ch.exchange_declare(permissions.RPC_EXCHANGE, "topic", durable=True)
        ch.queue_declare(queue, exclusive=True, auto_delete=True)
        ch.queue_bind(queue, permissions.RPC_EXCHANGE, routing_key=binding_key or key)
        ch.basic_consume(queue, lambda *a: None)
    return action


def handler_queue(source, event, service, method="handle"):
    """What a nameko SERVICE_POOL event handler declares."""
    def action(ch):
        ch.exchange_declare(f"{source}.events", "topic", durable=True)
        queue = f"evt-{source}-{event}--{service}.{method}"
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, f"{source}.events", routing_key=event)
        ch.basic_consume(queue, lambda *a: None)
        ch.queue_delete(queue)
    return action


def delete_queue(queue):
    return lambda ch: ch.queue_delete(queue)


CASES = [
    # (user, what, action, allowed)
    *[(s.nameko_name, f"serves rpc-{s.nameko_name}", serve(s.nameko_name), True) for s in SERVICES],
    ("gateway", "consumes rpc-crm", consume("rpc-crm"), False),
    ("export", "consumes rpc-crm", consume("rpc-crm"), False),
    ("mailer", "serves rpc-crm", serve("crm"), False),
    ("gateway", "deletes rpc-crm", delete_queue("rpc-crm"), False),
    ("export", "deletes rpc-crm", delete_queue("rpc-crm"), False),
    ("crm", "binds its queue to the mailer's calls", lambda ch: ch.queue_bind("rpc-crm", "nameko-rpc", "mailer.*"),
     False),
    ("crm", "publishes to crm.events", publish("crm.events", "company_identified"), True),
    ("export", "publishes to crm.events", publish("crm.events", "company_identified"), False),
    ("gateway", "publishes to crm.events", publish("crm.events", "company_identified"), False),
    ("mailer", "publishes to mailer.events", publish("mailer.events", "email_sent"), True),
    ("crm", "publishes to mailer.events", publish("mailer.events", "email_sent"), False),
    ("gateway", "calls crm.health", publish("nameko-rpc", "crm.health"), True),
    ("gateway", "calls export.create_export", publish("nameko-rpc", "export.create_export"), True),
    ("gateway", "makes its reply queue", reply_queue("gateway"), True),
    ("gateway", "binds its reply queue to crm's calls", reply_queue("gateway", "crm.*"), False),
    ("gateway", "binds its reply queue to every call", reply_queue("gateway", "#"), False),
    ("gateway", "makes a reply queue under the crm's name", reply_queue("crm"), False),
    ("gateway", "sends a reply", publish("nameko-rpc", str(uuid.uuid4())), False),
    ("crm", "sends a reply", publish("nameko-rpc", str(uuid.uuid4())), True),
    ("mailer", "calls the crm", publish("nameko-rpc", "crm.list_companies"), True),
    ("export", "calls the crm", publish("nameko-rpc", "crm.export_rows"), True),
    ("registry_lookup", "calls the crm", publish("nameko-rpc", "crm.list_companies"), False),
    ("crm", "calls the mailer", publish("nameko-rpc", "mailer.send_campaign"), False),
    ("mailer", "makes a standalone proxy's reply queue", reply_queue("standalone_rpc_proxy"), True),
    ("crm", "handles mailer events", handler_queue("mailer", "email_sent", "crm", "on_email_sent"), True),
    ("credit_monitor", "handles crm events", handler_queue("crm", "company_identified", "credit_monitor"), True),
    ("export", "handles crm events", handler_queue("crm", "company_identified", "export"), False),
    ("export", "takes credit_monitor's handler queue",
     handler_queue("crm", "company_identified", "credit_monitor"), False),
    ("gateway", "handles crm events", handler_queue("crm", "company_identified", "gateway"), False),
    ("partner", "calls the crm", publish("nameko-rpc", "crm.list_companies"), True),
    ("partner", "makes a standalone proxy's reply queue", reply_queue("standalone_rpc_proxy"), True),
    ("partner", "calls the mailer", publish("nameko-rpc", "mailer.send_campaign"), False),
    ("partner", "sends a reply", publish("nameko-rpc", str(uuid.uuid4())), False),
    ("partner", "consumes rpc-crm", consume("rpc-crm"), False),
    ("partner", "binds a reply queue to crm's calls", reply_queue("standalone_rpc_proxy", "crm.*"), False),
]


@pytest.mark.parametrize("user,what,action,allowed", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_broker_user_may_do_its_job_and_no_more(node, user, what, action, allowed):
    assert _allowed(node, user, action) is allowed, f"{user} {what}: expected {'allowed' if allowed else 'refused'}"


def test_broker_has_no_guest_and_no_shared_user(node):
    with pytest.raises(AMQPConnectionError):
        node.connect("guest", "guest")
    with pytest.raises(AMQPConnectionError):  # the operators' admin has no rights in the vhost
        node.connect(permissions.ADMIN)
    with pytest.raises(AMQPConnectionError):  # a user's password is its own
        node.connect("crm", node.passwords["gateway"])
    with pytest.raises(AMQPConnectionError):  # nobody gets the default vhost
        node.connect("crm", vhost="/")


# == The suite over its own users ===========================================================

def _procfile() -> dict[str, str]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    return {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in lines if l.strip() and not l.startswith("#"))}


@pytest.fixture(scope="module")
def services(node, tmp_path_factory):
    """The five services, started as the Procfile starts them, each with its own broker user
    and a key folder of the public keys (plus its own private key: only its own)."""
    from service_common import auth

    tmp = tmp_path_factory.mktemp("suite")
    private = tmp / "private"
    for issuer in ("gateway", *(s.nameko_name for s in SERVICES)):
        auth.generate(private, issuer)
    commands = _procfile()
    procs, logs = {}, {}
    for s in SERVICES:
        keys = tmp / f"keys-{s.nameko_name}"
        keys.mkdir()
        for pub in private.glob("*.pub"):
            shutil.copy(pub, keys / pub.name)
        shutil.copy(private / f"{s.nameko_name}.key", keys / f"{s.nameko_name}.key")
        env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
        env.update({
            "AMQP_URI": node.uri(s.nameko_name),
            "AUTH_KEYS_DIR": str(keys),
            "CRM_DATA_DIR": str(tmp / "data"),
            "CRM_DEMO": "0",
            "CRM_ADMIN_PASSWORD": "broker-test-admin-password",
            "REGISTRY_BOOTSTRAP": "0",
            "REGISTRY_FEED_INTERVAL": "0",
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        logs[s.nameko_name] = tmp / f"{s.nameko_name}.log"
        procs[s.nameko_name] = subprocess.Popen(
            "exec " + commands[s.nameko_name], shell=True, cwd=ROOT, env=env, start_new_session=True,
            stdout=open(logs[s.nameko_name], "wb"), stderr=subprocess.STDOUT)
    try:
        yield {"private": private, "procs": procs, "logs": logs}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _probe(node, service: str, as_user: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AMQP_URI": node.uri(as_user)}
    return subprocess.run([sys.executable, "-m", "service_common.probe", service, "--timeout", "3"], env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def running(node, services):
    """The services once each answers the probe of its pod (python -m service_common.probe <name>,
    over the pod's own AMQP_URI): the probe is the readiness check Kubernetes and compose run."""
    pending = {s.nameko_name for s in SERVICES}
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            proc = services["procs"][name]
            if proc.poll() is not None:
                pytest.fail(f"{name} exited {proc.returncode} over its own broker user:\n{_tail(services['logs'][name])}")
            if _probe(node, name, name).returncode == 0:
                pending.discard(name)
        time.sleep(0.5)
    assert not pending, "\n".join(f"{n} never answered:\n{_tail(services['logs'][n])}" for n in pending)
    return services


def test_every_service_starts_and_answers_its_probe_over_its_own_user(running):
    for name, log in running["logs"].items():
        assert running["procs"][name].poll() is None, name
        assert "ACCESS_REFUSED" not in log.read_text(errors="replace"), f"{name}:\n{_tail(log)}"


def _user_token(private: Path, audience) -> str:
    from service_common import auth

    return auth.Signer.from_dir(private, "gateway").mint(audience=audience, typ="user", tenant_id=1, user_id=1,
                                                         role="admin")


def test_gateway_calls_the_services_over_its_own_user(node, running):
    from gateway.rpc.transport import RpcTransport

    transport = RpcTransport(node.uri("gateway"))
    token = _user_token(running["private"], ["crm"])
    departments = transport.call("crm", "list_departments", context={"auth": token}, timeout=5)
    assert isinstance(departments, list)
    for s in SERVICES:
        assert transport.call(s.nameko_name, "health", timeout=5)["status"] == "ok"
    # the crm is known to the broker and served by one instance; the gateway's /healthz asks this
    assert transport.consumer_count("crm") == 1


def test_a_service_calls_the_crm_on_a_users_behalf_only_if_its_user_may(node, running):
    from service_common.rpc_client import ServiceClient

    token = _user_token(running["private"], ["export", "crm"])
    with ServiceClient(node.uri("export"), token=token, timeout=5) as client:
        assert isinstance(client.call("crm", "list_departments"), list)
    # another team's program, as README.md shows it: nameko's standalone proxy over the partner user
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": node.uri("partner")}, context_data={"auth": token}, timeout=5) as rpc:
        assert isinstance(rpc.crm.list_departments(), list)
    # registry_lookup has no business with the crm: the broker refuses the request itself
    with pytest.raises(Exception) as refused:
        with ServiceClient(node.uri("registry_lookup"), token=token, timeout=5) as client:
            client.call("crm", "list_departments")
    assert "ACCESS_REFUSED" in repr(refused.value) or "403" in repr(refused.value), repr(refused.value)


def test_the_probe_of_one_service_cannot_go_through_another_users_rights(node, running):
    """A pod's credentials are its own: a wrong password is a failed probe, not a fallback."""
    env = {**os.environ, "AMQP_URI": node.uri("crm", node.passwords["mailer"])}
    result = subprocess.run([sys.executable, "-m", "service_common.probe", "crm", "--timeout", "2"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
