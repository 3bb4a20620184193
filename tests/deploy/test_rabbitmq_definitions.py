"""deploy/rabbitmq/: the permission table agrees with what the code declares, publishes and
consumes, and definitions.py writes what RabbitMQ reads. Offline; the real broker proof is
test_broker_permissions.py.

Real: nameko's own naming (the templates are read from the installed nameko), the services' and
the gateway's code (scanned with ast for event handlers, dispatchers and service-to-service
calls), Python's re for the regexes (RabbitMQ's PCRE agrees with it on the subset used: anchors,
alternation, classes, counted repeats, escapes).
"""
from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import json
import re
import subprocess
import sys
import uuid

import nameko.events
import nameko.rpc
import pytest

from deployfiles import DEPLOY, GATEWAY, rabbitmq_module

permissions = rabbitmq_module("permissions")
definitions = rabbitmq_module("definitions")
P = permissions.BY_USER
UUID = str(uuid.uuid4())


def allowed(regex: str, name: str) -> bool:
    return re.search(regex, name) is not None  # RabbitMQ searches; the table anchors every regex


# == nameko's names are the ones the table speaks of =========================================

def test_nameko_names_match_the_table():
    assert nameko.rpc.RPC_QUEUE_TEMPLATE == "rpc-{}"
    assert nameko.rpc.RPC_REPLY_QUEUE_TEMPLATE == "rpc.reply-{}-{}"
    source = inspect.getsource(nameko.rpc.RpcConsumer.setup)
    assert "routing_key = '{}.*'.format(service_name)" in source, "rpc-<service> is bound with <service>.*"
    handler = inspect.getsource(nameko.events.EventHandler.setup)
    assert 'queue_name = "evt-{}-{}--{}.{}".format(self.source_service,' in handler
    assert "exchange_name = \"{}.events\".format(service_name)" in inspect.getsource(
        sys.modules["nameko.standalone.events"].get_event_exchange)
    from nameko.standalone import rpc as standalone

    assert f'service_name = "{permissions.STANDALONE}"' in inspect.getsource(standalone)
    transport = (GATEWAY.folder / "gateway" / "rpc" / "transport.py").read_text()
    assert 'f"rpc.reply-gateway-{self.reply_key}"' in transport and "str(uuid.uuid4())" in transport


# == the table against the code ===============================================================

def _calls(tree) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _scan(package_dir):
    """What a package does on the broker: (handlers [(source, event, handler_type)], dispatches, calls)."""
    handlers, dispatches, calls = [], False, set()
    for path in sorted(package_dir.rglob("*.py")):
        if "tests" in path.parts or "alembic" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree):
            name = _name(call.func)
            args = [_literal(a) for a in call.args]
            if name in ("event_handler", "handle_event"):
                kinds = [k.value for k in call.keywords if k.arg == "handler_type"]
                kind = _name(kinds[0]) if kinds else "SERVICE_POOL"
                handlers.append((args[0], args[1], kind, f"{path.name}:{call.lineno}"))
            elif name == "EventDispatcher":
                dispatches = True
            elif name in ("call", "RpcProxy") and args and args[0] in permissions.SERVICES:
                calls.add(args[0])
    return handlers, dispatches, calls


def test_table_covers_what_the_service_does(service):
    principal = P.get(service.nameko_name)
    assert principal is not None, f"{service.nameko_name}: no broker user in deploy/rabbitmq/permissions.py"
    assert principal.serves
    handlers, dispatches, calls = _scan(service.folder / service.package)
    for source, event, kind, where in handlers:
        assert kind == "SERVICE_POOL", f"{where}: {kind} handlers name their queues differently: extend the table"
        assert source and event, f"{where}: event handler source and type must be literals"
        assert source in principal.listens_to, f"{where}: {service.nameko_name} handles {source} events: add " \
                                               f"{source!r} to its listens_to"
        queue = f"evt-{source}-{event}--{service.nameko_name}.handler"
        for perm in (principal.configure(), principal.write(), principal.read()):
            assert allowed(perm, queue), f"{where}: {queue}"
    if dispatches:
        assert principal.dispatches, f"{service.nameko_name} has an EventDispatcher: set dispatches=True"
    missing = calls - set(principal.calls) - {service.nameko_name}
    assert not missing, f"{service.nameko_name} calls {sorted(missing)}: add them to its calls"


def test_table_grants_nothing_the_code_does_not_need():
    """listens_to names a source that dispatches; no user serves what it is not."""
    dispatchers = {p.user for p in permissions.PRINCIPALS if p.dispatches}
    for p in permissions.PRINCIPALS:
        assert set(p.listens_to) <= dispatchers, p.user
        assert set(p.calls) <= set(permissions.SERVICES), p.user
    assert not P["gateway"].serves and not P["gateway"].dispatches and not P["gateway"].listens_to


