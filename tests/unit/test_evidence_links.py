"""Signed evidence links: only ours, only for that file, only until they expire; stable across re-sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.errors import Forbidden, PermanentError
from gateway.services.evidence import EvidenceLinks, resolve_links

ISSUED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LINKS = EvidenceLinks(base_url="https://gateway.example.gov.cn/", key=b"k" * 32, ttl=timedelta(days=90))
REPLY = {"investigation": "经核查属实", "attachments": [
    {"name": "整改后.png", "url": "evidence:7", "mime": "image/png", "size": 120},
    {"name": "平台原附件.jpg", "url": "https://platform.example/f/1.jpg", "mime": "image/jpeg", "size": 9},
]}


def parts(url: str) -> tuple[str, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, int(query["expires"][0]), query["sig"][0]


def test_a_link_opens_its_file_until_it_expires() -> None:
    path, expires, sig = parts(LINKS.url(7, issued=ISSUED))
    assert path == "/files/evidence/7" and expires == int((ISSUED + timedelta(days=90)).timestamp())
    LINKS.check(7, expires=expires, sig=sig, now=ISSUED + timedelta(days=89))
    with pytest.raises(Forbidden, match="过期"):
        LINKS.check(7, expires=expires, sig=sig, now=ISSUED + timedelta(days=91))


@pytest.mark.parametrize("tamper", ["other file", "later expiry", "other key", "garbage"])
def test_a_tampered_link_opens_nothing(tamper: str) -> None:
    _, expires, sig = parts(LINKS.url(7, issued=ISSUED))
    evidence_id = 8 if tamper == "other file" else 7
    expires = expires + 86_400 if tamper == "later expiry" else expires
    sig = "x" * len(sig) if tamper == "garbage" else sig
    links = EvidenceLinks(LINKS.base_url, b"other" * 8, LINKS.ttl) if tamper == "other key" else LINKS
    with pytest.raises(Forbidden, match="无效"):
        links.check(evidence_id, expires=expires, sig=sig, now=ISSUED)


def test_resolving_turns_only_our_references_into_links_and_is_the_same_on_every_resend() -> None:
    first = resolve_links(REPLY, LINKS, issued=ISSUED)
    assert first == resolve_links(REPLY, LINKS, issued=ISSUED)  # a re-send carries the same body
    ours, theirs = first["attachments"]
    assert ours["url"].startswith("https://gateway.example.gov.cn/files/evidence/7?expires=")
    assert {k: ours[k] for k in ("name", "mime", "size")} == {"name": "整改后.png", "mime": "image/png", "size": 120}
    assert theirs == REPLY["attachments"][1]
    assert REPLY["attachments"][0]["url"] == "evidence:7"  # the stored payload is left as it was
    assert first["investigation"] == "经核查属实"


def test_without_a_public_url_evidence_is_never_sent_as_a_dead_reference() -> None:
    with pytest.raises(PermanentError, match="GATEWAY_PUBLIC_URL"):
        resolve_links(REPLY, None, issued=ISSUED)
    no_files = {"investigation": "经核查属实", "attachments": []}
    assert resolve_links(no_files, None, issued=ISSUED) == no_files
