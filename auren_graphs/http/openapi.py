"""OpenAPI description of the routes AUREN adds to the server (served at
`GET /openapi/auren.json`): what devices and vendors send, for integrators and for the
schema-driven fuzzing in `reliability/schema_fuzz.py`."""

from __future__ import annotations

from typing import Any

from auren_graphs.canonical import METRICS

_STRING = {"type": "string"}
_TEXT = {"type": "string", "maxLength": 200}


def _header(name: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": _TEXT}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_ANSWERS = {
    "200": {"description": "accepted, or a duplicate acknowledged"},
    "400": {"description": "malformed; nothing stored"},
    "401": {"description": "signature or token missing or wrong"},
    "403": {"description": "the user is not connected"},
    "413": {"description": "body too large"},
    "415": {"description": "not JSON"},
    "503": {"description": "cannot be recorded now (Postgres down); deliver again"},
}

WHOOP_NOTIFICATION = {
    "type": "object",
    "required": ["user_id", "id", "type"],
    "properties": {
        "user_id": {"type": "integer"},
        "id": {"oneOf": [{"type": "integer"}, {"type": "string", "format": "uuid"}]},
        "type": {
            "type": "string",
            "enum": [
                f"{kind}.{what}"
                for kind in ("recovery", "sleep", "workout", "cycle")
                for what in ("updated", "deleted")
            ],
        },
        "trace_id": _STRING,
    },
}
OURA_NOTIFICATION = {
    "type": "object",
    "required": ["event_type", "data_type", "object_id", "user_id"],
    "properties": {
        "event_type": {"type": "string", "enum": ["create", "update", "delete"]},
        "data_type": {
            "type": "string",
            "enum": ["daily_readiness", "daily_sleep", "sleep", "daily_activity", "daily_spo2"],
        },
        "object_id": _STRING,
        "user_id": _STRING,
        "event_time": {"type": "string", "format": "date-time"},
    },
}
MANUAL_ENTRIES = {
    "type": "object",
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["entry_id", "metric", "value", "unit", "measured_at"],
                "properties": {
                    "entry_id": _TEXT,
                    "metric": {"type": "string", "enum": sorted(METRICS)},
                    "value": {"type": "number"},
                    "unit": _TEXT,
                    "measured_at": {"type": "string", "format": "date-time"},
                    "day": {"type": "string", "format": "date"},
                },
            },
        }
    },
}
HEALTH_AUTO_EXPORT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "properties": {"metrics": {"type": "array", "items": {"type": "object"}}},
        }
    },
}


def _post(summary: str, headers: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": headers,
            "requestBody": _json(body),
            "responses": _ANSWERS,
        }
    }


_PUSH_HEADERS = [
    _header("authorization"),
    _header("x-auren-user"),
    _header("idempotency-key", False),
]

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "AUREN device and vendor routes", "version": "1"},
    "paths": {
        "/webhooks/whoop": _post(
            "WHOOP notification (v2)",
            [_header("x-whoop-signature"), _header("x-whoop-signature-timestamp")],
            WHOOP_NOTIFICATION,
        ),
        "/webhooks/oura": {
            **_post(
                "Oura notification",
                [_header("x-oura-signature"), _header("x-oura-timestamp")],
                OURA_NOTIFICATION,
            ),
            "get": {
                "summary": "Oura subscription verification",
                "parameters": [
                    {"name": n, "in": "query", "required": True, "schema": _TEXT}
                    for n in ("verification_token", "challenge")
                ],
                "responses": {"200": {"description": "the challenge"}, "401": _ANSWERS["401"]},
            },
        },
        "/webhooks/manual": _post("manual entries", _PUSH_HEADERS, MANUAL_ENTRIES),
        "/webhooks/apple_health": _post(
            "Health Auto Export JSON", _PUSH_HEADERS, HEALTH_AUTO_EXPORT
        ),
        "/health": {
            "get": {
                "summary": "each component",
                "responses": {"200": {"description": "up"}, "503": _ANSWERS["503"]},
            }
        },
        "/metrics/auren": {
            "get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}
        },
    },
}
