"""The mock mayor's hotline keeps PLATFORMS.md §3; requests are encoded here from the spec, not by the mock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from mock_platforms.cli import build_app, parse_options
from mock_platforms.common import GeneratorSettings, ServerHandle, serve_in_thread
from mock_platforms.mayor import MayorMockConfig, create_app
from mock_platforms.mayor.maintenance import MaintenanceState

TOKEN = "tk-mock-8d41"
CST = timezone(timedelta(hours=8))
TIME = "%Y-%m-%d %H:%M:%S"
ROW_FIELDS = {"lsh", "ldsj", "pdsj", "ldrxm", "lxdh", "ldnr", "sqlb", "jjcd", "sfdz", "blsx", "zt", "gxsj"}
ROW_FIELDS |= {"fkxx", "hfjg"}
FEEDBACK = {"sfss": "1", "dcqk": "经民警现场核查属实", "czjg": "已查处", "ldryj": "来电人认可", "bljg": "已处理完毕"}
FEEDBACK["shr"] = "王建国"


class Platform:
    """A running mock with a spec-written GBK client and a JSON control client."""

    def __init__(self, handle: ServerHandle, timeout: float = 5.0) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=timeout, trust_env=False)

    def get(self, path: str, token: str | None = TOKEN, **params: Any) -> httpx.Response:
        return self.http.get(f"/hotline/{path}", params={**params, **({"token": token} if token else {})})

    def post(self, path: str, form: dict[str, str], token: str = TOKEN, charset: str = "gbk") -> httpx.Response:
        body = urlencode(form, encoding=charset).encode("ascii")
        headers = {"Content-Type": f"application/x-www-form-urlencoded; charset={charset.upper()}"}
        return self.http.post(f"/hotline/{path}", params={"token": token}, content=body, headers=headers)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body) if body is not None else self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def new_row(self, **fields: Any) -> str:
        return str(self.control("/_mock/orders", fields)["lsh"])

    def row(self, lsh: str) -> dict[str, Any]:
        return dict(answer(self.get("detail.do", lsh=lsh))["data"])


def answer(response: httpx.Response) -> dict[str, Any]:
    """Decode a platform answer as §3 says: GBK JSON, HTTP 200."""
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json;charset=GBK"
    decoded: dict[str, Any] = json.loads(response.content.decode("gbk"))
    return decoded


def refused(response: httpx.Response) -> str:
    body = answer(response)
    assert body["result"] == "0", body
    return str(body["msg"])


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until check() is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return result


Start = Callable[..., Platform]


@pytest.fixture
def start() -> Iterator[Start]:
    platforms: list[Platform] = []

    def run(**config: Any) -> Platform:
        platforms.append(Platform(serve_in_thread(create_app(MayorMockConfig(token=TOKEN, **config)))))
        return platforms[-1]

    yield run
    for platform in platforms:
        platform.http.close()
        platform.handle.stop()


@pytest.fixture
def mock(start: Start) -> Platform:
    return start()


def test_a_wrong_or_missing_token_gets_result_0_token_invalid_as_gbk_json(mock: Platform) -> None:
    lsh = mock.new_row()
    for response in (
        mock.get("list.do", token="nope"),
        mock.get("detail.do", token=None, lsh=lsh),
        mock.post("sign.do", {"lsh": lsh, "qsr": "甲"}, token="nope"),
    ):
        assert response.content == '{"result": "0", "msg": "token无效"}'.encode("gbk")
    assert mock.control("/_mock/health")["auth_rejected"] == 3
    assert mock.row(lsh)["zt"] == "01"


def test_list_filters_gxsj_inclusively_ascending_paged_from_1(mock: Platform) -> None:
    for minute in (3, 1, 4, 2, 5):
        mock.new_row(lsh=f"T{minute}", gxsj=f"2025-11-22 09:0{minute}:00")
    window = {"begin": "2025-11-22 09:02:00", "end": "2025-11-22 09:04:00"}

    first = answer(mock.get("list.do", pageNo=1, pageSize=2, **window))
    second = answer(mock.get("list.do", pageNo=2, pageSize=2, **window))

    assert (first["result"], first["msg"], first["total"]) == ("1", "成功", 3)
    assert [r["lsh"] for r in first["rows"] + second["rows"]] == ["T2", "T3", "T4"]
    assert set(first["rows"][0]) == ROW_FIELDS
    assert refused(mock.get("list.do", pageSize=51)) == "pageSize须为1-50的整数"
    assert refused(mock.get("list.do", begin="2025-11-22T09:00:00")).startswith("begin时间格式错误")
    assert refused(mock.get("list.do", pageNo=0)) == "pageNo须为1-1000000的整数"


def test_a_row_that_changes_while_a_client_pages_shifts_the_rows_after_it(mock: Platform) -> None:
    for n in range(1, 5):
        mock.new_row(lsh=f"S{n}", gxsj=f"2025-11-22 09:0{n}:00")
    window = {"begin": "2025-11-22 09:00:00", "end": "2025-11-22 09:59:59", "pageSize": 2}

    first = answer(mock.get("list.do", pageNo=1, **window))["rows"]
    assert answer(mock.post("sign.do", {"lsh": "S1", "qsr": "甲"}))["result"] == "1"
    second = answer(mock.get("list.do", pageNo=2, **window))["rows"]

    assert [r["lsh"] for r in first + second] == ["S1", "S2", "S4"]  # S3 slid onto page 1: offset paging skips it


def test_sign_feedback_and_their_repeats_follow_the_spec_and_the_ledger_counts_duplicates(mock: Platform) -> None:
    lsh = mock.new_row(gxsj="2025-11-22 09:00:00")

    assert refused(mock.post("feedback.do", {"lsh": lsh, **FEEDBACK})) == "该工单未签收"
    assert answer(mock.post("sign.do", {"lsh": lsh, "qsr": "值班员甲"})) == {"result": "1", "msg": "成功"}
    signed = mock.row(lsh)
    assert refused(mock.post("sign.do", {"lsh": lsh, "qsr": "值班员乙"})) == "该工单已签收"
    assert answer(mock.post("feedback.do", {"lsh": lsh, **FEEDBACK}))["result"] == "1"
    assert refused(mock.post("feedback.do", {"lsh": lsh, **FEEDBACK, "bljg": "另一份"})) == "该工单已反馈"

    row = mock.row(lsh)
    assert (signed["zt"], row["zt"], row["fkxx"]["bljg"]) == ("02", "03", "已处理完毕")
    assert datetime.strptime(row["fkxx"]["fksj"], TIME) and row["gxsj"] > "2025-11-22 09:00:00"
    ledger = mock.control("/_mock/ledger")
    assert [(e["action"], e["order_no"]) for e in ledger["entries"]] == [("sign", lsh), ("feedback", lsh)]
    assert ledger["duplicates"] == 2 and ledger["entries"][1]["body"]["shr"] == "王建国"


def test_back_and_delay_have_their_state_checks(mock: Platform) -> None:
    returned, handled = mock.new_row(), mock.new_row(zt="02")

    assert answer(mock.post("back.do", {"lsh": returned, "thyy": "不属于公安职责"}))["result"] == "1"
    assert refused(mock.post("back.do", {"lsh": returned, "thyy": "再退"})) == "该工单已退回"
    assert refused(mock.post("sign.do", {"lsh": returned, "qsr": "甲"})) == "该工单已退回"
    assert answer(mock.post("delay.do", {"lsh": handled, "yqts": "3", "yqly": "需调取监控"}))["result"] == "1"
    assert refused(mock.post("delay.do", {"lsh": handled, "yqts": "3", "yqly": "需调取监控"})) == "该工单已申请延期"
    decided = mock.control(f"/_mock/orders/{handled}/events", {"event_type": "extension_decided"})
    assert (mock.row(returned)["zt"], decided["order"]["blsx"]) == ("05", 8)


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("sign.do", {"lsh": "NOPE", "qsr": "甲"}, "工单不存在"),
        ("sign.do", {"qsr": "甲"}, "参数lsh不能为空"),
        ("sign.do", {"lsh": "{lsh}", "qsr": " "}, "参数qsr不能为空"),
        ("feedback.do", {"lsh": "{lsh}", **FEEDBACK, "sfss": "属实"}, "参数sfss格式错误"),
        ("delay.do", {"lsh": "{lsh}", "yqts": "三", "yqly": "复杂"}, "参数yqts格式错误"),
        ("report.do", {"lsh": "{lsh}"}, "不支持的操作report"),
    ],
)
def test_a_bad_form_is_refused_naming_the_field_and_nothing_is_recorded(
    mock: Platform, path: str, form: dict[str, str], message: str
) -> None:
    lsh = mock.new_row(zt="02")
    assert refused(mock.post(path, {k: v.replace("{lsh}", lsh) for k, v in form.items()})) == message
    assert mock.control("/_mock/ledger")["count"] == 0


def test_forms_are_read_as_gbk_so_a_utf8_client_is_garbled_or_refused(mock: Platform) -> None:
    good, bad = mock.new_row(), mock.new_row()

    assert answer(mock.post("sign.do", {"lsh": good, "qsr": "签收人张三"}))["result"] == "1"
    utf8 = answer(mock.post("sign.do", {"lsh": bad, "qsr": "签收人张三"}, charset="utf-8"))

    assert mock.control(f"/_mock/orders/{good}")["_platform"]["signer"] == "签收人张三"
    signer = mock.control(f"/_mock/orders/{bad}")["_platform"]["signer"]
    assert utf8 == {"result": "0", "msg": "参数编码错误"} or signer != "签收人张三"


def test_maintenance_pages_are_html_200_on_the_api_and_never_on_the_control_api(mock: Platform) -> None:
    lsh = mock.new_row()
    mock.control("/_mock/faults", {"maintenance_rate": 1.0})

    page = mock.post("sign.do", {"lsh": lsh, "qsr": "甲"})
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html;charset=GBK")
    assert "系统维护中" in page.content.decode("gbk") and page.text.lstrip().startswith("<html>")
    assert mock.control("/_mock/orders")["count"] == 1  # the control API is never in maintenance
    mock.control("/_mock/faults", {"maintenance_rate": 0, "maintenance_seconds": 60})
    assert "系统维护中" in mock.get("list.do").content.decode("gbk")
    faults = mock.control("/_mock/faults", {"maintenance_seconds": 0})
    assert answer(mock.get("list.do"))["result"] == "1"
    assert faults["counters"]["maintenance_pages"] == 2 and faults["maintenance_until"] is None
    assert mock.row(lsh)["zt"] == "01"  # the write-back never reached the application


def test_a_nightly_window_around_now_serves_the_page_and_one_elsewhere_does_not(mock: Platform) -> None:
    now = datetime.now(CST)
    around = f"{now - timedelta(minutes=1):%H:%M}-{now + timedelta(minutes=2):%H:%M}"
    elsewhere = f"{now + timedelta(hours=3):%H:%M}-{now + timedelta(hours=4):%H:%M}"

    mock.control("/_mock/faults", {"nightly_maintenance": around})
    assert "系统维护中" in mock.get("list.do").content.decode("gbk")
    mock.control("/_mock/faults", {"nightly_maintenance": elsewhere})
    assert answer(mock.get("list.do"))["result"] == "1"
    assert mock.http.post("/_mock/faults", json={"nightly_maintenance": "2:00-3:00"}).status_code == 422


@pytest.mark.parametrize(
    ("window", "at", "inside"),
    [("02:00-02:30", "02:00", True), ("02:00-02:30", "02:30", False), ("23:50-00:20", "00:05", True),
     ("23:50-00:20", "23:49", False), ("23:50-00:20", "23:55", True)],
)
def test_the_nightly_window_may_wrap_past_midnight(window: str, at: str, inside: bool) -> None:
    hour, minute = map(int, at.split(":"))
    moment = datetime(2025, 11, 22, hour, minute, tzinfo=CST)

    assert MaintenanceState(seed=1, nightly=window).in_nightly_window(moment) is inside


def test_outage_errors_and_rate_limit_answer_like_an_old_web_stack(start: Start) -> None:
    mock = start(rate_limit_per_s=3)
    mock.control("/_mock/faults", {"outage_seconds": 600})
    down = mock.get("list.do")
    assert down.status_code == 503 and "<html>" in down.text
    mock.control("/_mock/faults", {"outage_seconds": 0, "error_rate": 1.0, "error_status": 500})
    assert mock.get("list.do").status_code == 500
    mock.control("/_mock/faults", {"error_rate": 0})
    limited = [r for r in (mock.get("list.do") for _ in range(8)) if r.status_code == 429]
    assert limited and all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert json.loads(limited[0].content.decode("gbk"))["result"] == "0"


def test_a_dropped_answer_leaves_the_sign_applied_and_detail_shows_it(mock: Platform) -> None:
    lsh = mock.new_row()
    mock.control("/_mock/faults", {"drop_next": 1})

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        mock.post("sign.do", {"lsh": lsh, "qsr": "值班员甲"})

    assert mock.row(lsh)["zt"] == "02"
    assert mock.control("/_mock/ledger")["count"] == 1
    assert refused(mock.post("sign.do", {"lsh": lsh, "qsr": "值班员甲"})) == "该工单已签收"


def test_platform_events_close_a_row_and_set_its_callback(mock: Platform) -> None:
    lsh = mock.new_row(zt="03", gxsj="2025-11-22 09:00:00", fkxx={"fksj": "2025-11-22 09:00:00", "bljg": "已处理"})
    hfjg = {"myd": "不满意", "hfsj": "2025-11-25 10:00:00", "hfyj": "问题未解决"}

    called = mock.control(f"/_mock/orders/{lsh}/events", {"event_type": "callback", "data": hfjg})["order"]

    assert (called["zt"], called["hfjg"]) == ("04", hfjg) and called["gxsj"] > "2025-11-22 09:00:00"
    assert mock.row(lsh)["hfjg"] == hfjg
    unknown = mock.http.post(f"/_mock/orders/{lsh}/events", json={"event_type": "order.urged"})
    assert unknown.status_code == 400


def test_auto_decide_closes_fed_back_rows_then_calls_back(start: Start) -> None:
    mock = start(auto_decide=True, auto_decide_delay_s=0.05)
    lsh = mock.new_row(zt="02")
    assert answer(mock.post("feedback.do", {"lsh": lsh, **FEEDBACK}))["result"] == "1"

    row = wait_until(lambda: (found := mock.row(lsh))["hfjg"] and found)

    assert row["zt"] == "04" and row["hfjg"]["myd"] in ("满意", "基本满意", "不满意")


def test_the_generator_follows_the_mix_writes_valid_gbk_rows_and_is_deterministic(start: Start) -> None:
    mix = GeneratorSettings(per_min=1200, mix={"求决": 1, "申诉": 1}, urgent_fraction=1.0)

    async def burst(seed: int) -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=create_app(MayorMockConfig(seed=seed, generator=mix)))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            await client.post("/_mock/generator", json={"generate_now": 40})
            items: list[dict[str, Any]] = (await client.get("/_mock/orders")).json()["items"]
        return items

    def content(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:  # times differ from run to run
        return [(r["sqlb"], r["jjcd"], r["ldrxm"], r["lxdh"], r["ldnr"], r["sfdz"]) for r in rows]

    first, same, other = asyncio.run(burst(7)), asyncio.run(burst(7)), asyncio.run(burst(8))
    assert content(first) == content(same) != content(other)
    assert {r["sqlb"] for r in first} == {"求决", "申诉"} and {r["jjcd"] for r in first} <= {"2", "3"}
    for row in first:
        assert set(row) == ROW_FIELDS and row["zt"] == "01" and isinstance(row["blsx"], int)
        assert all(datetime.strptime(row[k], TIME) for k in ("ldsj", "pdsj", "gxsj"))
        json.dumps(row, ensure_ascii=False).encode("gbk")  # every character fits the platform's charset


def test_the_cli_registry_builds_the_mayor_app_with_the_token_and_start_up_faults() -> None:
    platform, options, _ = parse_options(["mayor", "--port", "0", "--app-secret", "tk-cli", "--error-rate", "0.5"])
    app = build_app(platform, options)
    assert app.state.mock.config.token == "tk-cli" and app.state.mock.faults.snapshot()["error_rate"] == 0.5


def test_reset_forgets_rows_ledger_and_switches_and_health_counts_what_happened(start: Start) -> None:
    mock = start(maintenance_rate=0.0)
    lsh = mock.new_row()
    mock.post("sign.do", {"lsh": lsh, "qsr": "甲"})
    mock.control("/_mock/faults", {"maintenance_rate": 1.0, "error_rate": 0.5})
    mock.get("list.do")

    health = mock.control("/_mock/health")
    assert (health["platform"], health["orders"], health["ledger_entries"], health["maintenance_pages"]) == (
        "mayor", 1, 1, 1
    )
    assert mock.control("/_mock/reset", {}) == {"status": "reset", "platform": "mayor"}
    after = mock.control("/_mock/health")
    assert (after["orders"], after["ledger_entries"], after["maintenance_pages"]) == (0, 0, 0)
    assert (after["faults"]["maintenance_rate"], after["faults"]["error_rate"]) == (0.0, 0.0)
