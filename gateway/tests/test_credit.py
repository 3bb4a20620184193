"""Credit box, settings and notifications in the gateway (issue 10): views,
templates, SVG chart, degraded modes. RPC faked (see conftest.py)."""
import re

from gateway.rpc.transport import CallTimeout, NoSuchService
from gateway_fakes import HX, USER, company, log_in, session_state, validation_error


def credit(**over):
    data = {"company_id": 7, "status": "active", "status_text": "Monitored by Creditsafe", "enabled": True,
            "connect_id": "NO-X-923609016", "country": "NO", "org_number": "923609016",
            "rating": {"band": "B", "score": 62, "limit": 250000, "currency": "NOK", "description": "Low Risk",
                       "rated_at": "2026-12-01T10:00:00+00:00"},
            "history": [{"band": "A", "score": 80, "limit": 400000, "currency": "NOK", "rated_at": "2026-10-01T00:00:00+00:00", "source": "report"},
                        {"band": "B", "score": 62, "limit": 250000, "currency": "NOK", "rated_at": "2026-12-01T10:00:00+00:00", "source": "monitoring"}],
            "checked_at": "2026-12-01T10:00:00+00:00", "last_error": None}
    data.update(over)
    return data


def test_the_card_shows_the_last_known_rating_and_loads_the_box_lazily(client, rpc):
    rpc.on("get_company", lambda cid: company(id=cid, credit={"band": "C", "score": 41, "limit": 1000, "currency": "NOK",
                                                              "updated_at": "2026-11-02T00:00:00+00:00"}))
    page = client.get("/companies/7").text
    box = page[page.index('id="box-credit"'):]
    assert 'hx-get="/companies/7/credit" hx-trigger="load"' in page
    assert "credit_monitor" not in {c.service for c in rpc.calls}  # the card never waits for it
    assert ">C<" in box and "41" in box and "Loading the credit rating" in box


def test_the_box_has_band_score_limit_description_update_and_an_svg_chart(client, rpc):
    rpc.on("get_company", lambda cid: credit(company_id=cid))
    body = client.get("/companies/7/credit", headers=HX).text
    assert body.lstrip().startswith('<section id="box-credit"') and 'hx-target="this"' in body
    assert "band-B" in body and ">62<" in body and "NOK\u00a0250,000" in body and "Low Risk" in body
    svg = body[body.index("<svg"):body.index("</svg>")]
    assert "<polyline" in svg and svg.count("<circle") == 2 and "style=" not in svg and "<script" not in svg
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    (x1, y1), (x2, y2) = [tuple(map(float, p.split(","))) for p in points]
    assert x2 > x1 and y2 > y1  # later and lower: the score fell
    assert "Check now" in body and "Stop monitoring" in body
    assert rpc.last("get_company").service == "credit_monitor"


def test_a_box_waiting_for_enrolment_refreshes_itself_until_monitored(client, rpc):
    rpc.on("get_company", lambda cid: credit(company_id=cid, status="pending", status_text="Waiting to be enrolled in Creditsafe monitoring",
                                             rating=None, history=[]))
    waiting = client.get("/companies/7/credit", headers=HX).text
    head = waiting[:waiting.index(">")]
    assert 'hx-get="/companies/7/credit" hx-trigger="every 2s"' in head and "Waiting to be enrolled" in waiting
    rpc.on("get_company", lambda cid: credit(company_id=cid))
    monitored = client.get("/companies/7/credit", headers=HX).text
    assert "hx-trigger" not in monitored[:monitored.index(">")] and "Monitored by Creditsafe" in monitored


def test_check_now_first_warns_that_it_may_cost_then_orders(client, rpc):
    rpc.on("get_company", lambda cid: credit())
    ask = client.get("/companies/7/credit/check", headers=HX).text
    assert "may cost money" in ask and 'hx-post="/companies/7/credit/check"' in ask
    assert "check_now" not in rpc.methods()
    rpc.on("check_now", lambda cid: credit(rating={**credit()["rating"], "score": 70}))
    done = client.post("/companies/7/credit/check", headers=HX).text
    assert ">70<" in done and rpc.last("check_now").timeout >= 5


def test_creditsafe_down_shows_the_last_known_rating_and_could_not_update(client, rpc):
    rpc.on("check_now", lambda cid: credit(last_error="Could not update: Creditsafe timed out after 2.5 s"))
    body = client.post("/companies/7/credit/check", headers=HX).text
    assert "Could not update: Creditsafe timed out" in body and ">62<" in body


