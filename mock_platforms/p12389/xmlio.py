"""The 12389 wire format: cases and answers as XML, request bodies parsed safely.

Everything the platform answers is XML (§2), errors included:
``<response code="N"><message>…</message></response>``. The token endpoint alone speaks JSON.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building only; request bodies are parsed with defusedxml
from collections.abc import Mapping
from typing import Any, cast

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

XML_TYPE = "application/xml; charset=utf-8"
MAX_BODY = 256 * 1024
# §2's table order; bjbmj and fkpj are left out when absent, fj and bgs are written even when empty.
CASE_ELEMENTS = (
    *("jbbh", "cxm", "sxlb", "jbfs", "sfsm", "jbr", "bjbdw", "bjbmj", "fssj", "fsdd", "jbnr", "fj"),
    *("slsj", "xfsj", "ajdj", "blqx", "qszt", "zt", "bgs", "fkpj"),
)
PERSON_ELEMENTS = {"jbr": ("xm", "sfzh", "lxdh", "dz"), "bjbmj": ("xm", "jh", "zw")}


class ApiError(Exception):
    """An API failure answered in the platform's error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def case_element(case: Mapping[str, Any]) -> ET.Element:
    """One ``<case>`` from the mock's dict form of a case."""
    node = ET.Element("case")
    for name in CASE_ELEMENTS:
        value = case.get(name)
        if name in PERSON_ELEMENTS:
            if value is None and name == "bjbmj":
                continue
            person = ET.SubElement(node, name)
            for part in PERSON_ELEMENTS[name]:
                ET.SubElement(person, part).text = str((value or {}).get(part) or "")
        elif name == "fj":
            files = ET.SubElement(node, "fj")
            for item in value or []:
                ET.SubElement(files, "wj", {"mc": item["mc"], "url": item["url"], "lx": item["lx"]})
        elif name == "bgs":
            reports = ET.SubElement(node, "bgs")
            for item in value or []:
                ET.SubElement(reports, "bg", {"wbbh": item["wbbh"], "sj": item["sj"]})
        elif value is not None:
            ET.SubElement(node, name).text = str(value)
    return node


def xml_response(root: ET.Element, status: int = 200) -> Response:
    """Serialise an element as the platform's XML answer."""
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(content=body, status_code=status, media_type=XML_TYPE)


def answer(code: int, message: str) -> ET.Element:
    """``<response code="N"><message>…</message></response>``."""
    root = ET.Element("response", {"code": str(code)})
    ET.SubElement(root, "message").text = message
    return root


def ok_response() -> Response:
    """The success answer of a write-back."""
    return xml_response(answer(0, "ok"))


def error_response(status: int, message: str) -> Response:
    """An error in the platform's shape (also used by the fault middleware)."""
    response = xml_response(answer(status, message), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def parse_request(raw: bytes) -> dict[str, str]:
    """The child elements of a ``<request>`` body as text, or 400."""
    if len(raw) > MAX_BODY:
        raise ApiError(400, f"request body larger than {MAX_BODY} bytes")
    try:
        root = cast(ET.Element, fromstring(raw, forbid_dtd=True))
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise ApiError(400, f"request body is not well-formed XML ({type(exc).__name__})") from exc
    if root.tag != "request":
        raise ApiError(400, "request body must be <request>")
    return {child.tag: (child.text or "").strip() for child in root}


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Exception handler for ApiError."""
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path, wrong method): XML under /api, the control API's JSON elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    response: Response
    if request.url.path.startswith("/api/"):
        response = error_response(exc.status_code, str(exc.detail))
    else:
        response = JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response
