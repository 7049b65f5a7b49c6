"""Mailbox-specific ``/_mock`` routes: create letters, change them, and rate their answers.

GET  /_mock/letters                   -> {"count", "items": [letter…]}
GET  /_mock/letters/{letter_no}       -> the letter
POST /_mock/letters                   body: letter fields to override -> the new letter
POST /_mock/letters/{no}/changes      body: letter fields to overwrite -> the letter (one feed change)
POST /_mock/letters/{no}/rating       body: {"score"?, "comment"?} -> the letter, rated (409 unless answered)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mock_platforms.common.control import CONTROL_PREFIX, control_error, json_object
from mock_platforms.mailbox.errors import ApiError
from mock_platforms.mailbox.mock import MailboxMock


class RatingRequest(BaseModel):
    """Body of POST /_mock/letters/{letter_no}/rating (missing fields are chosen by the mock)."""

    model_config = ConfigDict(extra="forbid")

    score: int | None = Field(None, ge=1, le=5)
    comment: str | None = None


def build_mailbox_control_router(mock: MailboxMock) -> APIRouter:
    """Return the letter routes of the mailbox control API."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["mock control"])

    @router.get("/letters")
    async def list_letters() -> dict[str, Any]:
        items = [record.letter for record in mock.store]
        return {"count": len(items), "items": items}

    @router.get("/letters/{letter_no}", response_model=None)
    async def get_letter(letter_no: str) -> dict[str, Any] | JSONResponse:
        record = mock.store.get(letter_no)
        if record is None:
            return control_error(404, f"unknown letter {letter_no}")
        return record.letter

    @router.post("/letters", response_model=None)
    async def create_letter(request: Request) -> dict[str, Any] | JSONResponse:
        overrides = await json_object(request)
        if overrides is None:
            return control_error(400, "body must be a JSON object of letter fields")
        try:
            record = mock.create_letter(overrides)
        except KeyError:
            return control_error(409, f"letter {overrides.get('letter_no')} already exists")
        return record.letter

    @router.post("/letters/{letter_no}/changes", response_model=None)
    async def change_letter(letter_no: str, request: Request) -> dict[str, Any] | JSONResponse:
        changes = await json_object(request)
        if changes is None or not changes:
            return control_error(400, "body must be a non-empty JSON object of letter fields")
        try:
            return mock.change(letter_no, changes).letter
        except ApiError as exc:
            return control_error(exc.status, exc.message)

    @router.post("/letters/{letter_no}/rating", response_model=None)
    async def rate_letter(letter_no: str, body: RatingRequest) -> dict[str, Any] | JSONResponse:
        try:
            return mock.rate(letter_no, body.score, body.comment).letter
        except ApiError as exc:
            return control_error(exc.status, exc.message)

    return router
