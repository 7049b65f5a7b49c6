"""Reading 12389 XML for the mapper: every refusal is a ``MappingError`` naming the element path.

Paths are written like XPath relative to ``<case>``: ``sxlb``, ``jbr/xm``, ``fj/wj[0]@url``.
Values of the reporter's elements (jbr) are never put into an error: they go out as ``REDACTED``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # types only; parsing is defusedxml's
from datetime import date, datetime, time

from defusedxml import DefusedXmlException

from gateway import xmlsafe
from gateway.errors import MappingError
from gateway.schema import SHANGHAI

LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # §2: yyyy-MM-ddTHH:mm:ss, no offset
LOCAL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
END_OF_DAY = time(23, 59, 59)
REDACTED = "<redacted>"


def load(payload: str) -> ET.Element:
    """The root of an inbox payload; DTDs and entities are refused, and no content is echoed."""
    try:
        return xmlsafe.parse(payload.encode("utf-8"))
    except (DefusedXmlException, xmlsafe.TooDeep) as exc:
        raise MappingError(f"payload is unsafe XML ({type(exc).__name__})", field="payload") from exc
    except (ET.ParseError, UnicodeEncodeError) as exc:
        raise MappingError(f"payload is not well-formed XML ({exc})", field="payload") from exc


def element(parent: ET.Element, name: str, path: str = "") -> ET.Element:
    """A required child element."""
    child = parent.find(name)
    if child is None:
        raise MappingError("missing required element", field=f"{path}{name}")
    return child


def leaf(node: ET.Element, field: str, *, personal: bool = False) -> str:
    """The stripped text of an element that must not have children."""
    if len(node):
        raise MappingError("element has child elements", field=field, value=REDACTED if personal else node[0].tag)
    return (node.text or "").strip()


def text(parent: ET.Element, name: str, path: str = "", *, empty_ok: bool = False) -> str:
    """The text of a required child element (non-empty unless ``empty_ok``)."""
    value = leaf(element(parent, name, path), f"{path}{name}")
    if not value and not empty_ok:
        raise MappingError("empty required element", field=f"{path}{name}")
    return value


def optional_text(parent: ET.Element, name: str, path: str = "") -> str | None:
    """The text of an optional child element: None when absent or empty."""
    child = parent.find(name)
    return None if child is None else (leaf(child, f"{path}{name}") or None)


def local_time(value: str, field: str) -> datetime:
    """§2's local ``yyyy-MM-ddTHH:mm:ss`` as an aware Asia/Shanghai time."""
    if not LOCAL_TIME.match(value):
        raise MappingError("not a local time yyyy-MM-ddTHH:mm:ss", field=field, value=value)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise MappingError("not a valid date and time", field=field, value=value) from exc


def end_of_day(value: str, field: str) -> datetime:
    """A ``yyyy-MM-dd`` deadline as 23:59:59 Asia/Shanghai of that day."""
    if not LOCAL_DATE.match(value):
        raise MappingError("not a date yyyy-MM-dd", field=field, value=value)
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise MappingError("not a valid date", field=field, value=value) from exc
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def aware_time(value: str | None, field: str) -> datetime:
    """An ISO-8601 time with an offset (our own envelope's ``observed``)."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError as exc:
        raise MappingError("not an ISO-8601 time", field=field, value=value) from exc
    if moment.utcoffset() is None:
        raise MappingError("time without a UTC offset", field=field, value=value)
    return moment.astimezone(SHANGHAI)
