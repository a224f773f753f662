"""`OpsClient` (async) and `SyncOpsClient`: one method per `/ops/...` route.

Answers are the server's own models; refusals become the client's error tree
(`auren_client.AurenError`): 401/403 `AuthenticationError`, 404 `NotFoundError`, 409
`RolloutConflictError`, 422 on a file `InvalidAssistantFileError`, other 4xx
`RequestRejectedError`, 503 `ServiceUnavailableError`, other 5xx `ServerError`, no
server `ConnectionFailedError`. Nothing is retried: each call is an operator's command,
and the safe ones (sync, reads) can simply be run again.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from auren_client import (
    AuthenticationError,
    ConnectionFailedError,
    InvalidArgumentError,
    NotFoundError,
    RequestRejectedError,
    ServerError,
    ServiceUnavailableError,
    resolve_url,
)
from auren_graphs.assistants.models import (
    AssistantDiff,
    AssistantHistory,
    AssistantVersion,
    SwitchOutcome,
    SyncOutcome,
)
from auren_graphs.rollout.models import RolloutStatus

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: Where assistant files live unless told otherwise.
ASSISTANTS_DIR = Path("assistants")


class InvalidAssistantFileError(InvalidArgumentError):
    """Assistant files the server (or, for the file itself, this client) refused;
    `problems` lists every problem, `path: problem`."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class RolloutConflictError(RequestRejectedError):
    """409: another rollout holds the assistant, or this one is not where the call expects."""


