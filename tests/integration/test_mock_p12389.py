"""The mock 12389 keeps PLATFORMS.md §2 over real HTTP; the client here is written from the spec, not the adapter."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_platforms.cli import build_app, parse_options
from mock_platforms.common import serve_in_thread
from mock_platforms.common.runner import ServerHandle
from mock_platforms.p12389 import P12389MockConfig, create_app

CLIENT_ID, SECRET = "test-client", "test-secret-勿外传"
CASE_ORDER = ["jbbh", "cxm", "sxlb", "jbfs", "sfsm", "jbr", "bjbdw", "bjbmj", "fssj", "fsdd", "jbnr", "fj",
              "slsj", "xfsj", "ajdj", "blqx", "qszt", "zt", "bgs"]
REPORT = {"hcjl": "属实", "hcqk": "经核查属实", "zrrd": "民警负主要责任", "clqk": "已批评教育", "zgqk": "已整改",
          "fkqk": "举报人认可", "spr": "督察支队长"}
RECEIPT = {"qsr": "值班员甲", "qssj": "2025-11-22T10:15:00"}


def body(**fields: object) -> bytes:
    return ("<request>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</request>").encode()


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return result


class Platform:
    """A running mock with a token-holding API client and an unauthenticated control client."""

    def __init__(self, handle: ServerHandle) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=5, trust_env=False)
        self.token = ""

    def fetch_token(self, secret: str = SECRET, grant: str = "client_credentials") -> httpx.Response:
        form = {"grant_type": grant, "client_id": CLIENT_ID, "client_secret": secret}
        response = self.http.post("/oauth/token", data=form)
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def auth(self) -> dict[str, str]:
        if not self.token:
            assert self.fetch_token().status_code == 200
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.auth())

    def write(self, jbbh: str, action: str, payload: bytes) -> httpx.Response:
        return self.http.post(f"/api/cases/{jbbh}/{action}", content=payload,
                              headers={**self.auth(), "Content-Type": "application/xml"})

    def case(self, jbbh: str) -> ET.Element:
        response = self.get(f"/api/cases/{jbbh}")
        assert response.status_code == 200, response.text
        root = ET.fromstring(response.content)
        assert root.tag == "response" and root.get("code") == "0"
        found = root.find("case")
        assert found is not None
        return found

    def control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=payload) if payload is not None else self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def new_case(self, **fields: Any) -> str:
        return str(self.control("/_mock/cases", fields)["jbbh"])


def answer_of(response: httpx.Response) -> tuple[int, str | None, str | None]:
    root = ET.fromstring(response.content)
    return response.status_code, root.get("code"), root.findtext("message")


Start = Callable[..., Platform]


@pytest.fixture
def start() -> Iterator[Start]:
    platforms: list[Platform] = []

    def run(**config: Any) -> Platform:
        app = create_app(P12389MockConfig(client_id=CLIENT_ID, client_secret=SECRET, **config))
        platforms.append(Platform(serve_in_thread(app)))
        return platforms[-1]

    yield run
    for platform in platforms:
        platform.http.close()
        platform.handle.stop()


@pytest.fixture
def mock(start: Start) -> Platform:
    return start()


# -- auth -----------------------------------------------------------------------------------------


def test_the_token_endpoint_issues_a_bearer_token_for_the_client_credentials(mock: Platform) -> None:
    response = mock.fetch_token()
    token = response.json()
    assert response.status_code == 200 and token["token_type"] == "Bearer" and token["expires_in"] == 7200
    assert mock.fetch_token(secret="wrong").json() == {"error": "invalid_client"}
    assert mock.fetch_token(secret="wrong").status_code == 401
    assert mock.fetch_token(grant="password").status_code == 400


def test_an_api_call_without_a_live_token_gets_401_invalid_token_in_xml(mock: Platform) -> None:
    jbbh = mock.new_case()
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic abc"}):
        response = mock.http.get(f"/api/cases/{jbbh}", headers=headers)
        assert answer_of(response) == (401, "401", "invalid_token")
        assert response.headers["Content-Type"].startswith("application/xml")
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_expires_after_its_lifetime(start: Start) -> None:
    mock = start(token_ttl_s=0.5)
    jbbh = mock.new_case()
    assert mock.get(f"/api/cases/{jbbh}").status_code == 200
    wait_until(lambda: mock.get(f"/api/cases/{jbbh}").status_code == 401, timeout=5)


def test_tokens_can_be_revoked_mid_run_and_their_lifetime_shortened(mock: Platform) -> None:
    jbbh = mock.new_case()
    assert mock.get(f"/api/cases/{jbbh}").status_code == 200
    state = mock.control("/_mock/auth", {"revoke": True, "expires_in": 30})
    assert state["revoked"] == 1 and state["expires_in"] == 30
    assert mock.get(f"/api/cases/{jbbh}").status_code == 401
    assert mock.fetch_token().json()["expires_in"] == 30
    assert mock.get(f"/api/cases/{jbbh}").status_code == 200


# -- pull -----------------------------------------------------------------------------------------


def test_the_list_is_xml_newest_first_filtered_by_issue_time_with_offset_paging(mock: Platform) -> None:
    for n, xfsj in enumerate(("2025-11-20T09:00:00", "2025-11-22T08:00:00", "2025-11-21T12:00:00")):
        mock.new_case(jbbh=f"J{n}", xfsj=xfsj)

    def page(**params: Any) -> tuple[list[str], str | None]:
        root = ET.fromstring(mock.get("/api/cases", **params).content)
        cases = root.find("cases")
        assert root.get("code") == "0" and cases is not None
        return [c.findtext("jbbh") or "" for c in cases.findall("case")], cases.get("total")

    assert page(since="2025-11-21T00:00:00", offset=0, limit=50) == (["J1", "J2"], "2")
    assert page(since="2025-11-21T12:00:00", limit=50) == (["J1", "J2"], "2")  # xfsj ≥ since
    assert page(since="2025-11-01T00:00:00", offset=1, limit=1) == (["J2"], "3")
    assert page(since="2025-11-01T00:00:00", offset=3, limit=5) == ([], "3")


@pytest.mark.parametrize(("params", "named"), [
    ({"limit": 51}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"),
    ({"since": "2025-11-21T00:00:00+08:00"}, "since"), ({"since": "2025-11-21 00:00:00"}, "since")])
def test_a_bad_list_parameter_gets_400_naming_it(mock: Platform, params: dict[str, Any], named: str) -> None:
    status, code, message = answer_of(mock.get("/api/cases", **params))
    assert (status, code) == (400, "400") and named in (message or "")


def test_cases_arriving_while_a_client_pages_shift_the_later_pages(mock: Platform) -> None:
    for n in range(4):
        mock.new_case(jbbh=f"J{n}", xfsj=f"2025-11-22T10:0{n}:00")
    mock.control("/_mock/paging", {"arrivals_per_page": 2})
    first = ET.fromstring(mock.get("/api/cases", offset=0, limit=2).content)
    second = ET.fromstring(mock.get("/api/cases", offset=2, limit=2).content)
    assert [c.text for c in first.iter("jbbh")] == ["J3", "J2"]
    assert [c.text for c in second.iter("jbbh")] == ["J3", "J2"]  # two newer cases pushed them down
    assert second.find("cases").get("total") == "6"  # type: ignore[union-attr]


def test_a_case_has_every_element_of_the_spec_in_order(mock: Platform) -> None:
    jbbh = mock.new_case(sfsm="1", bjbmj={"xm": "郑浩", "jh": "990417", "zw": "民警"},
                         fj=[{"mc": "a.jpg", "url": "https://x.invalid/1", "lx": "image/jpeg"}])
    case = mock.case(jbbh)
    assert [child.tag for child in case] == CASE_ORDER
    assert [c.tag for c in case.find("jbr")] == ["xm", "sfzh", "lxdh", "dz"]  # type: ignore[union-attr]
    assert case.findtext("bjbmj/jh") == "990417" and case.find("fj/wj").get("mc") == "a.jpg"  # type: ignore[union-attr]
    assert (case.findtext("qszt"), case.findtext("zt")) == ("0", "待签收")
    assert case.findtext("blqx", "").count("-") == 2 and "T" in case.findtext("xfsj", "")


def test_an_anonymous_case_has_empty_reporter_elements_and_no_officer_when_none_is_named(mock: Platform) -> None:
    case = mock.case(mock.new_case(sfsm="0", jbr={"xm": "", "sfzh": "", "lxdh": "", "dz": ""}, bjbmj=None))
    assert [(c.tag, c.text) for c in case.find("jbr")] == [  # type: ignore[union-attr]
        ("xm", None), ("sfzh", None), ("lxdh", None), ("dz", None)]
    assert case.find("bjbmj") is None and case.find("fkpj") is None


def test_an_unknown_case_gets_404_in_xml(mock: Platform) -> None:
    assert answer_of(mock.get("/api/cases/NOPE"))[:2] == (404, "404")
    assert answer_of(mock.write("NOPE", "receipt", body(**RECEIPT)))[:2] == (404, "404")


# -- write-backs ----------------------------------------------------------------------------------


def test_a_receipt_signs_the_case_and_a_repeat_answers_409_already_signed(mock: Platform) -> None:
    jbbh = mock.new_case()
    assert answer_of(mock.write(jbbh, "receipt", body(**RECEIPT))) == (200, "0", "ok")
    case = mock.case(jbbh)
    assert (case.findtext("qszt"), case.findtext("zt")) == ("1", "核查中")
    assert answer_of(mock.write(jbbh, "receipt", body(**RECEIPT))) == (409, "409", "已签收")
    ledger = mock.control("/_mock/ledger")
    assert ledger["count"] == 1 and ledger["entries"][0]["action"] == "receipt"
    assert ledger["entries"][0]["body"] == RECEIPT
    assert mock.control("/_mock/health")["repeated_receipts"] == 1


def test_a_report_before_the_receipt_is_refused_409(mock: Platform) -> None:
    jbbh = mock.new_case()
    assert answer_of(mock.write(jbbh, "report", body(wbbh="hg1", **REPORT))) == (409, "409", "未签收")


@pytest.mark.parametrize(("fields", "named"), [
    ({**REPORT, "hcjl": "基本属实"}, "hcjl"), ({**REPORT, "spr": ""}, "spr"),
    ({k: v for k, v in REPORT.items() if k != "zgqk"}, "zgqk")])
def test_an_invalid_report_gets_400_naming_the_element(mock: Platform, fields: dict[str, str], named: str) -> None:
    jbbh = mock.new_case(qszt="1", zt="核查中")
    status, code, message = answer_of(mock.write(jbbh, "report", body(wbbh="hg1", **fields)))
    assert (status, code) == (400, "400") and named in (message or "")


def test_a_wbbh_over_forty_chars_is_refused(mock: Platform) -> None:
    jbbh = mock.new_case(qszt="1", zt="核查中")
    assert answer_of(mock.write(jbbh, "report", body(wbbh="x" * 41, **REPORT)))[:2] == (400, "400")


def test_a_repeated_report_creates_a_second_report_and_the_ledger_shows_the_duplicate(mock: Platform) -> None:
    jbbh = mock.new_case(qszt="1", zt="核查中")
    for _ in range(2):
        assert answer_of(mock.write(jbbh, "report", body(wbbh="hg-same", **REPORT)))[:2] == (200, "0")
    case = mock.case(jbbh)
    assert [bg.get("wbbh") for bg in case.iter("bg")] == ["hg-same", "hg-same"]
    assert case.findtext("zt") == "已报结"
    ledger = mock.control("/_mock/ledger?action=report")
    assert ledger["count"] == 2 and ledger["duplicates"] == 1
    assert [e["request_id"] for e in ledger["entries"]] == ["hg-same", "hg-same"]


def test_a_report_on_a_closed_case_is_refused(mock: Platform) -> None:
    jbbh = mock.new_case(qszt="1", zt="已办结")
    assert answer_of(mock.write(jbbh, "report", body(wbbh="hg1", **REPORT))) == (409, "409", "案件已办结")


def test_an_extension_is_checked_recorded_and_granted_by_the_platform_when_it_decides(start: Start) -> None:
    mock = start(auto_decide=True, auto_decide_delay_s=0.1)
    jbbh = mock.new_case(qszt="1", zt="核查中", blqx="2025-12-12")
    assert answer_of(mock.write(jbbh, "extension", body(yqts=6, yqly="x")))[:2] == (400, "400")
    assert answer_of(mock.write(jbbh, "extension", body(yqts=3, yqly="需调取异地监控"))) == (200, "0", "ok")
    assert mock.control("/_mock/ledger?action=extension")["count"] == 1
    wait_until(lambda: mock.case(jbbh).findtext("blqx") == "2025-12-17")  # Fri + 3 weekdays


def test_the_platform_closes_a_reported_case_and_the_reporter_rates_it_when_it_decides(start: Start) -> None:
    mock = start(auto_decide=True, auto_decide_delay_s=0.1)
    jbbh = mock.new_case(qszt="1", zt="核查中")
    mock.write(jbbh, "report", body(wbbh="hg1", **REPORT))
    wait_until(lambda: mock.case(jbbh).findtext("fkpj") in ("满意", "基本满意", "不满意"))
    assert mock.case(jbbh).findtext("zt") == "已办结"


def test_a_request_body_with_a_dtd_is_refused(mock: Platform) -> None:
    jbbh = mock.new_case()
    evil = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><request><qsr>&a;</qsr></request>'
    assert answer_of(mock.write(jbbh, "receipt", evil))[:2] == (400, "400")


# -- control --------------------------------------------------------------------------------------


def test_status_evaluation_and_deadline_change_through_the_control_api(mock: Platform) -> None:
    jbbh = mock.new_case()
    mock.control(f"/_mock/cases/{jbbh}/changes", {"zt": "已办结", "fkpj": "不满意", "blqx": "2026-01-09"})
    case = mock.case(jbbh)
    assert (case.findtext("zt"), case.findtext("fkpj"), case.findtext("blqx")) == ("已办结", "不满意", "2026-01-09")
    assert mock.http.post(f"/_mock/cases/{jbbh}/changes", json={"fkpj": "好"}).status_code == 400
    assert mock.http.post(f"/_mock/cases/{jbbh}/changes", json={"jbbh": "X"}).status_code == 400
    assert mock.http.post("/_mock/cases/NOPE/changes", json={"zt": "已办结"}).status_code == 404
    assert mock.http.post("/_mock/cases", json={"jbbh": jbbh}).status_code == 409
    assert mock.http.post("/_mock/cases", json={"colour": "red"}).status_code == 400


def test_injected_errors_and_outages_answer_in_the_platforms_xml(mock: Platform) -> None:
    jbbh = mock.new_case()
    mock.control("/_mock/faults", {"error_rate": 1.0, "error_status": 503})
    assert answer_of(mock.get(f"/api/cases/{jbbh}"))[:2] == (503, "503")
    mock.control("/_mock/faults", {"error_rate": 0.0, "outage_seconds": 30})
    assert answer_of(mock.get(f"/api/cases/{jbbh}"))[:2] == (503, "503")
    assert mock.fetch_token().status_code == 200  # the token endpoint is not behind the switches
    mock.control("/_mock/faults", {"outage_seconds": 0})
    assert mock.get(f"/api/cases/{jbbh}").status_code == 200


def test_a_dropped_response_leaves_the_report_applied(mock: Platform) -> None:
    jbbh = mock.new_case(qszt="1", zt="核查中")
    mock.control("/_mock/faults", {"drop_next": 1, "drop_mode": "close"})
    with pytest.raises(httpx.RemoteProtocolError):
        mock.write(jbbh, "report", body(wbbh="hg-dropped", **REPORT))
    assert [bg.get("wbbh") for bg in mock.case(jbbh).iter("bg")] == ["hg-dropped"]
    assert mock.control("/_mock/faults")["counters"]["responses_dropped"] == 1


def test_the_rate_limit_answers_429_with_retry_after(start: Start) -> None:
    mock = start(rate_limit_per_s=2)
    jbbh = mock.new_case()
    statuses = [mock.get(f"/api/cases/{jbbh}") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert answer_of(statuses[2])[:2] == (429, "429") and int(statuses[2].headers["Retry-After"]) >= 1


def test_the_generator_makes_fake_cases_in_the_asked_mix_and_grade(mock: Platform) -> None:
    state = mock.control("/_mock/generator", {"mix": {"申诉": 1}, "urgent_fraction": 1.0, "generate_now": 5})
    assert state["generated"] == 5
    cases = mock.control("/_mock/cases")["items"]
    assert len(cases) == 5 and {c["sxlb"] for c in cases} == {"申诉"} and {c["ajdj"] for c in cases} == {"重大"}
    for case in cases:
        if case["sfsm"] == "1":
            assert case["jbr"]["sfzh"].startswith("99") and len(case["jbr"]["sfzh"]) == 18  # region 99: not real


def test_the_generator_adds_cases_at_its_rate_while_enabled(mock: Platform) -> None:
    mock.control("/_mock/generator", {"enabled": True, "per_min": 6000})
    wait_until(lambda: mock.control("/_mock/health")["cases"] >= 3)
    mock.control("/_mock/generator", {"enabled": False})


def test_reset_forgets_cases_tokens_ledger_and_switches(mock: Platform) -> None:
    jbbh = mock.new_case()
    mock.write(jbbh, "receipt", body(**RECEIPT))
    mock.control("/_mock/faults", {"error_rate": 0.5})
    mock.control("/_mock/reset", {})
    health = mock.control("/_mock/health")
    assert (health["cases"], health["ledger_entries"], health["tokens_issued"]) == (0, 0, 0)
    assert health["faults"]["error_rate"] == 0.0
    assert mock.get(f"/api/cases/{jbbh}").status_code == 401  # the old token is gone too


def test_the_command_line_options_set_the_client_credentials() -> None:
    _, options, _ = parse_options(["p12389", "--port", "0", "--app-id", CLIENT_ID, "--app-secret", SECRET])
    with serve_in_thread(build_app("p12389", options)) as handle:
        platform = Platform(handle)
        assert platform.fetch_token().status_code == 200
        assert platform.fetch_token(secret="p12389-demo-secret").status_code == 401
        platform.http.close()
