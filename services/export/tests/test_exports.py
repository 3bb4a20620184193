"""The export service over real RabbitMQ with a real crm service: start, progress,
download, access, cancel, bad input, an expired sign-in, and a job whose instance
died being resumed by another."""
import io
import json
import time

import openpyxl
import pytest
from nameko.exceptions import RemoteError
from python_calamine import CalamineWorkbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from export import jobs
from export.models import ExportChunk, ExportJob
from export.service import ExportService

from conftest import download, wait_final, wait_for

DEFAULT = ["name", "org_number", "city", "country", "relationship", "owners", "active_projects", "unresolved_tasks",
           "unsigned_agreements", "invoiced_this_year"]


def start(export, **over):
    request = {"selection": {"filter": {}}, "columns": DEFAULT, "format": "xlsx", "title": "All companies", **over}
    return export.start_export(request)


def test_xlsx_export_of_all_companies_ends_done_and_reads_back(export_service, as_user, crm_db):
    export = as_user("kari")
    job = start(export)
    assert job["status"] == "queued" and job["rows_total"] == 60 and job["percent"] == 0
    done = wait_final(export, job["id"])
    assert done["status"] == "done", done
    assert done["rows_done"] == 60 and done["percent"] == 100 and done["file_size"] > 0
    assert done["file_name"].startswith("All-companies-") and done["file_name"].endswith(".xlsx")
    data = download(export, done)
    assert len(data) == done["file_size"]
    ws = openpyxl.load_workbook(io.BytesIO(data))["All companies"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][:2] == ["Name", "Org. number"] and len(rows) == 61
    assert all(isinstance(r[6], int) and isinstance(r[9], (int, float)) for r in rows[1:])
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert len(book.get_sheet_by_name("All companies").to_python()) == 61
    assert [j["id"] for j in export.list_exports()] == [job["id"]]


def test_csv_export_with_contacts_and_a_formula_name(export_service, as_user, crm_db):
    from crm.models import Company
    from service_common.db import make_engine

    engine = make_engine(crm_db["url"], pool_size=1)
    with Session(engine) as s:
        cid = s.scalar(select(Company.id).where(Company.tenant_id == crm_db["a"]).order_by(Company.id))
        s.execute(update(Company).where(Company.id == cid).values(name='=HYPERLINK("http://x")'))
        s.commit()
    engine.dispose()
    export = as_user("kari")
    job = wait_final(export, start(export, format="csv", contacts=True, selection={"ids": [cid]})["id"])
    assert job["status"] == "done" and job["rows_done"] == 1
    text = download(export, job).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("Name;Org. number;")
    assert lines[1].startswith("\"'=HYPERLINK(\"\"http://x\"\")\";") or lines[1].startswith("'=HYPERLINK(")
    assert "First name" in text


def test_xlsx_formula_name_arrives_as_text(export_service, as_user, crm_db):
    from crm.models import Company
    from service_common.db import make_engine

    engine = make_engine(crm_db["url"], pool_size=1)
    with Session(engine) as s:
        cid = s.scalar(select(Company.id).where(Company.tenant_id == crm_db["a"]).order_by(Company.id.desc()))
        s.execute(update(Company).where(Company.id == cid).values(name='=HYPERLINK("http://x")'))
        s.commit()
    engine.dispose()
    export = as_user("kari")
    job = wait_final(export, start(export, selection={"ids": [cid]}, contacts=True)["id"])
    data = download(export, job)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["All companies", "Contacts"]
    assert wb["All companies"]["A2"].value == '=HYPERLINK("http://x")'
    assert wb["All companies"]["A2"].data_type == "s"
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("All companies").to_python()
    assert calamine[1][0] == '=HYPERLINK("http://x")'


def test_only_the_owner_or_a_tenant_admin_sees_and_downloads(export_service, as_user):
    job = wait_final(as_user("kari"), start(as_user("kari"))["id"])
    assert as_user("admin").get_export(job["id"])["id"] == job["id"]
    assert as_user("admin").download_chunk(job["id"], 0)["n"] == 0
    for who in ("ola", "b_admin"):
        for call in (lambda e: e.get_export(job["id"]), lambda e: e.download_chunk(job["id"], 0),
                     lambda e: e.cancel_export(job["id"])):
            with pytest.raises(RemoteError) as info:
                call(as_user(who))
            assert info.value.exc_type == "NotFound"
    assert as_user("ola").list_exports() == []
    assert [j["id"] for j in as_user("admin").list_exports({"all": True})] == [job["id"]]
    assert as_user("admin").list_exports() == []


