"""The ticket state machine: named transitions, their sources, and that nobody else moves a status."""

from __future__ import annotations

import ast
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.errors import DomainError
from gateway.schema import TicketStatus as T
from gateway.services import ticket_states
from gateway.store.tables import TicketRecord

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def ticket(status: T, **fields: object) -> TicketRecord:
    return TicketRecord(id=7, status=status.value, reopen_count=0, **fields)


def test_sign_moves_a_received_ticket_and_refuses_any_other_naming_the_status() -> None:
    t = ticket(T.received)
    ticket_states.sign(t, by="duty1", at=NOW)
    assert (t.status, t.signed_by, t.signed_at) == ("signed", "duty1", NOW)
    with pytest.raises(DomainError, match="已签收”不能签收") as refused:
        ticket_states.sign(t, by="duty1", at=NOW)
    assert refused.value.code == "invalid_state" and str(refused.value) == "工单当前状态“已签收”不能签收"


def test_a_refusal_reads_chinese_and_its_english_reason_goes_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.services.ticket_states")
    with pytest.raises(DomainError) as refused:
        ticket_states.require(ticket(T.received), ticket_states.SENT, "重办", detail="rework needs a sent reply")
    assert str(refused.value) == "工单当前状态“待签收”不能重办"  # issue 13 point 7: no English gloss
    assert "ticket 7 is received; rework needs a sent reply" in caplog.text
    with pytest.raises(DomainError) as bare:
        ticket_states.require(ticket(T.approved), ticket_states.DISPATCHABLE, "改派", detail="")
    assert str(bare.value) == "工单当前状态“已审批待回传”不能改派"
    assert caplog.records[-1].getMessage() == "refused 改派: ticket 7 is approved"


def test_a_draft_sent_back_returns_to_responded_only_after_a_first_contact() -> None:
    contacted, not_contacted = ticket(T.reply_drafted, responded_at=NOW), ticket(T.reply_drafted)
    ticket_states.send_back_reply(contacted)
    ticket_states.send_back_reply(not_contacted)
    assert (contacted.status, not_contacted.status) == ("responded", "dispatched")


def test_reopen_starts_a_new_cycle_and_voids_the_approval() -> None:
    t = ticket(T.replied, unit="治安大队", reply_approved_by="leader1", reply_approved_at=NOW, replied_at=NOW)
    ticket_states.reopen(t)
    assert (t.status, t.reopen_count, t.reply_approved_by, t.replied_at) == ("dispatched", 1, None, None)
    unassigned = ticket(T.closed)
    ticket_states.reopen(unassigned)
    assert unassigned.status == "signed"


def test_only_an_approved_reply_becomes_replied_when_the_platform_accepts_it() -> None:
    approved, drafted = ticket(T.approved), ticket(T.reply_drafted)
    assert ticket_states.reply_sent(approved, at=NOW) and approved.status == "replied" and approved.replied_at == NOW
    assert not ticket_states.reply_sent(drafted, at=NOW) and drafted.status == "reply_drafted"


def test_a_platform_hint_only_moves_a_ticket_forward() -> None:
    t = ticket(T.responded)
    ticket_states.platform_hint(t, T.signed)
    assert t.status == "responded"
    ticket_states.platform_hint(t, T.closed)
    assert t.status == "closed"


def test_no_module_but_the_state_machine_assigns_a_ticket_status() -> None:
    offenders = []
    for path in GATEWAY.rglob("*.py"):
        if path.name == "ticket_states.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            for target in flat:
                if (isinstance(target, ast.Attribute) and target.attr == "status"
                        and isinstance(target.value, ast.Name) and "ticket" in target.value.id):
                    offenders.append(f"{path.relative_to(GATEWAY.parent)}:{node.lineno}")
    assert offenders == []
