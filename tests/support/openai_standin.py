"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It speaks the real wire protocol (JSON, and server-sent events when `stream` is true),
so the real `ChatOpenAI` client is exercised. `mode` switches its behaviour: `ok`
streams `reply`, `fail` answers 500, `hang` never answers, `drop` closes mid-stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.server import free_port

DEFAULT_REPLY = "Your recovery looks steady this week. Keep your usual training and sleep routine."


@dataclass
class OpenAIStandIn:
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    reply: str = DEFAULT_REPLY
    calls: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set(self, mode: str = "ok", reply: str = DEFAULT_REPLY) -> None:
        self.mode, self.reply = mode, reply

    def _chunk(self, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
        body = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    async def _stream(self, model: str) -> AsyncIterator[str]:
        yield self._chunk(model, {"role": "assistant", "content": ""})
        for n, word in enumerate(self.reply.split(" ")):
            if self.mode == "drop" and n == 3:
                raise ConnectionResetError("stand-in drops the connection")
            yield self._chunk(model, {"content": word if n == 0 else f" {word}"})
            await asyncio.sleep(0.005)
        yield self._chunk(model, {}, finish="stop")
        yield "data: [DONE]\n\n"

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.calls += 1
        self.requests.append(body)
        if request.headers.get("authorization") != "Bearer test-key":
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        if self.mode == "fail":
            return JSONResponse({"error": {"message": "stand-in failure"}}, status_code=500)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        model = body.get("model", "stand-in")
        if body.get("stream"):
            return StreamingResponse(self._stream(model), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": self.reply},
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    def start(self) -> None:
        app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("OpenAI stand-in did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
