"""Report writers: XLSX (openpyxl, write-only, lxml) and CSV, streamed to a
file row by row in bounded memory. Plain logic, no nameko.

Both take columns as the crm's ``export_rows`` describes them
(``{"key","title","type"}``, types text/int/money/date/bool) and rows of
typed values (money in minor units of ``currency``, dates as ISO strings).

Formula injection: a text value starting with ``= + - @``, tab or CR is
written as text, never as a formula (XLSX: the cell's data type is forced to
string; CSV: prefixed with an apostrophe).
"""
from __future__ import annotations

import csv
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

SHEET_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
WIDTHS = {"int": 12, "money": 18, "date": 12, "bool": 8}
CURRENCY_FORMAT = '#,##0.00 "{cur}"'


def sheet_title(name: str, suffix: str = "") -> str:
    """A valid sheet name (<= 31 characters, none of []:*?/\\, not blank)."""
    base = _SHEET_BAD.sub(" ", name or "").strip().strip("'") or "Companies"
    return (base[: 31 - len(suffix)].rstrip() + suffix) or "Companies"


def _clean(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _width(col: dict, sample: list) -> float:
    if col["type"] in WIDTHS:
        return max(WIDTHS[col["type"]], len(col["title"]) + 3)
    longest = max((len(v) for v in sample if isinstance(v, str)), default=0)
    return float(min(60, max(10, len(col["title"]) + 3, longest + 2)))


class _Sheet:
    """One logical table (companies or contacts) that continues on a new sheet past the row limit."""

    def __init__(self, book: "XlsxWriter", title: str, columns: list[dict], max_rows: int):
        self.book, self.title, self.columns, self.max_rows = book, title, columns, max_rows
        self.ws = None
        self.part = 0
        self.rows_in_sheet = 0
        self.widths: list[float] | None = None
        money = CURRENCY_FORMAT.format(cur=book.currency.replace('"', ""))
        self.kinds = [c["type"] for c in columns]
        self.money_format = money

    def _open(self, sample: list[list]):
        self.part += 1
        ws = self.book.wb.create_sheet(sheet_title(self.title, "" if self.part == 1 else f" ({self.part})"))
        if self.widths is None:
            self.widths = [_width(c, [r[i] for r in sample[:200]]) for i, c in enumerate(self.columns)]
        for i, w in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = "A2"
        header = []
        for col in self.columns:
            cell = WriteOnlyCell(ws, _clean(col["title"]))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        ws.append(header)
        self.ws, self.rows_in_sheet = ws, 1

    def _close(self):
        if self.ws is not None and self.columns:
            self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{self.rows_in_sheet}"

    def append_many(self, rows: list[list]):
        for row in rows:
            if self.ws is None or self.rows_in_sheet >= self.max_rows:
                self._close()
                self._open(rows)
            self.ws.append(self._cells(row))
            self.rows_in_sheet += 1

    def _cells(self, row: list) -> list:
        out = []
        ws = self.ws
        for kind, value in zip(self.kinds, row):
            if value is None:
                out.append(None)
            elif kind == "money":
                cell = WriteOnlyCell(ws, value / 100)
                cell.number_format = self.money_format
                out.append(cell)
            elif kind == "date":
                out.append(date.fromisoformat(value) if isinstance(value, str) else value)
            elif kind in ("int", "bool"):
                out.append(value)
            else:
                text = _clean(str(value))
                if text.startswith(DANGEROUS):
                    cell = WriteOnlyCell(ws, text)
                    cell.data_type = "s"  # text, never a formula
                    out.append(cell)
                else:
                    out.append(text)
        return out

    def finish(self):
        if self.ws is None:
            self._open([])
        self._close()


class XlsxWriter:
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def __init__(self, path: str, title: str, currency: str, max_rows: int = SHEET_MAX_ROWS):
        self.path, self.title, self.currency, self.max_rows = path, title, currency, max_rows
        self.wb = Workbook(write_only=True)
        self.companies: _Sheet | None = None
        self.contacts: _Sheet | None = None

    def start(self, columns: list[dict], contact_columns: list[dict] | None = None):
        self.companies = _Sheet(self, self.title, columns, self.max_rows)
        if contact_columns:
            self.contacts = _Sheet(self, "Contacts", contact_columns, self.max_rows)

    def write_rows(self, rows: list[list]):
        self.companies.append_many(rows)

    def write_contacts(self, rows: list[list]):
        if self.contacts is not None and rows:
            self.contacts.append_many(rows)

    def close(self):
        self.companies.finish()
        if self.contacts is not None:
            self.contacts.finish()
        self.wb.save(self.path)


class CsvWriter:
    """UTF-8 with a BOM (so Excel reads the encoding), ``;`` between fields (the list
    separator of Nordic Excel), ``"`` quoting, CRLF; numbers with a decimal point, dates ISO.
    The contacts (if asked) follow after one empty line, with their own header."""

    content_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, path: str, title: str, currency: str, max_rows: int = 0):
        self.path, self.title, self.currency = path, title, currency
        self.file = open(path, "w", encoding="utf-8-sig", newline="")
        self.out = csv.writer(self.file, delimiter=";", quotechar='"', lineterminator="\r\n")
        self.kinds: list[str] = []
        self.contact_columns: list[dict] | None = None
        self.contact_buffer = None

    def start(self, columns: list[dict], contact_columns: list[dict] | None = None):
        self.kinds = [c["type"] for c in columns]
        self.out.writerow([_text(c["title"] + (f" ({self.currency})" if c["type"] == "money" else "")) for c in columns])
        if contact_columns:
            # contacts go after the companies: spool them to a temporary file meanwhile (bounded memory)
            import tempfile

            self.contact_columns = contact_columns
            self.contact_buffer = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
            self.contact_out = csv.writer(self.contact_buffer, delimiter=";", quotechar='"', lineterminator="\r\n")
            self.contact_kinds = [c["type"] for c in contact_columns]

    def write_rows(self, rows: list[list]):
        kinds = self.kinds
        self.out.writerows([_csv_value(k, v) for k, v in zip(kinds, row)] for row in rows)

    def write_contacts(self, rows: list[list]):
        if self.contact_buffer is not None:
            kinds = self.contact_kinds
            self.contact_out.writerows([_csv_value(k, v) for k, v in zip(kinds, row)] for row in rows)

    def close(self):
        if self.contact_buffer is not None:
            self.out.writerow([])
            self.out.writerow([_text(c["title"]) for c in self.contact_columns])
            self.contact_buffer.seek(0)
            while True:
                block = self.contact_buffer.read(1 << 16)
                if not block:
                    break
                self.file.write(block)
            self.contact_buffer.close()
        self.file.close()


def _text(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def _csv_value(kind: str, value):
    if value is None:
        return ""
    if kind == "money":
        minor = int(value)
        sign = "-" if minor < 0 else ""
        return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("int", "date"):
        return value
    return _text(value)


WRITERS = {"xlsx": XlsxWriter, "csv": CsvWriter}


def open_writer(fmt: str, path: str, title: str, currency: str, max_rows: int = SHEET_MAX_ROWS):
    return WRITERS[fmt](path, title, currency, max_rows)


__all__ = ["XlsxWriter", "CsvWriter", "open_writer", "sheet_title", "SHEET_MAX_ROWS"]
