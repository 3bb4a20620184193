"""A broker restart mid-campaign. A private RabbitMQ node (the machine's rabbitmq-server
on free ports, its own data directory; the machine's broker is never touched) carries
the crm and the mailer; it is stopped while the campaign sends and started again on the
same data. Counted at the SMTP server: every recipient exactly one message, nothing lost."""
import collections
import os
import shutil
import signal
import socket
import subprocess
import time
import tempfile
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from conftest import MESSAGE, make_companies, wait_done, wait_for
from service_common.testing import upgrade


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, tmp):
        self.tmp = tmp
        self.name = f"mailtest{uuid.uuid4().hex[:6]}@localhost"
        self.port = _free_port()
        plugins = tmp / "enabled_plugins"
        plugins.write_text("[].\n")
        for sub in ("home", "mnesia", "log"):
            (tmp / sub).mkdir(exist_ok=True)
            (tmp / sub).chmod(0o777)
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}, "HOME": str(tmp / "home"),
                    "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                    "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(_free_port()),
                    "RABBITMQ_MNESIA_BASE": str(tmp / "mnesia"), "RABBITMQ_LOG_BASE": str(tmp / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
                    "RABBITMQ_CONFIG_FILE": str(tmp / "rabbitmq.conf")}
        (tmp / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        self.proc = None

    @property
    def uri(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self):
        self.proc = subprocess.Popen([shutil.which("rabbitmq-server")], env=self.env, cwd=self.tmp,
                                     stdout=open(self.tmp / "server.log", "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"rabbitmq-server exited: {(self.tmp / 'server.log').read_text()[-2000:]}")
            try:
                with Connection(self.uri, connect_timeout=1) as conn:
                    conn.connect()
                return True
            except Exception:  # noqa: BLE001 - not accepting AMQP yet
                return False

        wait_for(up, 90, interval=0.3, what="private rabbitmq node")

    def stop(self):
        """rabbitmqctl stop (bounded), then the node's whole process group (the Debian wrapper runs
        su -> sh -> beam; killing the wrapper alone would leave the node running)."""
        ctl = subprocess.Popen([shutil.which("rabbitmqctl"), "-n", self.name, "stop"], env=self.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _bounded_wait(ctl, 60)
        if self.proc is not None and not _bounded_wait(self.proc, 30):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _bounded_wait(self.proc, 10)


def _bounded_wait(proc, seconds: float) -> bool:
    """Wait for a process by polling (never blocks past ``seconds``, patched or not); kill it at the end."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        return False
    return True


@pytest.fixture
def database_url(tmp_path, service_spec):
    """SQLite only: one private broker node per test session (a second node, or the kombu connection pools
    of a restarted one, in the same process make the next setup fail under load). What a broker restart
    proves does not depend on the database; the campaign tests cover both."""
    _cls, package, _name, _prefix = service_spec
    url = f"sqlite:///{tmp_path / 'svc.sqlite3'}"
    upgrade(package, url)
    return url


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if not shutil.which("rabbitmq-server") or not shutil.which("rabbitmqctl"):
        pytest.skip("rabbitmq-server is not installed here")
    # the Debian wrapper runs the node as the rabbitmq user: a directory it can write
    tmp = Path(tempfile.mkdtemp(prefix="mailer-rabbit-"))
    tmp.chmod(0o777)
    n = Node(tmp)
    n.start()
    yield n
    n.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def rabbit_uri(node):  # every container and proxy of this module uses the private node
    return node.uri


def test_broker_restart_mid_campaign(clients, smtp_factory, mailer_factory, node):
    smtp = smtp_factory("--delay", "0.1")
    mailer_factory(smtp, MAILER_BATCH_SIZE=100)
    crm, mailer = clients["crm"], clients["mailer"]
    ids = make_companies(crm, 50, 2, prefix="Broker")  # 150 addresses, 2 batches of ~10 msgs/s
    campaign = mailer.create_campaign({**MESSAGE, "selection": {"ids": ids}, "kinds": ["company", "contacts"],
                                       "idempotency_key": uuid.uuid4().hex})
    wait_for(lambda: len(smtp.messages()) >= 10, 60, what="sending to start")
    node.stop()
    stopped_at = len(smtp.messages())
    time.sleep(1)
    node.start()
    assert stopped_at < 150, "finished before the broker stopped: make the server slower"
    done = wait_done(mailer, campaign["id"], timeout=120)
    assert done["counts"]["sent"] == 150
    per_address = collections.Counter(m["rcpt"][0].lower() for m in smtp.messages())
    assert len(per_address) == 150 and set(per_address.values()) == {1}
