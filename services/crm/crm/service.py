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
from service_common.idempotency import once  # issue 12: retried writes never double

from . import api_clients, auth, card, companies, demo, history, invoices, overview, records, views
from .exceptions import EXPECTED, Forbidden, ValidationError
from .schemas import (ApiClientCredentials, ApiClientIn, ActivityChanges, ActivityIn, ActivityListQuery, AddressesIn, AgreementChanges, AgreementIn, AttributeIn,
                      CompanyChanges, CompanyIn, CompanySearch, ContactChanges, ContactIn, ContactListQuery,
                      CopyAddressIn, CreditIn, DepartmentIn, InvoiceIn, InvoiceSettingsIn, LoginIn, LogoIn, MeetingChanges, MeetingIn, OrgRefs,
                      OverviewQuery, ProjectChanges, ProjectIn, TagsIn, TagsQuery, TaskChanges, TaskIn, TaskListQuery,
                      TimelineQuery, UserIn, ViewIn, bounded_text, check)
from .schemas import (AccountLanguageIn, CodeIn, PasswordChangeIn, PasswordConfirmIn, PasswordResetIn, TenantSettingsIn, TotpLoginIn,
                      TotpBeginIn, UserChanges, MAX_ID)

from . import export_rows
from .schemas import ExportRowsIn

from nameko.events import SERVICE_POOL, EventDispatcher, event_handler  # noqa: E402,F811 - issue 7 (bulk edits)
from nameko.timer import timer  # noqa: E402

from . import bulk  # noqa: E402
from .schemas import BulkAttributesIn, BulkPreviewIn, BulkRelationshipIn, BulkTagsIn, BulkUndoIn  # noqa: E402


from . import credit, notifications  # noqa: E402 - issue 10 (credit rating, notifications)
from .schemas import NotificationListQuery  # noqa: E402

CREDIT_OUTBOX_SECONDS = float(os.environ.get("CRM_OUTBOX_SECONDS", "0.5"))

from . import recipients  # noqa: E402 - issue 9 (e-mail)
from .schemas import OptOutIn, RecipientsIn  # noqa: E402

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
            # the bootstrap password must be changed at first login (CRM_ADMIN_MUST_CHANGE=0: not, e.g. in tests)
            must_change=os.environ.get("CRM_ADMIN_MUST_CHANGE", "1") != "0",
        )
        if tenant is not None:
            log.info("created tenant %s and its admin", tenant.name)
            if os.environ.get("CRM_DEMO", "1") != "0":
                count = demo.load_full(session, tenant.id, int(os.environ.get("CRM_DEMO_COMPANIES", "400")))
                log.info("loaded %d demo companies", count)
        if engine.dialect.name == "sqlite":
            # keep the planner's statistics fresh (the overview's index choice depends on them)
            session.connection().exec_driver_sql("PRAGMA optimize")
            session.commit()
    engine.dispose()


