"""The legacy wire format of PLATFORMS.md §3 as the mock speaks it: GBK JSON, GBK forms, HTML pages."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

CHARSET = "gbk"
JSON_TYPE = "application/json;charset=GBK"
HTML_TYPE = "text/html;charset=GBK"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAINTENANCE_PAGE = (
    "<html>\n<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GBK\">"
    "<title>系统维护</title></head>\n<body><h2>系统维护中</h2>"
    "<p>市长热线系统正在进行维护，请稍后再试。给您带来不便，敬请谅解。</p></body>\n</html>\n"
)


class FormError(Exception):
    """A form the platform cannot read; answered with result "0" and the message."""


def gbk_json(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer in GBK, as the platform sends every answer (HTTP 200 even on failure)."""
    raw = json.dumps(body, ensure_ascii=False).encode(CHARSET, errors="replace")
    return Response(content=raw, status_code=status, headers={"Content-Type": JSON_TYPE})


def success(**extra: Any) -> Response:
    """``{"result": "1", "msg": "成功", ...}``."""
    return gbk_json({"result": "1", "msg": "成功", **extra})


def failure(msg: str) -> Response:
    """``{"result": "0", "msg": msg}`` with HTTP 200."""
    return gbk_json({"result": "0", "msg": msg})


def html_page(text: str, status: int = 200) -> Response:
    """An HTML page in GBK (maintenance page, or the web server's own error pages)."""
    return Response(content=text.encode(CHARSET), status_code=status, headers={"Content-Type": HTML_TYPE})


def error_page(status: int, message: str) -> Response:
    """The old web stack's error page: HTML, never the JSON shape; 429 alone answers JSON."""
    if status == 429:
        return gbk_json({"result": "0", "msg": "访问过于频繁，请稍后再试"}, status=429)
    title = f"HTTP Status {status}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>"
    return html_page(page, status)


def parse_form(raw: bytes) -> dict[str, str]:
    """Decode a form body the way the server does: always as GBK, whatever the client declared.

    A UTF-8 client's Chinese turns into mojibake, or into bytes GBK refuses (参数编码错误).
    """
    try:
        text = raw.decode(CHARSET)
        pairs = parse_qsl(text, keep_blank_values=True, encoding=CHARSET, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("参数编码错误") from exc
    return dict(pairs)
