"""12389-specific ``/_mock`` routes: create and change cases, and the token switches.

GET  /_mock/cases                  {"count", "items": [case…]} newest first (the list's order)
GET  /_mock/cases/{jbbh}           the case (JSON form)
POST /_mock/cases                  body: case fields to override (JSON) -> the new case
POST /_mock/cases/{jbbh}/changes   body: fields to change (zt, fkpj, blqx, …) -> the case
GET|POST /_mock/auth               body: {"expires_in": s, "revoke": bool} -> token settings and counters
GET|POST /_mock/paging             body: {"arrivals_per_page": n} -> cases inserted before each later page
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mock_platforms.common.control import CONTROL_PREFIX, control_error, json_object
from mock_platforms.p12389.mock import P12389Mock
from mock_platforms.p12389.xmlio import ApiError


class AuthUpdate(BaseModel):
    """Body of POST /_mock/auth."""

    model_config = ConfigDict(extra="forbid")

    expires_in: float | None = Field(None, gt=0, description="lifetime of tokens issued from now on")
    revoke: bool = Field(False, description="invalidate every token issued so far")


class PagingUpdate(BaseModel):
    """Body of POST /_mock/paging."""

    model_config = ConfigDict(extra="forbid")

    arrivals_per_page: int = Field(ge=0, le=50)


def build_p12389_control_router(mock: P12389Mock) -> APIRouter:
    """The case, token and paging routes of the 12389 control API."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["mock control"])

    def auth_state(revoked: int = 0) -> dict[str, Any]:
        tokens = mock.tokens
        return {"expires_in": tokens.ttl_s, "issued": tokens.issued, "revoked": revoked,
                "refused_tokens": tokens.refused_tokens, "refused_clients": tokens.refused_clients}

    @router.get("/cases")
    async def list_cases() -> dict[str, Any]:
        items = [record.case for record in mock.store]
        return {"count": len(items), "items": items}

    @router.get("/cases/{jbbh}", response_model=None)
    async def get_case(jbbh: str) -> dict[str, Any] | JSONResponse:
        record = mock.store.get(jbbh)
        return control_error(404, f"unknown case {jbbh}") if record is None else record.case

    @router.post("/cases", response_model=None)
    async def create_case(request: Request) -> dict[str, Any] | JSONResponse:
        overrides = await json_object(request)
        if overrides is None:
            return control_error(400, "body must be a JSON object of case fields")
        try:
            return mock.create_case(overrides).case
        except KeyError:
            return control_error(409, f"case {overrides.get('jbbh')} already exists")
        except ValueError as exc:
            return control_error(400, str(exc))

    @router.post("/cases/{jbbh}/changes", response_model=None)
    async def change_case(jbbh: str, request: Request) -> dict[str, Any] | JSONResponse:
        changes = await json_object(request)
        if changes is None:
            return control_error(400, "body must be a JSON object of case fields")
        try:
            return mock.change_case(jbbh, changes).case
        except ApiError as exc:
            return control_error(exc.status, exc.message)

    @router.get("/auth")
    async def get_auth() -> dict[str, Any]:
        return auth_state()

    @router.post("/auth")
    async def set_auth(update: AuthUpdate) -> dict[str, Any]:
        if update.expires_in is not None:
            mock.tokens.ttl_s = update.expires_in
        return auth_state(mock.tokens.revoke_all() if update.revoke else 0)

    @router.get("/paging")
    async def get_paging() -> dict[str, Any]:
        return {"arrivals_per_page": mock.arrivals_per_page}

    @router.post("/paging")
    async def set_paging(update: PagingUpdate) -> dict[str, Any]:
        mock.arrivals_per_page = update.arrivals_per_page
        return {"arrivals_per_page": mock.arrivals_per_page}

    return router