def load_assistant_files(directory: str | Path = ASSISTANTS_DIR) -> list[tuple[Path, Any]]:
    """Every `*.json` in `directory` as (path, parsed content), sorted; the file rules
    this side can check (valid JSON, name = file name) are checked, all at once."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidArgumentError(f"{directory} is not a directory of assistant files")
    files, problems = [], []
    for path in sorted(directory.glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid JSON ({exc})")
            continue
        name = content.get("name") if isinstance(content, dict) else None
        if name != path.stem:
            problems.append(f"{path}: name {name!r} must equal the file name ({path.stem!r})")
            continue
        files.append((path, content))
    if problems:
        raise InvalidAssistantFileError(_nothing_synced(problems), problems)
    if not files:
        raise InvalidArgumentError(f"no assistant files (*.json) in {directory}")
    return files


def _nothing_synced(problems: Sequence[str]) -> str:
    return "invalid assistant file(s), nothing was synced:\n  " + "\n  ".join(problems)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI's validation errors
        return "the request is invalid:\n  " + "\n  ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
            for e in detail
            if isinstance(e, dict)
        )
    return str(detail)


class OpsClient:
    """Async client of the server's operator routes (a service API key: `api_key=` or
    `AUREN_API_KEY`; the server: `url=` or `AUREN_URL`)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        try:
            self.url = resolve_url(url)  # the client's rule: AUREN_URL, then `make dev`
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        key = api_key or os.environ.get("AUREN_API_KEY")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(base_url=self.url, timeout=timeout)
        if key and "x-api-key" not in self._http.headers:
            self._http.headers["x-api-key"] = key

    async def __aenter__(self) -> OpsClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        return model.model_validate(await self._json(method, path, **kwargs))

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailedError(
                f"cannot reach the AUREN server at {self.url} ({exc or type(exc).__name__}); "
                "start it with `make dev`, or set AUREN_URL (or --url) to where it runs"
            ) from None
        if response.is_success:
            return response.json()
        is_file = method == "PUT" or path.endswith("/diff")
        raise self._error(response, is_file)

    def _error(self, response: httpx.Response, is_file: bool) -> Exception:
        status, detail = response.status_code, _detail(response)
        if status in (401, 403):
            return AuthenticationError(
                f"{detail} ({status}); operators' routes take a service API key "
                "(--api-key or AUREN_API_KEY)",
                status,
            )
        if status == 404:
            return NotFoundError(detail, status)
        if status == 409:
            return RolloutConflictError(detail, status)
        if status == 422 and is_file:
            return InvalidAssistantFileError(detail, detail.split("\n  ")[1:] or [detail])
        if status == 503:
            return ServiceUnavailableError(f"{detail}; try again shortly", status)
        if status >= 500:
            return ServerError(f"the AUREN server failed ({status}: {detail})", status)
        return RequestRejectedError(detail, status)

    # -- assistants ---------------------------------------------------------------

    async def sync_assistant(
        self, content: Mapping[str, Any], *, dry_run: bool = False
    ) -> SyncOutcome:
        """Sync one file's content (or, with `dry_run`, check it and say what sync would do)."""
        path = f"/ops/assistants/{content.get('name')}"
        params = {"dry_run": "true"} if dry_run else None
        return await self._call("PUT", path, SyncOutcome, json=dict(content), params=params)

    async def sync_assistants(self, directory: str | Path = ASSISTANTS_DIR) -> list[SyncOutcome]:
        """Sync every file of `directory`. All are checked first: if one is invalid,
        nothing is synced and every problem is reported."""
        files = load_assistant_files(directory)
        problems: list[str] = []
        for path, content in files:
            try:
                await self.sync_assistant(content, dry_run=True)
            except InvalidAssistantFileError as exc:
                problems += [f"{path}: {p}" for p in exc.problems]
        if problems:
            raise InvalidAssistantFileError(_nothing_synced(problems), problems)
        return [await self.sync_assistant(content) for _, content in files]

    async def list_assistants(self) -> list[AssistantVersion]:
        """The current version of every assistant synced from a file."""
        found = await self._json("GET", "/ops/assistants")
        return [AssistantVersion.model_validate(item) for item in found]

    async def assistant_versions(self, name: str) -> AssistantHistory:
        """The assistant's server versions, newest first."""
        return await self._call("GET", f"/ops/assistants/{name}/versions", AssistantHistory)

    async def diff_assistant(self, content: Mapping[str, Any]) -> AssistantDiff:
        """A file's content against the server's current version of its assistant."""
        path = f"/ops/assistants/{content.get('name')}/diff"
        return await self._call("POST", path, AssistantDiff, json=dict(content))

    async def switch_assistant(self, name: str, version: int) -> SwitchOutcome:
        """Make runs of `name` behave exactly as its `version` did."""
        body = {"version": version}
        return await self._call("POST", f"/ops/assistants/{name}/switch", SwitchOutcome, json=body)

    # -- rollouts -------------------------------------------------------------------

    async def start_rollout(
        self,
        assistant: str,
        candidate_version: int,
        control_version: int | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        by: str | None = None,
        rollout_id: str | None = None,
    ) -> RolloutStatus:
        """Propose rolling `candidate_version` out; answers once the plan waits for
        approval (or, without approval, once stage 1 is monitored)."""
        body = {
            "candidate_version": candidate_version,
            "control_version": control_version,
            "options": dict(options or {}),
            "by": by,
            "rollout_id": rollout_id,
        }
        return await self._call("POST", f"/ops/rollouts/{assistant}", RolloutStatus, json=body)

    async def rollout_status(self, assistant: str) -> RolloutStatus:
        """The assistant's current (or last) rollout: plan, stage, every decision."""
        return await self._call("GET", f"/ops/rollouts/{assistant}", RolloutStatus)

    async def _answer(self, assistant: str, verb: str, body: dict[str, Any]) -> RolloutStatus:
        return await self._call(
            "POST", f"/ops/rollouts/{assistant}/{verb}", RolloutStatus, json=body
        )

    async def approve_rollout(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        return await self._answer(assistant, "approve", {"by": by, "reason": reason})

    async def reject_rollout(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        return await self._answer(assistant, "reject", {"by": by, "reason": reason})

    async def abort_rollout(
        self, assistant: str, *, by: str | None = None, reason: str | None = None
    ) -> RolloutStatus:
        return await self._answer(assistant, "abort", {"by": by, "reason": reason})

    async def advance_rollout(
        self, assistant: str, *, by: str | None = None, force: bool = False
    ) -> RolloutStatus:
        """End the window now; with `force`, decide even on too few runs."""
        return await self._answer(assistant, "advance", {"by": by, "force": force})

    # -- the vendors' side ----------------------------------------------------------

    async def oura_subscriptions(self) -> list[dict[str, Any]]:
        """This deployment's Oura webhook subscriptions (type, callback, expiry)."""
        return list(await self._json("GET", "/ops/oura/subscriptions"))

    async def oura_subscribe(self) -> list[dict[str, Any]]:
        """Create the Oura subscriptions AUREN needs that do not exist yet; all of them."""
        return list(await self._json("POST", "/ops/oura/subscriptions"))

    async def failed_webhooks(self) -> list[dict[str, Any]]:
        """Webhook events that exhausted their retries, newest first (no bodies)."""
        return list(await self._json("GET", "/ops/webhooks/failed"))

    async def requeue_webhooks(self, ids: Sequence[int] | None = None) -> int:
        """Make failed events due again (all of them without ``ids``); how many."""
        answer = await self._json("POST", "/ops/webhooks/requeue", json={"ids": ids})
        return int(answer["requeued"])


class SyncOpsClient:
    """The same methods, synchronous (each call runs the async client to completion)."""

    def __init__(self, url: str | None = None, api_key: str | None = None, **kwargs: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = self._runner.run(self._build(url, api_key, kwargs))

    @staticmethod
    async def _build(url: str | None, api_key: str | None, kwargs: dict[str, Any]) -> OpsClient:
        return OpsClient(url, api_key, **kwargs)  # built on the runner's loop: httpx binds to it

    @property
    def url(self) -> str:
        return self._client.url

    def __enter__(self) -> SyncOpsClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()

    def sync_assistant(self, content: Mapping[str, Any], *, dry_run: bool = False) -> SyncOutcome:
        return self._runner.run(self._client.sync_assistant(content, dry_run=dry_run))

    def sync_assistants(self, directory: str | Path = ASSISTANTS_DIR) -> list[SyncOutcome]:
        return self._runner.run(self._client.sync_assistants(directory))

    def list_assistants(self) -> list[AssistantVersion]:
        return self._runner.run(self._client.list_assistants())

    def assistant_versions(self, name: str) -> AssistantHistory:
        return self._runner.run(self._client.assistant_versions(name))

    def diff_assistant(self, content: Mapping[str, Any]) -> AssistantDiff:
        return self._runner.run(self._client.diff_assistant(content))

    def switch_assistant(self, name: str, version: int) -> SwitchOutcome:
        return self._runner.run(self._client.switch_assistant(name, version))

    def start_rollout(
        self,
        assistant: str,
        candidate_version: int,
        control_version: int | None = None,
        **kwargs: Any,
    ) -> RolloutStatus:
        call = self._client.start_rollout(assistant, candidate_version, control_version, **kwargs)
        return self._runner.run(call)

    def rollout_status(self, assistant: str) -> RolloutStatus:
        return self._runner.run(self._client.rollout_status(assistant))

    def approve_rollout(self, assistant: str, **kwargs: Any) -> RolloutStatus:
        return self._runner.run(self._client.approve_rollout(assistant, **kwargs))

    def reject_rollout(self, assistant: str, **kwargs: Any) -> RolloutStatus:
        return self._runner.run(self._client.reject_rollout(assistant, **kwargs))

    def abort_rollout(self, assistant: str, **kwargs: Any) -> RolloutStatus:
        return self._runner.run(self._client.abort_rollout(assistant, **kwargs))

    def advance_rollout(self, assistant: str, **kwargs: Any) -> RolloutStatus:
        return self._runner.run(self._client.advance_rollout(assistant, **kwargs))

    def oura_subscriptions(self) -> list[dict[str, Any]]:
        return self._runner.run(self._client.oura_subscriptions())

    def oura_subscribe(self) -> list[dict[str, Any]]:
        return self._runner.run(self._client.oura_subscribe())

    def failed_webhooks(self) -> list[dict[str, Any]]:
        return self._runner.run(self._client.failed_webhooks())

    def requeue_webhooks(self, ids: Sequence[int] | None = None) -> int:
        return self._runner.run(self._client.requeue_webhooks(ids))