def test_gateway_calls_only_services_of_the_table():
    called = set()
    for path in (GATEWAY.folder / "gateway").rglob("*.py"):
        for call in _calls(ast.parse(path.read_text())):
            args = [_literal(a) for a in call.args[:2]]
            if _name(call.func) == "call" and len(args) == 2 and all(args):  # call("crm", "method", ...)
                called.add(args[0])
    assert "crm" in called, "the scan finds the gateway's calls"
    assert called <= set(P["gateway"].calls), called


# == the regexes, resource by resource ========================================================

def test_each_service_alone_owns_its_rpc_queue():
    for p in permissions.PRINCIPALS:
        for s in permissions.SERVICES:
            mine = p.user == s
            assert allowed(p.read(), f"rpc-{s}") is mine, (p.user, s)
            assert allowed(p.configure(), f"rpc-{s}") is mine, (p.user, s)
            assert allowed(p.topic_read(), f"{s}.*") is mine, (p.user, s)


def test_each_service_alone_publishes_its_events():
    for p in permissions.PRINCIPALS:
        for s in permissions.SERVICES:
            assert allowed(p.write(), f"{s}.events") is (p.user == s and p.dispatches), (p.user, s)


def test_reply_queues_are_bound_by_uuid_only():
    for p in permissions.PRINCIPALS:
        assert allowed(p.topic_read(), UUID)
        for key in ("#", "*.*", "crm.#", "crm.list_companies", f"{UUID}.x", f"x{UUID}", UUID.upper()):
            assert not allowed(p.topic_read(), key), (p.user, key)
        assert allowed(p.configure(), f"rpc.reply-{p.replies_as}-{UUID}")
        assert not allowed(p.configure(), f"rpc.reply-{p.replies_as}-{UUID}x")
        others = [u for u in P if u != p.user]
        for other in others:
            assert not allowed(p.configure(), f"rpc.reply-{other}-{UUID}"), (p.user, other)


def test_only_services_send_replies_and_calls_go_where_allowed():
    assert not allowed(P["gateway"].topic_write(), UUID)
    for s in permissions.SERVICES:
        assert allowed(P[s].topic_write(), UUID)
        assert allowed(P["gateway"].topic_write(), f"{s}.health")
        assert allowed(P[s].topic_write(), f"{s}.health"), "the pod's probe calls its own service"
    assert allowed(P["export"].topic_write(), "crm.export_rows")
    assert not allowed(P["registry_lookup"].topic_write(), "crm.list_companies")
    assert not allowed(P["crm"].topic_write(), "mailer.send_campaign")
    assert not allowed(P["gateway"].topic_write(), "crm")  # a key without a method
    assert not allowed(P["gateway"].topic_write(), "nosuch.method")


def test_handler_queue_names_cannot_be_borrowed():
    """credit_monitor's handler queue of crm events matches credit_monitor only, and a name made
    to end like another's does not pass."""
    queue = "evt-crm-company_identified--credit_monitor.on_company_identified"
    owners = [p.user for p in permissions.PRINCIPALS if allowed(p.configure(), queue)]
    assert owners == ["credit_monitor"]
    assert not allowed(P["crm"].configure(), f"{queue}--crm.x")  # "--crm.x" after a dotted method
    assert not allowed(P["export"].configure(), "evt-crm-company_identified--export.x"), "export does not listen to crm"


def test_no_user_may_touch_the_default_exchange_or_everything():
    for p in permissions.PRINCIPALS:
        for regex in (p.configure(), p.write(), p.read(), p.topic_write(), p.topic_read()):
            assert regex.startswith("^(") and regex.endswith(")$"), regex
            assert regex not in (".*", "^.*$", "")
            for name in ("", "amq.default", "amq.topic", "amq.rabbitmq.trace", "anything"):
                assert not allowed(regex, name), (p.user, regex, name)


# == definitions.py ===========================================================================

PASSWORDS = {p.user: f"pw-{p.user}-0123456789abcdef" for p in permissions.PRINCIPALS} | {
    permissions.ADMIN: "pw-admin-0123456789abcdef"}


def test_password_hash_is_rabbitmqs_salted_sha256():
    h = base64.b64decode(definitions.password_hash("s3cret", salt=b"\x01\x02\x03\x04"))
    assert h[:4] == b"\x01\x02\x03\x04" and h[4:] == hashlib.sha256(b"\x01\x02\x03\x04s3cret").digest()
    assert definitions.password_hash("x" * 20) != definitions.password_hash("x" * 20), "salted anew"


