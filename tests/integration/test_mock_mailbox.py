"""The mock 局长信箱 keeps PLATFORMS.md §4 over real HTTP; requests are written from the spec, not the mock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_platforms.cli import build_app, parse_options
from mock_platforms.common import GeneratorSettings, ServerHandle, serve_in_thread
from mock_platforms.mailbox import MailboxMockConfig, create_app

API_KEY = "test-key-7f3a90c1"
KEY_HEADER = {"Authorization": f"Bearer {API_KEY}"}
ENUMS = {
    "letter_type": {"咨询", "投诉", "建议", "求助"},
    "status": {"pending_review", "accepted", "answered", "transferred", "invalid", "duplicate"},
}
LETTER_FIELDS = {
    *("letter_no", "query_code", "letter_type", "title", "body", "writer", "target_dept", "attachments"),
    *("submitted_at", "forwarded_at", "status", "wants_public", "answer", "rating", "updated_at"),
}
ACCEPT = {"accepted_by": "值班员甲", "accepted_at": 1763949735088}
ANSWER = {"text": "您反映的问题已核实处理。", "dept": "治安支队", "publish": False, "approved_by": "分管领导丙"}
TRANSFER = {"reason": "不属于公安机关职责", "to": "其他单位"}


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until check() is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return result


class Platform:
    """A running mock with an API client (Bearer key) and an unauthenticated control client."""

    def __init__(self, handle: ServerHandle) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=5, trust_env=False)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=KEY_HEADER)

    def write(self, letter_no: str, endpoint: str, body: Any, method: str | None = None) -> httpx.Response:
        chosen = method or ("POST" if endpoint == "transfer" else "PUT")
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {**KEY_HEADER, "Content-Type": "application/json"}
        return self.http.request(chosen, f"/v2/letters/{letter_no}/{endpoint}", content=raw, headers=headers)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body) if body is not None else self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def new_letter(self, **overrides: Any) -> str:
        return str(self.control("/_mock/letters", overrides)["letter_no"])

    def ledger(self, **filters: str) -> dict[str, Any]:
        return dict(self.control(f"/_mock/ledger?{httpx.QueryParams(filters)}"))


Start = Callable[..., Platform]


@pytest.fixture
def start() -> Iterator[Start]:
    platforms: list[Platform] = []

    def run(**config: Any) -> Platform:
        config.setdefault("rate_limit_per_s", 1000)  # the rate-limit test sets §4's own 5/s
        platforms.append(Platform(serve_in_thread(create_app(MailboxMockConfig(api_key=API_KEY, **config)))))
        return platforms[-1]

    yield run
    for platform in platforms:
        platform.http.close()
        platform.handle.stop()


@pytest.fixture
def mock(start: Start) -> Platform:
    return start()


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# -- auth and reads -------------------------------------------------------------------------------


def test_a_missing_or_wrong_key_gets_401_unauthorized_and_changes_nothing(mock: Platform) -> None:
    letter_no = mock.new_letter()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
        assert error_of(mock.http.get("/v2/letters", headers=headers)) == (401, "unauthorized")
    forged = mock.http.put(f"/v2/letters/{letter_no}/acceptance", json=ACCEPT, headers={"Authorization": "Bearer x"})
    assert error_of(forged) == (401, "unauthorized")
    assert mock.get(f"/v2/letters/{letter_no}").json()["status"] == "pending_review"
    assert mock.ledger()["count"] == 0 and mock.control("/_mock/health")["auth_rejected"] == 4


def test_generated_letters_follow_the_letter_object_of_the_spec(mock: Platform) -> None:
    mock.control("/_mock/generator", {"generate_now": 30})
    letters = mock.get("/v2/letters", limit=100).json()["letters"]
    assert len(letters) == 30
    for letter in letters:
        assert set(letter) == LETTER_FIELDS
        assert letter["letter_type"] in ENUMS["letter_type"] and letter["status"] == "pending_review"
        assert len(letter["title"]) <= 25 and len(letter["body"]) <= 600
        assert len(letter["query_code"]) == 10 and letter["query_code"].isdigit()
        assert set(letter["writer"]) == {"name", "phone", "email", "address"}
        for field in ("submitted_at", "forwarded_at", "updated_at"):
            assert isinstance(letter[field], int) and letter[field] > 10**12  # epoch ms, not seconds
        assert letter["submitted_at"] < letter["forwarded_at"] <= letter["updated_at"]
        assert all(set(a) == {"file_name", "url", "size"} for a in letter["attachments"])


def test_one_letter_is_read_by_its_number_and_an_unknown_one_is_404_not_found(mock: Platform) -> None:
    letter_no = mock.new_letter(title="测试信件")
    assert mock.get(f"/v2/letters/{letter_no}").json()["title"] == "测试信件"
    assert error_of(mock.get("/v2/letters/JZ-nope")) == (404, "not_found")


# -- the change feed ------------------------------------------------------------------------------


def test_the_feed_pages_with_next_cursor_and_has_more_until_the_end(mock: Platform) -> None:
    numbers = [mock.new_letter() for _ in range(5)]
    seen, cursor, pages = [], None, []
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = mock.get("/v2/letters", **params).json()
        seen += [letter["letter_no"] for letter in page["letters"]]
        pages.append((len(page["letters"]), page["has_more"]))
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == numbers and pages == [(2, True), (2, True), (1, False)]
    assert mock.get("/v2/letters", cursor=cursor).json() == {"letters": [], "next_cursor": None, "has_more": False}


def test_a_changed_letter_reappears_after_a_stored_cursor_with_a_later_update_time(mock: Platform) -> None:
    first, second = mock.new_letter(), mock.new_letter()
    page = mock.get("/v2/letters").json()
    before = {letter["letter_no"]: letter["updated_at"] for letter in page["letters"]}
    mock.control(f"/_mock/letters/{first}/changes", {"title": "标题更正"})

    again = mock.get("/v2/letters", cursor=page["next_cursor"]).json()

    assert [letter["letter_no"] for letter in again["letters"]] == [first]
    assert again["letters"][0]["updated_at"] > before[first] and second in before
    # The cursor is stable: asking with it again gives the same answer.
    assert mock.get("/v2/letters", cursor=page["next_cursor"]).json() == again


def test_a_letter_that_changes_while_a_client_pages_is_seen_again_at_the_end(mock: Platform) -> None:
    numbers = [mock.new_letter() for _ in range(3)]
    page = mock.get("/v2/letters", limit=2).json()
    mock.write(numbers[0], "acceptance", ACCEPT)
    rest = mock.get("/v2/letters", limit=2, cursor=page["next_cursor"]).json()
    assert [letter["letter_no"] for letter in rest["letters"]] == [numbers[2], numbers[0]]
    assert rest["letters"][1]["status"] == "accepted"


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "x"}, "limit"),
                          ({"cursor": "not-a-cursor"}, "cursor")]
)
def test_a_bad_limit_or_cursor_is_400_invalid_argument_naming_it(
    mock: Platform, params: dict[str, Any], field: str
) -> None:
    response = mock.get("/v2/letters", **params)
    assert error_of(response) == (400, "invalid_argument") and field in response.json()["error"]["message"]


# -- write-backs ----------------------------------------------------------------------------------


def test_a_repeated_identical_acceptance_is_harmless_and_leaves_one_ledger_entry(mock: Platform) -> None:
    letter_no = mock.new_letter()
    first = mock.write(letter_no, "acceptance", ACCEPT)
    again = mock.write(letter_no, "acceptance", ACCEPT)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "accepted" and again.json() == first.json()
    ledger = mock.ledger(order_no=letter_no)
    assert (ledger["count"], ledger["duplicates"]) == (1, 1)
    assert ledger["entries"][0]["action"] == "acceptance" and ledger["entries"][0]["body"] == ACCEPT


def test_an_answer_needs_an_accepted_letter(mock: Platform) -> None:
    letter_no = mock.new_letter()
    response = mock.write(letter_no, "answer", ANSWER)
    assert error_of(response) == (409, "conflict") and mock.ledger()["count"] == 0


def test_an_identical_answer_is_harmless_a_different_one_replaces_it_until_the_letter_is_rated(mock: Platform) -> None:
    letter_no = mock.new_letter()
    mock.write(letter_no, "acceptance", ACCEPT)
    answered = mock.write(letter_no, "answer", ANSWER).json()
    assert answered["status"] == "answered"
    assert {k: answered["answer"][k] for k in ("text", "dept", "published")} == {
        "text": ANSWER["text"], "dept": "治安支队", "published": False
    }
    assert isinstance(answered["answer"]["answered_at"], int)
    assert mock.write(letter_no, "answer", ANSWER).json() == answered
    better = {**ANSWER, "text": "补充答复：已加强夜间巡逻。"}
    assert mock.write(letter_no, "answer", better).json()["answer"]["text"] == better["text"]
    mock.control(f"/_mock/letters/{letter_no}/rating", {"score": 4})
    assert error_of(mock.write(letter_no, "answer", ANSWER)) == (409, "conflict")
    assert mock.write(letter_no, "answer", better).status_code == 200  # the same body is still harmless
    ledger = mock.ledger(order_no=letter_no, action="answer")
    assert [e["body"]["text"] for e in ledger["entries"]] == [ANSWER["text"], better["text"]]
    assert mock.ledger()["duplicates"] == 2


def test_a_second_transfer_is_409_already_transferred_and_counted_as_a_duplicate(mock: Platform) -> None:
    letter_no = mock.new_letter()
    assert mock.write(letter_no, "transfer", TRANSFER).json()["status"] == "transferred"
    assert error_of(mock.write(letter_no, "transfer", TRANSFER)) == (409, "already_transferred")
    ledger = mock.ledger(order_no=letter_no)
    assert ledger["count"] == 1 and ledger["entries"][0]["replays"] == 1 and ledger["duplicates"] == 1
    assert mock.control("/_mock/health")["transfer_conflicts"] == 1
    assert error_of(mock.write(letter_no, "acceptance", ACCEPT)) == (409, "conflict")


def test_an_answered_letter_can_no_longer_be_transferred(mock: Platform) -> None:
    letter_no = mock.new_letter()
    mock.write(letter_no, "acceptance", ACCEPT)
    mock.write(letter_no, "answer", ANSWER)
    assert error_of(mock.write(letter_no, "transfer", {"reason": "转信访", "to": "信访"})) == (409, "conflict")


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("acceptance", {"accepted_by": "值班员甲"}, "accepted_at"),
        ("acceptance", {**ACCEPT, "accepted_at": 1763949735}, "accepted_at"),
        ("acceptance", {**ACCEPT, "accepted_at": "1763949735088"}, "accepted_at"),
        ("acceptance", {**ACCEPT, "requestId": "hg1"}, "requestId"),
        ("answer", {**ANSWER, "text": " "}, "text"),
        ("answer", {**ANSWER, "publish": "false"}, "publish"),
        ("answer", {k: v for k, v in ANSWER.items() if k != "approved_by"}, "approved_by"),
        ("transfer", {**TRANSFER, "to": "市场监管局"}, "to"),
        ("transfer", {"to": "信访"}, "reason"),
        ("transfer", b"not json", "body"),
    ],
)
def test_an_invalid_write_back_body_is_400_invalid_argument_naming_the_field(
    mock: Platform, endpoint: str, body: Any, field: str
) -> None:
    letter_no = mock.new_letter(status="accepted")
    response = mock.write(letter_no, endpoint, body)
    assert error_of(response) == (400, "invalid_argument") and field in response.json()["error"]["message"]
    assert mock.ledger()["count"] == 0


def test_wrong_methods_and_unknown_write_backs_are_refused_in_the_platform_s_shape(mock: Platform) -> None:
    letter_no = mock.new_letter()
    assert mock.write(letter_no, "acceptance", ACCEPT, method="POST").status_code == 405
    assert mock.write(letter_no, "transfer", TRANSFER, method="PUT").status_code == 405
    assert error_of(mock.write(letter_no, "extension", {"days": 3})) == (404, "not_found")
    assert error_of(mock.write("JZ-nope", "acceptance", ACCEPT)) == (404, "not_found")


# -- ratings, changes, generator ------------------------------------------------------------------


def test_a_rating_arrives_later_as_a_change_of_an_answered_letter_only(mock: Platform) -> None:
    letter_no = mock.new_letter()
    response = mock.http.post(f"/_mock/letters/{letter_no}/rating", json={"score": 5})
    assert response.status_code == 409
    mock.write(letter_no, "acceptance", ACCEPT)
    answered = mock.write(letter_no, "answer", ANSWER).json()
    page = mock.get("/v2/letters").json()
    rated = mock.control(f"/_mock/letters/{letter_no}/rating", {"score": 2, "comment": "还没解决"})
    assert rated["rating"]["score"] == 2 and rated["rating"]["comment"] == "还没解决"
    assert rated["rating"]["rated_at"] >= answered["answer"]["answered_at"]
    assert rated["updated_at"] > answered["updated_at"]
    feed = mock.get("/v2/letters", cursor=page["next_cursor"]).json()["letters"]
    assert [(x["letter_no"], x["rating"]["score"]) for x in feed] == [(letter_no, 2)]
    assert mock.http.post(f"/_mock/letters/{letter_no}/rating", json={}).status_code == 409


def test_writers_rate_answers_by_themselves_when_auto_rating_is_on(start: Start) -> None:
    mock = start(auto_rate=True, auto_rate_delay_s=0.1)
    letter_no = mock.new_letter()
    mock.write(letter_no, "acceptance", ACCEPT)
    mock.write(letter_no, "answer", ANSWER)
    rating = wait_until(lambda: mock.get(f"/v2/letters/{letter_no}").json()["rating"])
    assert 1 <= rating["score"] <= 5


def test_control_changes_move_a_letter_in_the_feed_but_never_its_number(mock: Platform) -> None:
    letter_no = mock.new_letter()
    changed = mock.control(f"/_mock/letters/{letter_no}/changes", {"status": "duplicate"})
    assert changed["status"] == "duplicate"
    assert mock.http.post(f"/_mock/letters/{letter_no}/changes", json={"letter_no": "X"}).status_code == 400
    assert mock.http.post("/_mock/letters", json={"letter_no": letter_no}).status_code == 409


def test_the_generator_follows_its_mix_and_marks_urgent_letters_within_the_title_limit(mock: Platform) -> None:
    state = mock.control("/_mock/generator", {"mix": {"求助": 1}, "urgent_fraction": 1, "generate_now": 8})
    assert state["generated"] == 8
    letters = mock.control("/_mock/letters")["items"]
    assert {x["letter_type"] for x in letters} == {"求助"}
    assert all(x["title"].startswith("【紧急】") and len(x["title"]) <= 25 for x in letters)


def test_the_timed_generator_creates_letters_at_its_rate(start: Start) -> None:
    mock = start(generator=GeneratorSettings(enabled=True, per_min=1200, mix={"咨询": 1}))
    wait_until(lambda: mock.control("/_mock/letters")["count"] >= 3)


# -- faults, rate limit, reset --------------------------------------------------------------------


def test_more_than_five_requests_a_second_get_429_rate_limited_with_retry_after(start: Start) -> None:
    mock = start(rate_limit_per_s=5)
    responses = [mock.get("/v2/letters") for _ in range(8)]
    limited = [r for r in responses if r.status_code == 429]
    assert [r.status_code for r in responses[:5]] == [200] * 5 and limited
    assert error_of(limited[0]) == (429, "rate_limited") and int(limited[0].headers["Retry-After"]) >= 1
    assert mock.control("/_mock/health")["rate_limited"] == len(limited)


def test_an_outage_answers_503_unavailable_and_injected_errors_use_the_error_shape(mock: Platform) -> None:
    mock.control("/_mock/faults", {"outage_seconds": 30})
    assert error_of(mock.get("/v2/letters")) == (503, "unavailable")
    mock.control("/_mock/faults", {"outage_seconds": 0, "error_rate": 1, "error_status": 500})
    assert error_of(mock.get("/v2/letters")) == (500, "internal")
    mock.control("/_mock/faults", {"error_rate": 0})
    assert mock.get("/v2/letters").status_code == 200


def test_a_dropped_response_still_applies_the_write_back(mock: Platform) -> None:
    letter_no = mock.new_letter()
    mock.control("/_mock/faults", {"drop_next": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        mock.write(letter_no, "transfer", TRANSFER)
    assert mock.get(f"/v2/letters/{letter_no}").json()["status"] == "transferred"
    assert mock.ledger()["count"] == 1
    assert mock.control("/_mock/faults")["counters"]["responses_dropped"] == 1


def test_reset_forgets_letters_ledger_and_switches(mock: Platform) -> None:
    letter_no = mock.new_letter()
    mock.write(letter_no, "acceptance", ACCEPT)
    mock.control("/_mock/faults", {"error_rate": 0.5})
    assert mock.http.post("/_mock/reset").json() == {"status": "reset", "platform": "mailbox"}
    health = mock.control("/_mock/health")
    assert (health["letters"], health["ledger_entries"], health["faults"]["error_rate"]) == (0, 0, 0.0)


def test_the_command_line_serves_the_mailbox_with_the_secret_as_its_api_key() -> None:
    _, options, _ = parse_options(["mailbox", "--port", "0", "--app-secret", API_KEY, "--rate-limit", "7"])
    with serve_in_thread(build_app("mailbox", options)) as handle:
        client = httpx.Client(base_url=handle.url, trust_env=False)
        assert client.get("/v2/letters", headers=KEY_HEADER).status_code == 200
        assert client.get("/_mock/health").json()["platform"] == "mailbox"
        client.close()
