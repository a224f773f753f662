"""Connecting a device through its vendor's OAuth: `GET /connect/{vendor}` and the
vendor's callback `GET /connect/{vendor}/callback` (`auren_graphs.devices.connect`).

`/connect/{vendor}?user=...&return_to=...` is called by a trusted service acting for the
user, or by the user with their own token, and answers 302 to the vendor's authorize
page. The callback is public (the vendor sends the browser there): its sealed,
single-use state is what authenticates it; it ends in a 302 back to `return_to` with
`auren_status=connected|conflict|denied|failed`, or a small JSON answer without one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response

from auren_contract import API_VENDORS
from auren_graphs.devices import connect
from auren_graphs.devices.pending import StateError
from auren_graphs.http.principal import caller, served_user
from auren_graphs.identity import Caller

router = APIRouter(tags=["devices"])


def _vendor(vendor: Annotated[str, Path(description="whoop or oura")]) -> str:
    if vendor not in API_VENDORS:
        raise HTTPException(404, f"{vendor!r} has no vendor OAuth; use {' or '.join(API_VENDORS)}")
    return vendor


Vendor = Annotated[str, Depends(_vendor)]


@router.get(
    "/connect/{vendor}",
    status_code=302,
    responses={302: {"description": "to the vendor's authorize page"}},
)
async def connect_start(
    vendor: Vendor,
    who: Annotated[Caller, Depends(caller)],
    user: Annotated[str, Query(max_length=128, description="The AUREN user connecting.")],
    return_to: Annotated[
        str | None, Query(max_length=2000, description="Where the browser goes afterwards.")
    ] = None,
) -> Response:
    """Start connecting `vendor` for `user`: a redirect to the vendor's authorize page."""
    served_user(user, who)
    try:
        url = await connect.start(user, vendor, return_to)
    except connect.ConnectRefusedError as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(url, status_code=302)


@router.get(
    "/connect/{vendor}/callback",
    responses={302: {"description": "back to return_to with auren_status"}},
)
async def connect_callback(
    vendor: Vendor,
    state: Annotated[str, Query(max_length=4000)],
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Where the vendor sends the browser back: the connection is made here."""
    try:
        done = await connect.finish(vendor, code, state, error)
    except StateError as exc:
        raise HTTPException(400, str(exc)) from None
    except connect.ConnectRefusedError as exc:
        raise HTTPException(503, str(exc)) from None
    where = done.redirect_url()
    if where is not None:
        return RedirectResponse(where, status_code=302)
    body = {"status": done.status, "vendor": vendor, "detail": done.detail}
    return JSONResponse(body, status_code=200 if done.status == "connected" else 409)
