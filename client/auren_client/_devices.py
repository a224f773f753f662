"""A user's devices and data over their lifetime: connect, backfill, disconnect, export,
erase. The server does the work; these are the calls (mixed into the client)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from auren_contract import API_VENDORS, INGESTION_GRAPH, IngestReport, ingestion_input

from ._errors import AurenError, InvalidArgumentError, NotFoundError, translate
from ._ids import check_device, check_user
from ._ingest import report_from_state
from ._retry import Retrier
from ._routes import Routes

Progress = Callable[[dict[str, Any]], None]


class DeviceCalls:
    """The device lifecycle; `AurenClient` provides what is declared here."""

    url: str
    _routes: Routes
    _retrier: Retrier
    _sdk: Any
    _threads: dict[tuple[str, str], str]

    async def thread(self, user_id: str, graph: str = INGESTION_GRAPH) -> str:  # pragma: no cover
        raise NotImplementedError

    def _as(self, user_id: str) -> dict[str, str]:  # pragma: no cover
        raise NotImplementedError

    async def connect_url(self, user_id: str, vendor: str, *, return_to: str | None = None) -> str:
        """The URL that connects the user's ``vendor`` account (WHOOP, Oura) through the
        vendor's OAuth: send the user's browser there. The vendor sends it back to AUREN,
        which stores the connection, starts a backfill, and redirects to ``return_to``
        (whose origin the server must allow) with ``auren_status`` in its query."""
        check_user(user_id)
        _check_vendor(vendor)
        params = {"user": user_id}
        if return_to:
            params["return_to"] = return_to
        answer = await self._routes.send(
            "GET", f"/connect/{vendor}", user=user_id, params=params,
            refusals={422: InvalidArgumentError},
        )  # fmt: skip
        location = answer.headers.get("location") if answer.is_redirect else None
        if not location:
            raise AurenError(f"the server answered {answer.status_code} without a redirect")
        return str(location)

    async def stream_backfill(
        self, user_id: str, vendor: str, *, days: int = 30, backfill_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Fetch the user's last ``days`` days from the vendor's API, as runs on their own
        ingestion thread: progress events (``{"event": "backfill", "collection",
        "pages", "records", "done"}``) as each page is stored, then ``{"event":
        "report", "report": IngestReport}``. Asked again with the same ``backfill_id``
        (after a dropped connection, a server restart), it resumes where it was."""
        check_user(user_id)
        _check_vendor(vendor)
        thread = await self.thread(user_id, INGESTION_GRAPH)
        backfill = {"id": backfill_id or uuid.uuid4().hex, "days": days}
        run_input = ingestion_input(user_id, vendor, backfill=backfill)
        final: Any = None
        try:
            async for part in self._sdk.runs.stream(
                thread,
                INGESTION_GRAPH,
                input=run_input,
                stream_mode=["custom", "values"],
                multitask_strategy="enqueue",
                headers=self._as(user_id),
            ):
                if part.event == "custom" and isinstance(part.data, dict):
                    yield part.data
                elif part.event == "values":
                    final = part.data
                elif part.event == "error":
                    final = {"__error__": part.data}
        except AurenError:
            raise
        except Exception as exc:
            raise translate(exc, self.url) from exc
        yield {"event": "report", "report": report_from_state(final)}

    async def backfill(
        self,
        user_id: str,
        vendor: str,
        *,
        days: int = 30,
        progress: Progress | None = None,
    ) -> IngestReport:
        """:meth:`stream_backfill` to its end: the report (``progress`` sees each page).
        A connection lost on the way is retried as the same backfill, which resumes."""
        backfill_id = uuid.uuid4().hex

        async def attempt() -> IngestReport:
            report: IngestReport | None = None
            stream = self.stream_backfill(user_id, vendor, days=days, backfill_id=backfill_id)
            async for event in stream:
                if event.get("event") == "report":
                    report = event["report"]
                elif progress is not None:
                    progress(event)
            assert report is not None  # stream_backfill always ends with the report
            return report

        return await self._retrier.call(attempt)

    async def disconnect(self, user_id: str, vendor: str) -> dict[str, Any]:
        """Disconnect the device: revoked at the vendor where it offers revocation, tokens
        deleted, data kept (``{"device", "status", "revoked"}``); later webhooks for the
        vendor account are acknowledged and dropped."""
        check_user(user_id)
        check_device(vendor)
        answer = await self._routes.call(
            "DELETE", f"/users/{user_id}/devices/{vendor}", user=user_id,
            refusals={404: NotFoundError},
        )  # fmt: skip
        return dict(answer)

    async def export(self, user_id: str) -> bytes:
        """Everything stored about the user as one zip archive: ``metrics/<metric>.jsonl``
        (the rows :meth:`metrics` returns), ``findings.jsonl``, ``devices.json`` (no
        token) and ``manifest.json``."""
        check_user(user_id)
        answer = await self._routes.send("GET", f"/users/{user_id}/export", user=user_id)
        return answer.content

    async def erase(self, user_id: str) -> dict[str, int]:
        """Erase everything about the user (data, findings, threads and runs, crons,
        connections revoked at the vendor, webhook events); what was removed."""
        check_user(user_id)
        answer = await self._routes.call("DELETE", f"/users/{user_id}", user=user_id)
        for key in [k for k in self._threads if k[0] == user_id]:
            del self._threads[key]  # their threads are gone: new ones from now on
        return {str(k): int(v) for k, v in dict(answer).items()}


def _check_vendor(vendor: str) -> None:
    if vendor not in API_VENDORS:
        raise InvalidArgumentError(
            f"{vendor!r} has no vendor API to connect or backfill; use {' or '.join(API_VENDORS)}"
        )
