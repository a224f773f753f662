"""Preparing an ingestion payload, and reading the ingestion graph's final state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auren_contract import IngestReport, fits_inline

from ._errors import (
    InvalidArgumentError,
    InvalidPayloadError,
    RunFailedError,
    UnexpectedResponseError,
    run_failed,
)
from ._models import parsed

Payload = bytes | bytearray | str | dict[str, Any] | list[Any]
JsonPayload = str | dict[str, Any] | list[Any]


def as_json_payload(payload: object) -> JsonPayload:
    """The payload as it is sent: documents as they are, bytes decoded to text.

    Text is not parsed here: the server detects what kind of document it is, and
    parsing a large export twice would only cost time.
    """
    if isinstance(payload, bytes | bytearray):
        try:
            # utf-8-sig: exporters on Windows prepend a BOM that JSON parsers refuse.
            return _without_nul(bytes(payload).decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise InvalidPayloadError(
                f"the payload bytes are not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                "send the document exactly as the vendor's API or exporter produced it"
            ) from None
    if isinstance(payload, str):
        return _without_nul(payload)
    if isinstance(payload, dict | list):
        return payload
    raise InvalidPayloadError(
        f"the payload must be bytes, str, dict or list, not {type(payload).__name__}"
    )


def _without_nul(text: str) -> str:
    # Neither JSON nor XML allows a raw NUL, and Postgres (where the server keeps run
    # inputs) cannot store one in text: refuse it here, clearly, before anything is sent.
    if (at := text.find("\x00")) >= 0:
        raise InvalidPayloadError(
            f"the payload holds a NUL character at position {at}, which neither JSON nor "
            "XML allows; send the document exactly as the vendor's API or exporter produced it"
        )
    return text


def goes_inline(payload: JsonPayload) -> bool:
    """Whether the payload travels in the run's input (the contract's rule)."""
    try:
        return fits_inline(payload)
    except (TypeError, ValueError) as exc:
        raise InvalidPayloadError(f"the payload is not JSON-serializable: {exc}") from exc


def report_from_state(state: object) -> IngestReport:
    """The report in the ingestion graph's final state, or the error it ended with (the
    graph's `error`: a kind and a message)."""
    if not isinstance(state, Mapping):
        raise UnexpectedResponseError(
            f"the ingestion run returned {type(state).__name__}, not a state"
        )
    if (failure := state.get("__error__")) is not None:
        raise run_failed("ingestion", failure)
    if (error := state.get("error")) is not None:
        kind = error.get("kind") if isinstance(error, Mapping) else None
        message = str(error.get("message") if isinstance(error, Mapping) else error)
        if kind == "invalid_payload":
            raise InvalidPayloadError(message)
        if kind == "invalid_input":  # the run's input itself: a client/server mismatch
            raise InvalidArgumentError(f"the server refused the run's input: {message}")
        raise RunFailedError(f"the ingestion run failed: {kind}: {message}")
    if state.get("report") is None:
        raise UnexpectedResponseError(
            "the ingestion run finished without a report; is the server's ingestion graph "
            "the same version as this client?"
        )
    return parsed(IngestReport.from_dict, state["report"], "report")
