"""Invoices and credit notes, reported by the invoicing system. Plain logic.

Both calls are idempotent by number (RPC is at-least-once): the same payload
again returns the stored record; a different payload for a known number is a
Conflict. Each one adds to (a credit note subtracts from) the company's
invoiced total of its calendar year, under the company row lock, in the same
transaction.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import counters, util
from .exceptions import Conflict, NotFound, ValidationError
from .models import Company, Invoice
from .schemas import CreditIn, InvoiceIn


def dump(inv: Invoice, credited_number: str | None = None) -> dict:
    return {"id": inv.id, "company_id": inv.company_id, "invoice_number": inv.invoice_number, "kind": inv.kind,
            "issued_on": util.iso(inv.issued_on), "due_on": util.iso(inv.due_on), "amount": util.money(inv.amount_minor),
            "currency": inv.currency, "credited_invoice_number": credited_number}


def _by_number(session: Session, tenant_id: int, number: str) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.tenant_id == tenant_id, Invoice.invoice_number == number))


def _company_id(session: Session, tenant_id: int, data: InvoiceIn) -> int:
    if data.company_id is not None:
        return util.company_for_field(session, tenant_id, data.company_id).id
    found = session.scalar(select(Company.id).where(Company.tenant_id == tenant_id, Company.country == data.country,
                                                    Company.org_number == data.org_number))
    if found is None:
        raise NotFound("No company with this organisation number", field="org_number", org_number=data.org_number)
    return found


def _same_invoice(inv: Invoice, company_id: int, data: InvoiceIn) -> bool:
    return (inv.kind == "invoice" and inv.company_id == company_id and inv.issued_on == data.issued_on
            and inv.due_on == data.due_on and inv.amount_minor == util.to_minor(data.amount)
            and inv.currency == data.currency)


def record_invoice(session: Session, tenant_id: int, data: InvoiceIn) -> dict:
    company_id = _company_id(session, tenant_id, data)
    tenant_currency = util.currency(session, tenant_id)
    if data.currency != tenant_currency:
        raise ValidationError(f"Invoices are totalled in {tenant_currency}; this one is in {data.currency}",
                              field="currency")
    existing = _by_number(session, tenant_id, data.invoice_number)
    if existing is None:
        util.company(session, tenant_id, company_id, lock=True)
        inv = Invoice(tenant_id=tenant_id, company_id=company_id, invoice_number=data.invoice_number, kind="invoice",
                      issued_on=data.issued_on, due_on=data.due_on, amount_minor=util.to_minor(data.amount),
                      currency=data.currency)
        session.add(inv)
        try:
            session.flush()
        except IntegrityError:  # the same number arrived twice at once
            session.rollback()
            existing = _by_number(session, tenant_id, data.invoice_number)
        else:
            counters.add_invoiced(session, tenant_id, company_id, data.issued_on.year, inv.amount_minor)
            session.commit()
            return dump(inv)
    if existing is not None and _same_invoice(existing, company_id, data):
        return dump(existing)
    raise Conflict("This invoice number is already recorded with other details",
                   field="invoice_number", invoice_number=data.invoice_number)


def credit_invoice(session: Session, tenant_id: int, data: CreditIn) -> dict:
    invoice = _by_number(session, tenant_id, data.invoice_number)
    if invoice is None or invoice.kind != "invoice":
        raise NotFound("No such invoice", field="invoice_number", invoice_number=data.invoice_number)
    existing = _by_number(session, tenant_id, data.credit_note_number)
    if existing is None:
        util.company(session, tenant_id, invoice.company_id, lock=True)
        credited = -(session.scalar(select(func.coalesce(func.sum(Invoice.amount_minor), 0)).where(
            Invoice.credited_invoice_id == invoice.id)) or 0)
        left = invoice.amount_minor - credited
        amount = util.to_minor(data.amount) if data.amount is not None else left
        if amount <= 0 or amount > left:
            raise ValidationError(f"At most {util.money(left)} of this invoice is left to credit", field="amount")
        note = Invoice(tenant_id=tenant_id, company_id=invoice.company_id, invoice_number=data.credit_note_number,
                       kind="credit_note", issued_on=data.issued_on, due_on=None, amount_minor=-amount,
                       currency=invoice.currency, credited_invoice_id=invoice.id)
        session.add(note)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            existing = _by_number(session, tenant_id, data.credit_note_number)
        else:
            counters.add_invoiced(session, tenant_id, invoice.company_id, data.issued_on.year, -amount)
            session.commit()
            return dump(note, invoice.invoice_number)
    same = (existing is not None and existing.kind == "credit_note" and existing.credited_invoice_id == invoice.id
            and existing.issued_on == data.issued_on
            and (data.amount is None or -existing.amount_minor == util.to_minor(data.amount)))
    if same:
        return dump(existing, invoice.invoice_number)
    raise Conflict("This credit note number is already recorded with other details",
                   field="credit_note_number", credit_note_number=data.credit_note_number)


def list_invoices(session: Session, tenant_id: int, company_id: int) -> list[dict]:
    util.company(session, tenant_id, company_id)
    rows = session.scalars(select(Invoice).where(Invoice.tenant_id == tenant_id, Invoice.company_id == company_id)
                           .order_by(Invoice.issued_on.desc(), Invoice.id.desc()).limit(1000)).all()
    numbers = {r.id: r.invoice_number for r in rows}
    missing = {r.credited_invoice_id for r in rows if r.credited_invoice_id and r.credited_invoice_id not in numbers}
    if missing:
        numbers.update(dict(session.execute(select(Invoice.id, Invoice.invoice_number).where(Invoice.id.in_(missing))).all()))
    return [dump(r, numbers.get(r.credited_invoice_id)) for r in rows]


def total(minor_values) -> Decimal:
    return Decimal(sum(minor_values)) / 100
