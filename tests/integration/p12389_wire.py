"""Shared wire builders for the 12389 adapter contract tests: PLATFORMS.md §2 answers, written by hand."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import httpx

from adapters.p12389 import P12389Adapter
from gateway.settings import P12389Settings

BASE = "https://p12389.test"
CLIENT_ID, SECRET = "gw-contract", "contract-secret-5be0c2"
NOW = 1_763_777_700.0  # 2025-11-22T10:15:00+08:00
CST = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).parents[1] / "fixtures" / "p12389"
WBBH = "hg" + "7" * 32
XML_HEAD = b"<?xml version='1.0' encoding='utf-8'?>\n"
REPORT = {"hcjl": "属实", "hcqk": "经核查属实", "zrrd": "经核查无需责任认定", "clqk": "已批评教育",
          "zgqk": "无", "fkqk": "举报人认可", "spr": "督察支队长"}


class Clock:
    """A settable clock for token lifetimes, cycle starts and version stamps."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def case(jbbh: str, *, zt: str = "待签收", qszt: str = "0", bgs: tuple[str, ...] = (), fkpj: str | None = None,
         xfsj: str = "2025-11-22T10:00:00") -> str:
    """A case as §2 writes it (the adapter reads only jbbh, zt, qszt, bgs and fkpj itself)."""
    text = (FIXTURES / "case_base.xml").read_text(encoding="utf-8")
    text = text.replace("JB2025112200017", jbbh).replace("<zt>核查中</zt>", f"<zt>{zt}</zt>")
    text = text.replace("<qszt>1</qszt>", f"<qszt>{qszt}</qszt>").replace("2025-11-22T10:15:00", xfsj)
    reports = "".join(f'<bg wbbh="{ref}" sj="2025-11-28T16:00:00"/>' for ref in bgs)
    text = text.replace("<bgs/>", f"<bgs>{reports}</bgs>")
    return text.replace("</case>", f"<fkpj>{fkpj}</fkpj></case>") if fkpj else text


def xml(status: int, body: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "application/xml", **headers})


def listing(*cases: str, total: int | None = None) -> httpx.Response:
    count = len(cases) if total is None else total
    return xml(200, f'<response code="0"><cases total="{count}">{"".join(cases)}</cases></response>')


def detail(body: str) -> httpx.Response:
    return xml(200, f'<response code="0">{body}</response>')


def error(status: int, message: str, **headers: str) -> httpx.Response:
    return xml(status, f'<response code="{status}"><message>{message}</message></response>', **headers)


OK = xml(200, '<response code="0"><message>ok</message></response>')


def token_answer(value: str = "tok-1", expires_in: int = 7200) -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "token_type": "Bearer", "expires_in": expires_in})


def make_adapter(clock: Clock, **settings: object) -> P12389Adapter:
    """An adapter against ``BASE`` with small pages and the given clock."""
    values: dict[str, object] = {"base_url": BASE, "client_id": CLIENT_ID, "client_secret": SECRET,
                                 "page_size": 3, "poll_overlap_s": 120} | settings
    return P12389Adapter(P12389Settings.model_validate(values), clock=clock, initial_lookback_s=86_400)


def bearer(request: httpx.Request) -> str:
    """The Authorization header a request carried."""
    return request.headers["Authorization"]