def test_the_credit_monitor_down_keeps_the_crms_copy(client, rpc):
    rpc.on("get_company", lambda cid: company(id=cid, credit={"band": "D", "score": 25, "limit": None,
                                                              "currency": "NOK", "updated_at": "2026-11-02T00:00:00+00:00"}))
    real = rpc.call

    def call(service, method, *a, **kw):
        if service == "credit_monitor":
            raise NoSuchService("credit_monitor")
        return real(service, method, *a, **kw)
    rpc.call = call
    body = client.get("/companies/7/credit", headers=HX).text
    assert "Could not update" in body and "band-D" in body and ">25<" in body
    assert 'hx-trigger="load"' not in body  # no retry loop


def test_stop_and_start_monitoring(client, rpc):
    rpc.on("stop_monitoring", lambda cid: credit(status="stopped", status_text="Monitoring stopped"))
    body = client.post("/companies/7/credit/stop", headers=HX).text
    assert "Monitoring stopped" in body and "Start monitoring" in body and "Check now" not in body
    rpc.on("start_monitoring", lambda cid: credit())
    assert "Stop monitoring" in client.post("/companies/7/credit/start", headers=HX).text


def test_an_unknown_number_says_so(client, rpc):
    rpc.on("get_company", lambda cid: credit(status="unknown", rating=None, history=[],
                                             status_text="Creditsafe does not know this organisation number"))
    body = client.get("/companies/7/credit", headers=HX).text
    assert "does not know this organisation number" in body and "<svg" not in body


def test_settings_never_show_the_password_and_report_field_errors(client, rpc):
    settings = {"enabled": True, "username": "agency", "has_password": True, "uses_default_credentials": False,
                "base_url": "http://127.0.0.1:8791/v1", "portfolio_id": 5, "last_poll_at": None, "last_poll_error": None}
    rpc.on("get_settings", settings)
    page = client.get("/admin/credit").text
    assert 'name="password" type="password" value=""' in page and "stored — leave empty" in page
    rpc.on("update_settings", validation_error("password", "Enter the Creditsafe password"))
    bad = client.post("/admin/credit", data={"enabled": "on", "username": "other"})
    assert bad.status_code == 422 and "Enter the Creditsafe password" in bad.text
    rpc.on("update_settings", lambda s: settings)
    client.post("/admin/credit", data={"username": "agency", "password": "pw-123"})
    assert rpc.last("update_settings").args == [{"enabled": False, "username": "agency", "password": "pw-123"}]
    rpc.on("credit_enrol_existing", {"queued": 1234})
    assert "1,234 companies queued" in client.post("/admin/credit", data={"action": "enrol"}).text


def test_settings_are_for_admins_only(app, rpc):
    user = {**USER, "role": "user"}
    rpc.on("session_state", lambda v: session_state(v, user=user))
    client = log_in(app.test_client(), user)
    assert client.get("/admin/credit").status_code == 403
    assert "get_settings" not in rpc.methods()


def test_the_bell_counts_unread_and_the_list_marks_read(client, rpc):
    page = client.get("/companies/7").text
    assert 'id="bell"' in page and "hx-trigger=\"load, every 20s, notificationsChanged from:body\"" in page
    rpc.on("count_unread_notifications", {"unread": 3})
    bell = client.get("/notifications/bell", headers=HX).text
    assert 'class="bell-count" data-count="3"' in bell and "load," not in bell
    items = [{"id": 9, "kind": "credit_rating", "title": "Credit rating of <b>Fjord</b>: B (62) → D (24)", "detail": "High Risk",
              "company_id": 7, "company_name": "Fjord", "created_at": "2026-12-01T10:00:00+00:00", "read": False, "read_at": None}]
    rpc.on("list_notifications", lambda q: {"items": items, "unread": 1})
    listed = client.get("/notifications").text
    assert 'href="/companies/7"' in listed and "&lt;b&gt;Fjord&lt;/b&gt;" in listed and "Mark all read" in listed
    rpc.on("mark_notification_read", lambda nid: {**items[0], "read": True, "unread": 0})
    marked = client.post("/notifications/9/read", headers=HX)
    assert marked.headers["HX-Trigger"] == "notificationsChanged" and "Mark read" not in marked.text
    rpc.on("mark_all_notifications_read", {"marked": 1, "unread": 0})
    all_read = client.post("/notifications/read-all", headers=HX)
    assert all_read.headers["HX-Trigger"] == "notificationsChanged"


def test_the_overview_has_a_sortable_credit_column_and_a_band_filter(client, rpc):
    page = client.get("/companies?credit_band=A&credit_band=none&credit_band=Z&sort=-credit_score").text
    query = rpc.last("list_companies").args[0]
    assert query["credit_band"] == ["A", "none"] and query["sort"] == "-credit_score"
    assert "Credit rating" in page and 'aria-sort="descending"' in page
    assert "Credit: " in page