class CrmService:
    name = "crm"

    db = Database(*DATABASE)
    # API clients get companies:read / companies:write; coworkers, accounts and tenant settings are people's
    # business: no API client scope grants "account" (tests/test_caller_tokens.py)
    caller = CallerProvider(read_scope="companies:read", write_scope="companies:write", scopes={
        name: "account" for name in (
            "list_users", "create_user", "update_user", "reset_password", "session_state", "logout",
            "change_password", "get_account", "totp_begin", "totp_enable", "totp_disable",
            "regenerate_recovery_codes", "get_tenant_settings", "set_tenant_settings", "set_account_language", "list_notifications",
            "count_unread_notifications", "mark_notification_read", "mark_all_notifications_read")})

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    # -- login, coworkers, departments ---------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def login(self, credentials):
        caller = self.caller.require_any()
        if caller.kind != "gateway":
            raise Forbidden("Only the gateway signs users in")
        # the client address comes from the signed gateway token, never from the arguments
        data = validate(LoginIn, credentials).model_copy(update={"ip": caller.client_ip})
        return auth.login(self.db.session, data)

    @rpc(expected_exceptions=EXPECTED)
    def list_users(self):
        return auth.list_users(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_user(self, user):
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return auth.create_user(self.db.session, caller.tenant_id, check(UserIn, user))

    @rpc(expected_exceptions=EXPECTED)
    def list_departments(self):
        return auth.list_departments(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_department(self, department):
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return auth.create_department(self.db.session, caller.tenant_id, check(DepartmentIn, department))

    # -- API clients (issue 11; crm/api_clients.py) -------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_api_client(self, client):
        caller = self.caller.require("admin")
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return api_clients.create(self.db.session, caller.tenant_id, caller.user_id, check(ApiClientIn, client))

    @rpc(expected_exceptions=EXPECTED)
    def list_api_clients(self):
        caller = self.caller.require("admin")
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return api_clients.list_clients(self.db.session, caller.tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_api_client(self, client_id):
        caller = self.caller.require("admin")
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return api_clients.revoke(self.db.session, caller.tenant_id, _id(client_id))

    @rpc(expected_exceptions=EXPECTED)
    def verify_api_client(self, credentials):
        """The gateway only: is this client's secret right? -> {"id", "tenant_id", "name", "scopes"}."""
        caller = self.caller.require_any()
        if caller.kind != "gateway":
            raise Forbidden("Only the gateway exchanges API client secrets")
        return api_clients.verify(self.db.session, check(ApiClientCredentials, credentials))

    # -- sessions, passwords, 2FA, coworkers admin (issue 11; crm/auth.py) ---------------
    @rpc(expected_exceptions=EXPECTED)
    def login_totp(self, data):
        caller = self.caller.require_any()
        if caller.kind != "gateway":
            raise Forbidden("Only the gateway signs users in")
        return auth.login_totp(self.db.session, check(TotpLoginIn, data), caller.client_ip)

    @rpc(expected_exceptions=EXPECTED)
    def session_state(self, session_version):
        caller = self.caller.require()
        return auth.session_state(self.db.session, caller.tenant_id, caller.user_id, session_version)

    @rpc(expected_exceptions=EXPECTED)
    def logout(self):
        caller = self.caller.require()
        return auth.logout(self.db.session, caller.tenant_id, caller.user_id)

    @rpc(expected_exceptions=EXPECTED)
    def change_password(self, data):
        caller = self.caller.require()
        return auth.change_password(self.db.session, caller.tenant_id, caller.user_id, check(PasswordChangeIn, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_user(self, user_id, changes):
        caller = self.caller.require()
        return auth.update_user(self.db.session, caller.tenant_id, caller.user_id, _id(user_id, "user_id"),
                                check(UserChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def reset_password(self, user_id, data):
        caller = self.caller.require()
        return auth.reset_password(self.db.session, caller.tenant_id, caller.user_id, _id(user_id, "user_id"),
                                   check(PasswordResetIn, data))

    @rpc(expected_exceptions=EXPECTED)
    def get_account(self):
        caller = self.caller.require()
        return auth.get_account(self.db.session, caller.tenant_id, caller.user_id)

    @rpc(expected_exceptions=EXPECTED)
    def totp_begin(self, options=None):
        caller = self.caller.require()
        return auth.totp_begin(self.db.session, caller.tenant_id, caller.user_id, check(TotpBeginIn, options).fresh)

    @rpc(expected_exceptions=EXPECTED)
    def totp_enable(self, data):
        caller = self.caller.require()
        return auth.totp_enable(self.db.session, caller.tenant_id, caller.user_id, check(CodeIn, data).code)

    @rpc(expected_exceptions=EXPECTED)
    def totp_disable(self, data):
        caller = self.caller.require()
        return auth.totp_disable(self.db.session, caller.tenant_id, caller.user_id, check(PasswordConfirmIn, data).password)

    @rpc(expected_exceptions=EXPECTED)
    def regenerate_recovery_codes(self, data):
        caller = self.caller.require()
        return auth.regenerate_recovery_codes(self.db.session, caller.tenant_id, caller.user_id,
                                              check(PasswordConfirmIn, data).password)

    @rpc(expected_exceptions=EXPECTED)
    def set_account_language(self, data):
        caller = self.caller.require()
        return auth.set_account_language(self.db.session, caller.tenant_id, caller.user_id,
                                         check(AccountLanguageIn, data))

    @rpc(expected_exceptions=EXPECTED)
    def get_tenant_settings(self):
        return auth.get_tenant_settings(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def set_tenant_settings(self, settings):
        caller = self.caller.require()
        return auth.set_tenant_settings(self.db.session, caller.tenant_id, caller.user_id, check(TenantSettingsIn, settings))

    # -- companies -----------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def search_companies(self, query=None):
        return companies.search(self.db.session, self.caller.require().tenant_id, check(CompanySearch, query))

    @rpc(expected_exceptions=EXPECTED)
    def create_company(self, company, idempotency_key=None):
        caller = self.caller.require()
        data = check(CompanyIn, company)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_company",
                    lambda: companies.create(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def check_company(self, company, partial=False):
        """issue 13: validate without writing (every bad field at once): ``ValidationError`` or ``{"ok": true}``.
        ``partial``: the fields of an update (``CompanyChanges``), else a new company (``CompanyIn``)."""
        self.caller.require()
        return companies.check_input(company, _bool(partial, "partial"))

    @rpc(expected_exceptions=EXPECTED)
    def get_company(self, company_id):
        return card.get(self.db.session, self.caller.require().tenant_id, _id(company_id))

    # -- overview and saved views ------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_companies(self, query=None):
        caller = self.caller.require()
        return overview.list_companies(self.db.session, caller.tenant_id, caller.user_id, check(OverviewQuery, query))

    @rpc(expected_exceptions=EXPECTED)
    def list_views(self):
        caller = self.caller.require()
        return views.list_views(self.db.session, caller.tenant_id, caller.user_id)

    @rpc(expected_exceptions=EXPECTED)
    def save_view(self, view):
        caller = self.caller.require()
        return views.save_view(self.db.session, caller.tenant_id, caller.user_id, check(ViewIn, view))

    @rpc(expected_exceptions=EXPECTED)
    def delete_view(self, view_id):
        caller = self.caller.require()
        return views.delete_view(self.db.session, caller.tenant_id, caller.user_id, _id(view_id, "view_id"))

    # -- the company card ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def update_company(self, company_id, changes):
        caller = self.caller.require()
        return card.update(self.db.session, caller.tenant_id, caller.user_id, _id(company_id),
                           check(CompanyChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def update_invoice_settings(self, company_id, settings):
        caller = self.caller.require()
        return card.update_invoice_settings(self.db.session, caller.tenant_id, caller.user_id, _id(company_id),
                                            check(InvoiceSettingsIn, settings))

    @rpc(expected_exceptions=EXPECTED)
    def update_addresses(self, company_id, addresses):
        caller = self.caller.require()
        return card.update_addresses(self.db.session, caller.tenant_id, caller.user_id, _id(company_id),
                                     check(AddressesIn, addresses))

    @rpc(expected_exceptions=EXPECTED)
    def copy_address(self, company_id, spec):
        caller = self.caller.require()
        return card.copy_address(self.db.session, caller.tenant_id, caller.user_id, _id(company_id),
                                 check(CopyAddressIn, spec))

    @rpc(expected_exceptions=EXPECTED)
    def set_logo(self, company_id, logo):
        caller = self.caller.require()
        return card.set_logo(self.db.session, caller.tenant_id, caller.user_id, _id(company_id), check(LogoIn, logo))

    @rpc(expected_exceptions=EXPECTED)
    def get_logo(self, company_id):
        return card.get_logo(self.db.session, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def delete_logo(self, company_id):
        caller = self.caller.require()
        return card.delete_logo(self.db.session, caller.tenant_id, caller.user_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_tags(self, query=None):
        data = check(TagsQuery, query)
        return card.list_tags(self.db.session, self.caller.require().tenant_id, data.prefix, data.limit)

    @rpc(expected_exceptions=EXPECTED)
    def set_tags(self, company_id, tags):
        caller = self.caller.require()
        names = check(TagsIn, {"tags": tags if isinstance(tags, list) else [tags]}).tags
        return card.set_tags(self.db.session, caller.tenant_id, caller.user_id, _id(company_id), names)

    @rpc(expected_exceptions=EXPECTED)
    def list_attributes(self):
        return card.list_attributes(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_attribute(self, attribute):
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return card.create_attribute(self.db.session, caller.tenant_id, check(AttributeIn, attribute))

    @rpc(expected_exceptions=EXPECTED)
    def set_attribute_value(self, company_id, attribute_id, value=None):
        caller = self.caller.require()
        return card.set_attribute_value(self.db.session, caller.tenant_id, caller.user_id, _id(company_id),
                                        _id(attribute_id, "attribute_id"), bounded_text(value, "value"))

    @rpc(expected_exceptions=EXPECTED)
    def company_timeline(self, company_id, query=None):
        data = check(TimelineQuery, query)
        return history.timeline(self.db.session, self.caller.require().tenant_id, _id(company_id), data.limit, data.before)

    @rpc(expected_exceptions=EXPECTED)
    def company_history(self, company_id):
        return history.company_history(self.db.session, self.caller.require().tenant_id, _id(company_id))

    # -- contacts --------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, company_id, query=None):
        data = check(ContactListQuery, query)
        return records.list_contacts(self.db.session, self.caller.require().tenant_id, _id(company_id),
                                     data.include_inactive)

    @rpc(expected_exceptions=EXPECTED)
    def create_contact(self, contact, idempotency_key=None):
        caller = self.caller.require()
        data = check(ContactIn, contact)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_contact",
                    lambda: records.create_contact(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_contact(self, contact_id, changes):
        caller = self.caller.require()
        return records.update_contact(self.db.session, caller.tenant_id, caller.user_id, _id(contact_id, "id"),
                                      check(ContactChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def set_contact_active(self, contact_id, active):
        caller = self.caller.require()
        return records.set_contact_active(self.db.session, caller.tenant_id, caller.user_id, _id(contact_id, "id"),
                                          _bool(active, "active"))

    # -- projects and agreements -------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_projects(self, company_id):
        return records.list_projects(self.db.session, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def create_project(self, project, idempotency_key=None):
        caller = self.caller.require()
        data = check(ProjectIn, project)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_project",
                    lambda: records.create_project(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_project(self, project_id, changes):
        caller = self.caller.require()
        return records.update_project(self.db.session, caller.tenant_id, caller.user_id, _id(project_id, "id"),
                                      check(ProjectChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def list_agreements(self, company_id):
        return records.list_agreements(self.db.session, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def create_agreement(self, agreement, idempotency_key=None):
        caller = self.caller.require()
        data = check(AgreementIn, agreement)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_agreement",
                    lambda: records.create_agreement(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_agreement(self, agreement_id, changes):
        caller = self.caller.require()
        return records.update_agreement(self.db.session, caller.tenant_id, caller.user_id, _id(agreement_id, "id"),
                                        check(AgreementChanges, changes))

    # -- tasks, meetings, activities -------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_tasks(self, company_id, query=None):
        data = check(TaskListQuery, query)
        return records.list_tasks(self.db.session, self.caller.require().tenant_id, _id(company_id), data.include_done)

    @rpc(expected_exceptions=EXPECTED)
    def create_task(self, task, idempotency_key=None):
        caller = self.caller.require()
        data = check(TaskIn, task)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_task",
                    lambda: records.create_task(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_task(self, task_id, changes):
        caller = self.caller.require()
        return records.update_task(self.db.session, caller.tenant_id, caller.user_id, _id(task_id, "id"),
                                   check(TaskChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def set_task_done(self, task_id, done):
        caller = self.caller.require()
        return records.set_task_done(self.db.session, caller.tenant_id, caller.user_id, _id(task_id, "id"),
                                     _bool(done, "done"))

    @rpc(expected_exceptions=EXPECTED)
    def list_meetings(self, company_id):
        return records.list_meetings(self.db.session, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def create_meeting(self, meeting, idempotency_key=None):
        caller = self.caller.require()
        data = check(MeetingIn, meeting)
        return once(self.db.session, caller.tenant_id, idempotency_key, "create_meeting",
                    lambda: records.create_meeting(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_meeting(self, meeting_id, changes):
        caller = self.caller.require()
        return records.update_meeting(self.db.session, caller.tenant_id, caller.user_id, _id(meeting_id, "id"),
                                      check(MeetingChanges, changes))

    @rpc(expected_exceptions=EXPECTED)
    def get_meeting_ics(self, meeting_id):
        return records.get_meeting_ics(self.db.session, self.caller.require().tenant_id, _id(meeting_id, "id"))

    @rpc(expected_exceptions=EXPECTED)
    def list_activities(self, company_id, query=None):
        data = check(ActivityListQuery, query)
        return records.list_activities(self.db.session, self.caller.require().tenant_id, _id(company_id), data.limit)

    @rpc(expected_exceptions=EXPECTED)
    def log_activity(self, activity, idempotency_key=None):
        caller = self.caller.require()
        data = check(ActivityIn, activity)
        return once(self.db.session, caller.tenant_id, idempotency_key, "log_activity",
                    lambda: records.log_activity(self.db.session, caller.tenant_id, caller.user_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def update_activity(self, activity_id, changes):
        caller = self.caller.require()
        return records.update_activity(self.db.session, caller.tenant_id, caller.user_id, _id(activity_id, "id"),
                                       check(ActivityChanges, changes))

    # -- invoices (called by the invoicing system) -------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_invoice(self, invoice, idempotency_key=None):
        tenant_id = self.caller.require().tenant_id
        data = check(InvoiceIn, invoice)
        return once(self.db.session, tenant_id, idempotency_key, "record_invoice",
                    lambda: invoices.record_invoice(self.db.session, tenant_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def credit_invoice(self, credit, idempotency_key=None):
        tenant_id = self.caller.require().tenant_id
        data = check(CreditIn, credit)
        return once(self.db.session, tenant_id, idempotency_key, "credit_invoice",
                    lambda: invoices.credit_invoice(self.db.session, tenant_id, data))

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, company_id):
        return invoices.list_invoices(self.db.session, self.caller.require().tenant_id, _id(company_id))

    # -- registry integration -------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def find_companies_by_org_numbers(self, refs):
        """[{"country","org_number"}] (<=100) -> the tenant's companies among them:
        [{"country","org_number","id","name"}]. Unparseable numbers are skipped."""
        return companies.find_by_org_numbers(self.db.session, self.caller.require().tenant_id, check(OrgRefs, {"refs": refs}))

    # -- reports (the export service pages through a selection) ----------------
    @rpc(expected_exceptions=EXPECTED)
    def export_columns(self):
        """-> {"columns": [{"key","title","type","default"}], "default": [key]}"""
        return export_rows.catalogue(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def export_rows(self, selection, columns, after_id=0, limit=1000, contacts=False):
        """One keyset page of a selection's rows (see the README, Reports)."""
        caller = self.caller.require()
        req = check(ExportRowsIn, {"selection": selection, "columns": columns, "after_id": after_id or None, "limit": limit,
                                   "contacts": contacts})
        return export_rows.export_rows(self.db.session, caller.tenant_id, caller.user_id, req)

    # -- bulk edits (issue 7; crm/bulk.py): jobs applied in chunks, resumable, undoable -----
    dispatch = EventDispatcher()

    def _bulk(self, op):
        """Small selections are applied within the call; big ones by the crm's bulk worker
        (crm/bulk_worker.py) on bulk_requested (the reply is the pending job; poll get_bulk_operation)."""
        if op.status in bulk.RUNNING:
            if op.total <= bulk.INLINE_LIMIT:
                bulk.run(self.db.session, op.id)
            else:
                self.dispatch("bulk_requested", {"operation_id": op.id})
        return bulk.dump(self.db.session, op)

    @rpc(expected_exceptions=EXPECTED)
    def bulk_preview(self, request):
        caller = self.caller.require()
        data = check(BulkPreviewIn, request)
        return bulk.preview(self.db.session, caller.tenant_id, caller.user_id, data.selection, data.sample)

    @rpc(expected_exceptions=EXPECTED)
    def bulk_add_tags(self, request):
        caller = self.caller.require()
        return self._bulk(bulk.start_tags(self.db.session, caller.tenant_id, caller.user_id, check(BulkTagsIn, request),
                                          remove=False))

    @rpc(expected_exceptions=EXPECTED)
    def bulk_remove_tags(self, request):
        caller = self.caller.require()
        return self._bulk(bulk.start_tags(self.db.session, caller.tenant_id, caller.user_id, check(BulkTagsIn, request),
                                          remove=True))

    @rpc(expected_exceptions=EXPECTED)
    def bulk_set_attributes(self, request):
        caller = self.caller.require()
        return self._bulk(bulk.start_attributes(self.db.session, caller.tenant_id, caller.user_id,
                                                check(BulkAttributesIn, request)))

    @rpc(expected_exceptions=EXPECTED)
    def bulk_set_relationship(self, request):
        caller = self.caller.require()
        return self._bulk(bulk.start_relationship(self.db.session, caller.tenant_id, caller.user_id,
                                                  check(BulkRelationshipIn, request)))

    @rpc(expected_exceptions=EXPECTED)
    def undo_bulk_operation(self, request):
        caller = self.caller.require()
        return self._bulk(bulk.start_undo(self.db.session, caller.tenant_id, caller.user_id, check(BulkUndoIn, request)))

    @rpc(expected_exceptions=EXPECTED)
    def get_bulk_operation(self, operation_id):
        caller = self.caller.require()
        return bulk.dump(self.db.session, bulk.get(self.db.session, caller.tenant_id, _id(operation_id, "operation_id")))

    @rpc(expected_exceptions=EXPECTED)
    def last_bulk_operation(self):
        caller = self.caller.require()
        return bulk.last(self.db.session, caller.tenant_id, caller.user_id)

    # The bulk_requested handler and the timer that resumes stale jobs run in the crm's bulk
    # worker (crm/bulk_worker.py, service crm_bulk), a process of its own.

    # -- credit rating and notifications (issue 10; crm/credit.py, crm/notifications.py) -----
    credit_dispatch = EventDispatcher(mandatory=True)  # refused while no consumer is bound: the row waits

    @timer(interval=CREDIT_OUTBOX_SECONDS)
    def relay_outbox(self):
        """Publish company_identified events written by create/update (the outbox)."""
        while credit.relay(self.db.session, self.credit_dispatch) >= 500:
            pass

    @event_handler("credit_monitor", "rating_changed", handler_type=SERVICE_POOL, reliable_delivery=True)
    def on_rating_changed(self, event):
        credit.apply_rating(self.db.session, event)

    @rpc(expected_exceptions=EXPECTED)
    def credit_enrol_existing(self):
        """Admin: queue every company with a NO/SE/DK/GB number for credit monitoring."""
        caller = self.caller.require()
        auth.require_admin(self.db.session, caller.tenant_id, caller.user_id)
        return credit.enrol_existing(self.db.session, caller.tenant_id)

    def _user(self):
        caller = self.caller.require()
        if caller.user_id is None:
            raise Forbidden("Notifications belong to a coworker: call with a user's token")
        return caller

    @rpc(expected_exceptions=EXPECTED)
    def list_notifications(self, query=None):
        caller, data = self._user(), check(NotificationListQuery, query)
        return notifications.list_for(self.db.session, caller.tenant_id, caller.user_id, data.limit, data.unread_only,
                                      data.before_id)

    @rpc(expected_exceptions=EXPECTED)
    def count_unread_notifications(self):
        caller = self._user()
        return {"unread": notifications.unread_count(self.db.session, caller.tenant_id, caller.user_id)}

    @rpc(expected_exceptions=EXPECTED)
    def mark_notification_read(self, notification_id):
        caller = self._user()
        return notifications.mark_read(self.db.session, caller.tenant_id, caller.user_id,
                                       _id(notification_id, "notification_id"))

    @rpc(expected_exceptions=EXPECTED)
    def mark_all_notifications_read(self):
        caller = self._user()
        return notifications.mark_all_read(self.db.session, caller.tenant_id, caller.user_id)

    # -- e-mail (issue 9): recipients for the mailer, opt-outs, timeline entries ---------
    @rpc(expected_exceptions=EXPECTED)
    def list_recipients(self, selection, kinds, after_id=0, limit=500):
        caller = self.caller.require()
        try:
            q = check(RecipientsIn, {"selection": selection, "kinds": kinds, "after": after_id, "limit": limit})
        except ValidationError as exc:
            if exc.field == "after":
                raise ValidationError(exc.message.replace("after:", "after_id:"), field="after_id") from None
            raise
        return recipients.list_recipients(self.db.session, caller.tenant_id, caller.user_id, q.selection, q.kinds,
                                          q.after, q.limit)

    @rpc(expected_exceptions=EXPECTED)
    def opt_out(self, email, source="user"):
        caller = self.caller.require()
        data = check(OptOutIn, {"email": email, "source": source})
        return recipients.opt_out(self.db.session, caller.tenant_id, data.email, data.source)

    @rpc(expected_exceptions=EXPECTED)
    def opt_in(self, email):
        caller = self.caller.require()
        return recipients.opt_in(self.db.session, caller.tenant_id, check(OptOutIn, {"email": email}).email)

    @rpc(expected_exceptions=EXPECTED)
    def list_opt_outs(self, company_id):
        return recipients.company_opt_outs(self.db.session, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def set_marketing_protection(self, company_id, protected):
        caller = self.caller.require()
        return recipients.set_marketing_protection(self.db.session, caller.tenant_id, _id(company_id),
                                                   _bool(protected, "protected"))

    @event_handler("mailer", "email_sent", handler_type=SERVICE_POOL, reliable_delivery=True)
    def on_email_sent(self, event):
        recipients.record_email_sent(self.db.session, event)

    @event_handler("mailer", "email_opted_out", handler_type=SERVICE_POOL, reliable_delivery=True)
    def on_email_opted_out(self, event):
        recipients.record_opted_out(self.db.session, event)

def _id(value, field: str = "company_id") -> int:
    """An id argument: a positive integer, else a ValidationError naming it."""
    if isinstance(value, bool):
        raise ValidationError("Expected an id", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError("Expected an id", field=field) from None
    if not 1 <= number <= MAX_ID:
        raise ValidationError(f"Expected an id (1 to {MAX_ID})", field=field)
    return number


def _bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("Expected true or false", field=field)
    return value
