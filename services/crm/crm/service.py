"""The crm nameko service. Entrypoints stay thin: check the caller, validate
input with a schema, call the plain logic, return a JSON-safe dict.

The full API (request and response of every method) is in the README.
"""
from __future__ import annotations

import logging
import os

from nameko.rpc import rpc
from sqlalchemy.orm import Session

from service_common.context import CallerProvider
from service_common.db import Database, make_engine, ping
from service_common.validation import validate

from . import auth, companies, demo
from .exceptions import EXPECTED
from .schemas import CompanyIn, CompanySearch, DepartmentIn, LoginIn, UserIn

DATABASE = ("crm", "CRM")
MIGRATIONS = "crm"
log = logging.getLogger(__name__)


def bootstrap(url: str) -> None:
    """First start: the first tenant and admin; demo companies unless CRM_DEMO=0."""
    engine = make_engine(url, pool_size=1)
    with Session(engine) as session:
        tenant = auth.ensure_tenant(
            session,
            name=os.environ.get("CRM_TENANT_NAME", "Demo Staffing AS"),
            admin_email=os.environ.get("CRM_ADMIN_EMAIL", "admin@example.com"),
            admin_password=os.environ.get("CRM_ADMIN_PASSWORD", "change-me-now"),
        )
        if tenant is not None:
            log.info("created tenant %s and its admin", tenant.name)
            if os.environ.get("CRM_DEMO", "1") != "0":
                count = demo.load(session, tenant.id, int(os.environ.get("CRM_DEMO_COMPANIES", "400")))
                log.info("loaded %d demo companies", count)
    engine.dispose()


class CrmService:
    name = "crm"

    db = Database(*DATABASE)
    caller = CallerProvider()

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    # -- login, coworkers, departments ---------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def login(self, credentials):
        return auth.login(self.db.session, validate(LoginIn, credentials))

    @rpc(expected_exceptions=EXPECTED)
    def list_users(self):
        return auth.list_users(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_user(self, user):
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return auth.create_user(self.db.session, caller.tenant_id, validate(UserIn, user))

    @rpc(expected_exceptions=EXPECTED)
    def list_departments(self):
        return auth.list_departments(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_department(self, department):
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return auth.create_department(self.db.session, caller.tenant_id, validate(DepartmentIn, department))

    # -- companies -----------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def search_companies(self, query=None):
        return companies.search(self.db.session, self.caller.require().tenant_id, validate(CompanySearch, query))

    @rpc(expected_exceptions=EXPECTED)
    def create_company(self, company):
        caller = self.caller.require()
        return companies.create(self.db.session, caller.tenant_id, caller.user_id, validate(CompanyIn, company))

    @rpc(expected_exceptions=EXPECTED)
    def get_company(self, company_id):
        return companies.get(self.db.session, self.caller.require().tenant_id, int(company_id))
