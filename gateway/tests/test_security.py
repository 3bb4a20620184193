"""Login, CSRF, and pages that need a session."""
import pytest

from gateway_fakes import HX, log_in, make_app


@pytest.mark.parametrize("url", ["/companies", "/companies/7", "/companies/new", "/companies/7/logo?v=1",
                                 "/meetings/5.ics", "/companies/7/general/edit"])
def test_login_required(anonymous, rpc, url):
    response = anonymous.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert rpc.calls == []


def test_htmx_without_session_is_redirected_by_htmx(anonymous):
    response = anonymous.get("/companies?q=a", headers=HX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


@pytest.fixture
def csrf_client(rpc):
    app = make_app(rpc, WTF_CSRF_ENABLED=True)
    return log_in(app.test_client())


def test_post_without_csrf_token_is_refused(csrf_client, rpc):
    response = csrf_client.post("/companies/7/contacts", headers=HX, data={"first_name": "A", "last_name": "B"})
    assert response.status_code == 400
    assert "Your session has expired" in response.text
    assert response.headers["HX-Retarget"] == "#toasts"
    assert "create_contact" not in rpc.methods()


@pytest.mark.parametrize("method,url", [("put", "/companies/7/general"), ("delete", "/companies/views/1"),
                                        ("post", "/companies/7/logo"), ("post", "/companies/new")])
def test_every_unsafe_method_needs_the_token(csrf_client, rpc, method, url):
    response = getattr(csrf_client, method)(url, headers=HX)
    # the CSRF refusal itself (not any other 400, e.g. a form error): its message, in the toast area
    assert response.status_code == 400 and "Your session has expired" in response.text
    assert response.headers["HX-Retarget"] == "#toasts"
    assert not [m for m in rpc.methods() if not m.startswith(("list_", "get_"))], rpc.methods()


def test_token_in_the_header_is_accepted(csrf_client, rpc):
    page = csrf_client.get("/companies/7").text
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    rpc.on("set_task_done", lambda tid, done: {"id": tid, "company_id": 7, "title": "T", "due_date": None, "assignee": None,
                                               "priority": "normal", "contact_id": None, "done": done, "done_at": None})
    response = csrf_client.post("/companies/7/tasks/41/done", headers={**HX, "X-CSRFToken": token}, data={"done": "1"})
    assert response.status_code == 200


def test_remote_not_found_is_a_404_page(client, rpc):
    from gateway_fakes import not_found
    rpc.on("get_company", not_found())
    assert client.get("/companies/999").status_code == 404


def test_strict_csp(client):
    csp = client.get("/companies").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