def test_bad_input_is_refused_at_once_naming_the_field(export_service, as_user):
    export = as_user("kari")
    for request, field in [
        ({"selection": {"filter": {}}, "columns": ["nope"]}, "columns.0"),
        ({"selection": {"filter": {}}, "columns": ["name"], "format": "pdf"}, "format"),
        ({"selection": {"filter": {}}, "columns": []}, "columns"),
        ({"selection": {}, "columns": ["name"]}, "selection"),
        ({"selection": {"filter": {}}, "columns": ["name", "name"]}, "columns"),
    ]:
        with pytest.raises(RemoteError) as info:
            export.start_export(request)
        assert info.value.exc_type == "ValidationError", request
        assert field in info.value.value
    assert export.list_exports() == []


def test_the_same_idempotency_key_gives_the_same_job(export_service, as_user):
    export = as_user("kari")
    a = start(export, idempotency_key="dialog-123456")
    b = start(export, idempotency_key="dialog-123456")
    assert a["id"] == b["id"]
    assert len(export.list_exports()) == 1


def test_cancel_stops_a_running_job_and_leaves_no_file(container_factory_real, export_config, crm_service, as_user,
                                                       database_url):
    export_config["EXPORT_PAGE_SIZE"] = 1  # 60 pages: slow enough to cancel mid-way
    container_factory_real(ExportService, export_config).start()
    export = as_user("kari")
    job = start(export)
    wait_for(lambda: export.get_export(job["id"])["rows_done"] > 0)
    cancelled = export.cancel_export(job["id"])
    assert cancelled["status"] == "cancelled"
    time.sleep(0.5)
    final = export.get_export(job["id"])
    assert final["status"] == "cancelled" and final["chunk_count"] is None
    with pytest.raises(RemoteError) as info:
        export.download_chunk(job["id"], 0)
    assert info.value.exc_type == "NotFound"


def test_a_job_whose_instance_died_is_resumed_by_another(container_factory_real, export_config, crm_service, as_user,
                                                         database_url):
    export_config["EXPORT_PAGE_SIZE"] = 1
    first = container_factory_real(ExportService, export_config)
    first.start()
    export = as_user("kari")
    job = start(export)
    wait_for(lambda: export.get_export(job["id"])["rows_done"] >= 3)
    first.kill()  # the instance dies mid-job: its lease runs out
    assert export_service_down(as_user)
    export_config["EXPORT_PAGE_SIZE"] = 20
    container_factory_real(ExportService, export_config).start()
    done = wait_final(export, job["id"], timeout=60)
    assert done["status"] == "done", done
    data = download(export, done)
    assert len(openpyxl.load_workbook(io.BytesIO(data)).active["A"]) == 61  # the whole file, not a truncated one


def export_service_down(as_user):
    with pytest.raises(Exception):
        as_user("kari").list_exports()
    return True


def test_an_expired_sign_in_fails_the_job_with_a_message(export_service, as_user, engine, crm_db):
    from service_common.testing import mint_token

    export = as_user("kari")
    job = start(export)
    wait_final(export, job["id"])
    # a job queued with a token that has since expired (e.g. resumed after 15 minutes)
    expired = mint_token(crm_db["a"], crm_db["kari"], role="user", ttl=1)
    time.sleep(7)  # past the expiry and its leeway
    with Session(engine) as s:
        s.execute(update(ExportJob).where(ExportJob.id == job["id"])
                  .values(status="queued", token=expired, attempts=0, chunk_count=None, file_size=None,
                          dispatched_at=jobs.now().replace(year=2000)))
        s.commit()
    failed = wait_final(export, job["id"])
    assert failed["status"] == "failed"
    assert "expired" in failed["error"] and "Start it again" in failed["error"]


def test_sweep_fails_a_job_interrupted_too_often_and_deletes_expired_files(engine):
    with Session(engine) as s:
        at = jobs.now()
        stuck = ExportJob(tenant_id=1, user_id=1, status="running", attempts=jobs.MAX_ATTEMPTS, worker="dead",
                          lease_until=at.replace(year=2000), selection="{}", columns="[]", created_at=at)
        old = ExportJob(tenant_id=1, user_id=1, status="done", chunk_count=1, file_size=1, selection="{}", columns="[]",
                        created_at=at, expires_at=at.replace(year=2000))
        s.add_all([stuck, old])
        s.flush()
        s.add(ExportChunk(job_id=old.id, n=0, data=b"x"))
        s.commit()
        result = jobs.sweep(s)
        assert result["failed"] == [stuck.id] and result["expired"] == [old.id] and result["dispatch"] == []
        s.expire_all()
        assert s.get(ExportJob, stuck.id).status == "failed" and "interrupted" in s.get(ExportJob, stuck.id).error
        assert s.get(ExportJob, old.id).status == "expired"
        assert s.scalar(select(ExportChunk).where(ExportChunk.job_id == old.id)) is None
