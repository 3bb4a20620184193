"""The rpc module: parallel calls carry the caller, surface errors, never nest on the pool."""
import pytest

from gateway import errors, rpc as rpc_module
from gateway_fakes import USER, TENANT, validation_error


def _in_request(app, fn):
    with app.test_request_context():
        from flask import g
        g.user, g.tenant = USER, TENANT
        return fn()


def test_parallel_returns_in_order_and_raises_the_first_error(app, rpc):
    rpc.on("list_tags", lambda opts: [opts["prefix"]])
    rpc.on("set_tags", validation_error("tags", "Too many"))
    assert _in_request(app, lambda: rpc_module.parallel(lambda: rpc_module.list_tags("a"), lambda: rpc_module.list_tags("b"))) \
        == [["a"], ["b"]]
    with pytest.raises(errors.ValidationFailed) as caught:
        _in_request(app, lambda: rpc_module.parallel(lambda: rpc_module.list_tags("a"), lambda: rpc_module.set_tags(7, [])))
    assert caught.value.field_errors == {"tags": "Too many"}


def test_nested_parallel_runs_inline(app, rpc):
    rpc.on("list_tags", lambda opts: [opts["prefix"]])
    inner = lambda: rpc_module.parallel(lambda: rpc_module.list_tags("x"), lambda: rpc_module.list_tags("y"))  # noqa: E731
    result = _in_request(app, lambda: rpc_module.parallel(inner, lambda: rpc_module.list_tags("z")))
    assert result == [[["x"], ["y"]], ["z"]]
    assert all(c.context["user_id"] == 1 for c in rpc.calls)


def test_each_call_has_a_timeout(app, rpc):
    rpc.on("get_company", {"id": 1})
    _in_request(app, lambda: rpc_module.get_company(1))
    assert rpc.last("get_company").timeout == app.config["RPC_TIMEOUT"]


def test_admin_defines_attributes(client, rpc):
    rpc.on("create_attribute", lambda a: {"id": 9, **a})
    response = client.post("/admin/attributes", data={"name": "Segment", "type": "dropdown", "options": "Gold, Silver"})
    assert response.status_code == 200
    assert rpc.last("create_attribute").args[0] == {"name": "Segment", "type": "dropdown", "options": ["Gold", "Silver"]}
    response = client.post("/admin/attributes", data={"name": "Segment", "type": "multi", "options": ""})
    assert response.status_code == 422 and "List the options" in response.text
