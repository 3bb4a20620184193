"""The XLSX and CSV writers, read back with openpyxl and with python-calamine."""
import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from export import writer

COLUMNS = [{"key": "name", "title": "Name", "type": "text"},
           {"key": "employees", "title": "Employees", "type": "int"},
           {"key": "invoiced_this_year", "title": "Invoiced this year", "type": "money"},
           {"key": "created_at", "title": "Created", "type": "date"},
           {"key": "attr.1", "title": "Key account", "type": "bool"}]
ROWS = [
    ['=HYPERLINK("http://x")', 12, 123450, "2026-11-26", True],
    ["Nordic AS", None, 0, None, None],
    ["+47 minus", 3, -500, "2025-01-31", False],
    ["-1 @home\tx", 0, 99, "2024-02-29", None],
    ["@SUM(A1)", 1, 1, "2024-02-29", None],
    ["Bad \x01control\x1f chars", 5, 5, "2024-03-01", None],
]


def write(tmp_path, fmt, rows=ROWS, max_rows=writer.SHEET_MAX_ROWS, contacts=None, title="Customers in Oslo"):
    path = str(tmp_path / f"out.{fmt}")
    out = writer.open_writer(fmt, path, title, "NOK", max_rows)
    out.start(COLUMNS, [{"key": "c", "title": "Contact", "type": "text"}] if contacts is not None else None)
    out.write_rows(rows)
    if contacts is not None:
        out.write_contacts(contacts)
    out.close()
    return path


def test_xlsx_has_typed_cells_a_bold_frozen_filtered_header_and_a_named_sheet(tmp_path):
    path = write(tmp_path, "xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Customers in Oslo"]
    ws = wb.active
    assert [c.value for c in ws[1]] == [c["title"] for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:E{len(ROWS) + 1}"
    assert ws.column_dimensions["A"].width >= 20 and ws.column_dimensions["C"].width >= 18
    first = ws[2]
    assert first[0].value == '=HYPERLINK("http://x")' and first[0].data_type == "s"  # text, not a formula
    assert first[1].value == 12 and first[1].data_type == "n"
    assert first[2].value == pytest.approx(1234.5) and first[2].number_format == '#,##0.00 "NOK"'
    assert first[3].value == datetime(2026, 11, 26) and first[3].is_date
    assert first[4].value is True
    assert ws[3][1].value is None and ws[3][2].value == 0
    assert ws[4][2].value == pytest.approx(-5.0)
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in range(2, len(ROWS) + 2))
    assert ws[7][0].value == "Bad control chars"
    assert ws.max_row == len(ROWS) + 1


def test_xlsx_reads_the_same_in_calamine(tmp_path):
    path = write(tmp_path, "xlsx")
    book = CalamineWorkbook.from_path(path)
    assert book.sheet_names == ["Customers in Oslo"]
    data = book.get_sheet_by_name("Customers in Oslo").to_python()
    assert data[0] == [c["title"] for c in COLUMNS]
    assert len(data) == len(ROWS) + 1
    assert data[1][0] == '=HYPERLINK("http://x")'
    assert data[1][1] == 12 and data[1][2] == pytest.approx(1234.5)
    assert data[1][3] in (date(2026, 11, 26), datetime(2026, 11, 26))
    assert data[1][4] is True


def test_xlsx_continues_on_a_second_sheet_past_the_row_limit(tmp_path):
    rows = [[f"Company {i}", i, i * 100, "2026-01-01", None] for i in range(11)]
    path = write(tmp_path, "xlsx", rows=rows, max_rows=5, title="All")  # 4 data rows per sheet
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["All", "All (2)", "All (3)"]
    got = []
    for ws in wb.worksheets:
        values = [[c.value for c in row] for row in ws.iter_rows()]
        assert values[0] == [c["title"] for c in COLUMNS] and ws.freeze_panes == "A2"
        got += values[1:]
    assert [r[0] for r in got] == [f"Company {i}" for i in range(11)]
    assert [len(list(ws.iter_rows())) for ws in wb.worksheets] == [5, 5, 4]


def test_xlsx_contacts_go_on_their_own_sheet(tmp_path):
    path = write(tmp_path, "xlsx", contacts=[["Kari"], ["=cmd|' /C calc'!A0"]])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Customers in Oslo", "Contacts"]
    values = [[c.value for c in r] for r in wb["Contacts"].iter_rows()]
    assert values == [["Contact"], ["Kari"], ["=cmd|' /C calc'!A0"]]
    assert wb["Contacts"]["A3"].data_type == "s"


def test_an_empty_selection_still_makes_a_valid_file_with_the_header(tmp_path):
    path = write(tmp_path, "xlsx", rows=[])
    data = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert data == [[c["title"] for c in COLUMNS]]


def test_sheet_titles_are_valid():
    assert writer.sheet_title("a/b:c*d?[e]") == "a b c d  e"
    assert writer.sheet_title("") == "Companies"
    assert len(writer.sheet_title("x" * 50, " (2)")) == 31


def test_csv_is_utf8_with_bom_semicolons_and_neutralised_formulas(tmp_path):
    path = write(tmp_path, "csv", contacts=[["Åse Øvre"]])
    raw = open(path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == ["Name", "Employees", "Invoiced this year (NOK)", "Created", "Key account"]
    assert lines[1] == ["'=HYPERLINK(\"http://x\")", "12", "1234.50", "2026-11-26", "true"]
    assert lines[2] == ["Nordic AS", "", "0.00", "", ""]
    assert lines[3][0] == "'+47 minus" and lines[3][2] == "-5.00"
    assert lines[4][0] == "'-1 @home\tx" and lines[5][0] == "'@SUM(A1)"
    assert lines[len(ROWS) + 1] == []
    assert lines[len(ROWS) + 2:] == [["Contact"], ["Åse Øvre"]]
