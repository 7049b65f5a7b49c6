"""Every mapper's errors name the field but never show a phone, ID number, name or complaint text.

The text of a ``MappingError`` is kept on the inbox row and written to the log; the 12345 mapper used
to show ``value=13812345670`` for a phone sent as a number.
"""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import MappingError
from gateway.redaction import RedactingFilter, scrub, shown_value
from mappers.mailbox import MailboxMapper
from mappers.mayor import MayorMapper
from mappers.p12345 import P12345Mapper
from mappers.p12389 import P12389Mapper

FIXTURES = Path(__file__).parents[1] / "fixtures"
PHONE, NAME, ID_NO = 13812345670, "柳岸明", "99010119900307002X"


def json_fixture(platform: str, name: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))
    for path, value in changes.items():
        target = document
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value
    return document


def refusal(mapper: Any, event_type: str, payload: str) -> MappingError:
    with pytest.raises(MappingError) as caught:
        mapper.inbound(event_type, payload)
    return caught.value


CASES = [
    ("12345 phone as a number", P12345Mapper(), "order.dispatched",
     json.dumps(json_fixture("p12345", "push_order_dispatched.json", **{"data.citizen.phone": PHONE})),
     "data.citizen.phone"),
    ("12345 name as a list", P12345Mapper(), "order.dispatched",
     json.dumps(json_fixture("p12345", "push_order_dispatched.json", **{"data.citizen.name": [NAME, ID_NO]})),
     "data.citizen.name"),
    ("12345 content as a number", P12345Mapper(), "order.dispatched",
     json.dumps(json_fixture("p12345", "push_order_dispatched.json", **{"data.content": PHONE})),
     "data.content"),
    ("12345 payload that is not JSON", P12345Mapper(), "order.dispatched",
     f'{{"citizen": {{"name": "{NAME}", "phone": "{PHONE}"', "payload"),
    ("mayor phone as a number", MayorMapper(), "order.snapshot",
     json.dumps(json_fixture("mayor", "row_base.json", lxdh=PHONE), ensure_ascii=False), "lxdh"),
    ("mayor name as a number", MayorMapper(), "order.snapshot",
     json.dumps(json_fixture("mayor", "row_base.json", ldrxm=PHONE), ensure_ascii=False), "ldrxm"),
    ("mailbox phone as a number", MailboxMapper(), "letter.snapshot",
     json.dumps(json_fixture("mailbox", "letter_pending.json", **{"writer.phone": PHONE}), ensure_ascii=False),
     "writer.phone"),
    ("mailbox name as an object", MailboxMapper(), "letter.snapshot",
     json.dumps(json_fixture("mailbox", "letter_pending.json", **{"writer.name": {"xm": NAME}}),
                ensure_ascii=False), "writer.name"),
    ("12389 reporter phone with a child element", P12389Mapper(), "case.snapshot",
     '<snapshot observed="2025-11-22T10:30:00+08:00" version="1">'
     + (FIXTURES / "p12389" / "case_base.xml").read_text(encoding="utf-8").replace(
         "<lxdh>13900001234</lxdh>", f"<lxdh>{PHONE}<b>{NAME}</b></lxdh>") + "</snapshot>", "jbr/lxdh"),
]


@pytest.mark.parametrize(("what", "mapper", "event_type", "payload", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_mapping_error_names_the_field_and_hides_the_personal_value(
    what: str, mapper: Any, event_type: str, payload: str, field: str
) -> None:
    error = refusal(mapper, event_type, payload)
    text = str(error)
    assert error.field is not None and error.field.endswith(field.split(".")[-1]), (what, error.field)
    for secret in (str(PHONE), NAME, ID_NO, "13900001234"):
        assert secret not in text, (what, text)


def test_a_non_personal_value_is_still_shown_to_help_fix_the_mapping() -> None:
    payload = json.dumps(json_fixture("p12345", "push_order_dispatched.json", **{"data.appealType": "投诉X"}))
    text = str(refusal(P12345Mapper(), "order.dispatched", payload))
    assert "data.appealType" in text and "投诉X" in text


@pytest.mark.parametrize("value", ["联系电话13812345670", "身份证 11010519491231002X", "0558-1234567"])
def test_phones_and_id_numbers_are_masked_even_in_a_field_not_known_as_personal(value: str) -> None:
    shown = shown_value("data.remark_code", value)
    assert not re.search(r"1[3-9]\d{9}|\d{17}[\dXx]|0\d{2,3}-\d{7,8}", shown), shown
    assert scrub("call 13812345670 now") == "call 138****5670 now"


def test_database_errors_never_carry_their_parameters_into_a_message(db_url: str) -> None:
    """SQLAlchemy puts a failed statement's parameters into the error text, unless the engine hides them."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from gateway.store.db import make_engine

    engine = make_engine(db_url)
    insert = text("INSERT INTO webhook_nonces (platform, nonce, seen_at) VALUES (:p, :n, :t)")
    row = {"p": "p12345", "n": f"{NAME}{PHONE}", "t": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)}
    with engine.begin() as conn:
        conn.execute(insert, row)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert, row)
    engine.dispose()
    assert "[SQL parameters hidden" in str(caught.value)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter())  # PostgreSQL's own DETAIL line quotes the key: dropped on the way out
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.error("insert failed", exc_info=caught.value)
    finally:
        logger.removeHandler(handler)
    assert "insert failed" in buffer.getvalue() and "IntegrityError" in buffer.getvalue()
    assert NAME not in buffer.getvalue() and str(PHONE) not in buffer.getvalue()