def test_definitions_hold_every_user_its_rights_and_no_clear_password():
    d = definitions.definitions(PASSWORDS)
    users = {u["name"]: u for u in d["users"]}
    assert set(users) == {*P, permissions.ADMIN}
    assert users[permissions.ADMIN]["tags"] == ["administrator"]
    assert all(u["tags"] == [] for n, u in users.items() if n != permissions.ADMIN)
    assert all(u["hashing_algorithm"] == "rabbit_password_hashing_sha256" for u in users.values())
    assert not any(pw in json.dumps(d) for pw in PASSWORDS.values())
    perms = {x["user"]: x for x in d["permissions"]}
    assert set(perms) == set(P), "the admin gets no rights in the vhost"
    assert {x["vhost"] for x in d["permissions"] + d["topic_permissions"]} == {permissions.VHOST}
    assert {x["exchange"] for x in d["topic_permissions"]} == {"nameko-rpc"}
    assert {e["name"] for e in d["exchanges"]} == {"nameko-rpc", *(f"{p.user}.events" for p in P.values()
                                                                    if p.dispatches)}
    for e in d["exchanges"]:  # as nameko declares them, or its re-declaration fails
        assert (e["type"], e["durable"], e["auto_delete"], e["internal"], e["arguments"]) == ("topic", True, False,
                                                                                              False, {})


def _run(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "rabbitmq" / "definitions.py")], env=env,
                          capture_output=True, text=True, timeout=30)


def _env(**changes) -> dict:
    env = {"PATH": "/usr/bin:/bin"}
    env.update({p.password_variable: PASSWORDS[p.user] for p in permissions.PRINCIPALS})
    env[permissions.ADMIN_PASSWORD_VARIABLE] = PASSWORDS[permissions.ADMIN]
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def test_definitions_script_writes_json_to_stdout():
    result = _run(_env())
    assert result.returncode == 0, result.stderr
    assert {u["name"] for u in json.loads(result.stdout)["users"]} == {*P, permissions.ADMIN}


def test_partner_user_exists_only_with_its_password():
    result = _run(_env(RABBITMQ_PARTNER_PASSWORD=None))
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert "partner" not in {u["name"] for u in d["users"]}
    assert "partner" not in {x["user"] for x in d["permissions"] + d["topic_permissions"]}
    assert _run(_env(RABBITMQ_PARTNER_PASSWORD="")).returncode == 0, "compose passes it empty when unset"
    partner = P["partner"]
    assert allowed(partner.topic_write(), "crm.list_companies")
    assert not allowed(partner.topic_write(), "mailer.send_campaign") and not allowed(partner.topic_write(), UUID)
    assert allowed(partner.read(), f"rpc.reply-standalone_rpc_proxy-{UUID}") and not allowed(partner.read(), "rpc-crm")


@pytest.mark.parametrize("change,message", [
    ({"RABBITMQ_CRM_PASSWORD": None}, "RABBITMQ_CRM_PASSWORD is not set"),
    ({"RABBITMQ_GATEWAY_PASSWORD": "short"}, "RABBITMQ_GATEWAY_PASSWORD is shorter than 16"),
    ({"RABBITMQ_MAILER_PASSWORD": "has spaces and a @ 0123456789"}, "RABBITMQ_MAILER_PASSWORD may hold only"),
    ({"RABBITMQ_EXPORT_PASSWORD": "CHANGE-ME-0123456789"}, "RABBITMQ_EXPORT_PASSWORD is still the placeholder"),
    ({"RABBITMQ_EXPORT_PASSWORD": PASSWORDS["crm"]}, "a password of its own"),
    ({"RABBITMQ_ADMIN_PASSWORD": None}, "RABBITMQ_ADMIN_PASSWORD is not set"),
], ids=["missing", "short", "unsafe", "placeholder", "shared", "admin"])
def test_definitions_script_refuses_bad_passwords_by_name(change, message):
    result = _run(_env(**change))
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert result.stdout == ""


def test_k8s_definitions_secret_example_is_what_the_script_writes(k8s_examples):
    """The example Secret holds the generated file, hashes left as placeholders."""
    from deployfiles import one

    secret = one(k8s_examples, "Secret", "rabbitmq-definitions")
    example = json.loads(secret["stringData"]["definitions.json"])
    generated = definitions.definitions(PASSWORDS, hasher=lambda _pw: "x")
    for d in (example, generated):
        for u in d["users"]:
            u["password_hash"] = "x"
    assert example == generated
