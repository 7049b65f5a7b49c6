"""12389 XML on the wire (PLATFORMS.md §2): safe parsing with a size limit, request bodies, case fields.

Parsing goes through defusedxml with DTDs forbidden, so no entity can expand (billion laughs) and
no external resource is fetched, and with a depth limit (``gateway.xmlsafe``); responses are read
in chunks and refused past ``MAX_RESPONSE_BYTES`` (counted after gzip decoding, so a compressed
bomb is refused too). Error messages never quote the document: a case carries the reporter's
identity (jbr), which must not reach a log.
"""

from __future__ import annotations

import copy
import hashlib
import re
import xml.etree.ElementTree as ET  # building and serialising only; parsing is defusedxml's
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import cast

import httpx
from defusedxml import DefusedXmlException

from gateway import xmlsafe

MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a page of 50 cases is ~100 KB; anything near this is not ours
ELEMENT_NAME = re.compile(r"^[a-z][a-z0-9]*$")
# Characters XML 1.0 cannot carry at all (C0 controls but tab, CR, LF; surrogates; U+FFFE/FFFF).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class XmlRefused(ValueError):
    """A body that is not well-formed, safe XML of an acceptable size (the message quotes no content)."""


def read_limited(response: httpx.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The body of a streamed response, refusing more than ``limit`` bytes before reading them all."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise XmlRefused(f"response of {int(declared)} bytes refused (limit {limit})")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise XmlRefused(f"response larger than {limit} bytes refused")
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes) -> ET.Element:
    """The root element of ``data``; DTDs, entities and external references are refused."""
    if len(data) > MAX_RESPONSE_BYTES:
        raise XmlRefused(f"document larger than {MAX_RESPONSE_BYTES} bytes refused")
    try:
        return xmlsafe.parse(data)
    except DefusedXmlException as exc:
        raise XmlRefused(f"unsafe XML refused ({type(exc).__name__})") from exc
    except xmlsafe.TooDeep as exc:
        raise XmlRefused(f"XML refused: {exc}") from exc
    except ET.ParseError as exc:
        # ParseError says only where it failed ("not well-formed: line 1, column 9"), never what.
        raise XmlRefused(f"not well-formed XML ({exc})") from exc


def request_body(fields: Mapping[str, object]) -> bytes:
    """``<request>`` with one child element per field, in order, UTF-8 with a declaration."""
    root = ET.Element("request")
    for name, value in fields.items():
        if not ELEMENT_NAME.match(name):
            raise ValueError(f"not an element name of §2: {name!r}")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"element {name} must be text or an integer, not {type(value).__name__}")
        # A stray control character (pasted from a word processor) would make the whole body
        # malformed XML; it carries no meaning, so it is dropped rather than failing the write-back.
        ET.SubElement(root, name).text = NOT_XML.sub("", str(value))
    return cast(bytes, ET.tostring(root, encoding="utf-8", xml_declaration=True))


def text_of(parent: ET.Element, name: str) -> str | None:
    """The stripped text of a child element, None when absent; an empty element gives ''."""
    child = parent.find(name)
    return None if child is None else (child.text or "").strip()


def cases_of(root: ET.Element) -> tuple[list[ET.Element], int | None]:
    """The ``<case>`` elements of a list answer and its ``total`` (None when absent or not a number)."""
    holder = root.find("cases")
    if holder is None:
        raise XmlRefused("list answer without <cases>")
    total = holder.get("total", "").strip()
    return holder.findall("case"), int(total) if total.isdigit() else None


def single_case(root: ET.Element) -> ET.Element:
    """The case of a detail answer: ``<response code="0"><case/></response>`` or a bare ``<case>``."""
    case = root if root.tag == "case" else root.find("case")
    if case is None:
        raise XmlRefused("detail answer without <case>")
    return case


def report_refs(case: ET.Element) -> Iterator[tuple[str, str | None]]:
    """(wbbh, sj) of every report the platform holds for the case (``bgs/bg``)."""
    for bg in case.findall("bgs/bg"):
        yield (bg.get("wbbh") or "").strip(), bg.get("sj")


def fingerprint(case: ET.Element) -> str:
    """A digest of the case's content, blind to indentation and attribute order (XML C14N 2.0)."""
    detached = copy.copy(case)
    detached.tail = None  # whitespace after </case> belongs to the list, not to the case
    canonical = ET.canonicalize(ET.tostring(detached, encoding="unicode"), strip_text=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def envelope(case: ET.Element, *, observed: datetime, version: int) -> str:
    """The inbox payload: the case as received, wrapped with when we read it and our version stamp.

    12389 cases carry neither a version nor an update time, so the stamp (our read time, strictly
    increasing per case; see ``adapters.p12389.cursor``) is what keeps updates from going backwards.
    """
    wrapper = ET.Element("snapshot", {"observed": observed.isoformat(timespec="seconds"), "version": str(version)})
    detached = copy.copy(case)
    detached.tail = None
    wrapper.append(detached)
    return ET.tostring(wrapper, encoding="unicode")


def rating_envelope(jbbh: str, fkpj: str, *, observed: datetime, version: int) -> str:
    """The payload of a 举报人评价 notice: only the case number and the evaluation, nothing personal."""
    wrapper = ET.Element("snapshot", {"observed": observed.isoformat(timespec="seconds"), "version": str(version)})
    case = ET.SubElement(wrapper, "case")
    ET.SubElement(case, "jbbh").text = jbbh
    ET.SubElement(case, "fkpj").text = fkpj
    return ET.tostring(wrapper, encoding="unicode")


def response_message(root: ET.Element) -> tuple[str | None, str]:
    """(code, message) of a ``<response code="N"><message>…</message></response>``."""
    return root.get("code"), (text_of(root, "message") or "")[:200]
