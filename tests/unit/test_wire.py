"""The contract's shapes of answers: one definition, read by pydantic on the server (with
each field's description) and built from JSON by the client."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from auren_contract import (
    DeviceConnection,
    IngestReport,
    MetricRow,
    RecordOutcomes,
    Rejection,
    Rejections,
)
from auren_graphs.canonical import MAX_IGNORED_TYPES, OTHER_TYPES
from auren_graphs.ingestion.state import IngestionOutput, including

SHAPES = [Rejection, RecordOutcomes, IngestReport, MetricRow, DeviceConnection]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.__name__)
def test_every_field_is_described_where_the_server_documents_it(shape: type) -> None:
    schema = TypeAdapter(shape).json_schema()
    assert schema["description"]
    undescribed = [
        f.name for f in fields(shape) if not schema["properties"][f.name].get("description")
    ]
    assert not undescribed, undescribed


def test_a_metric_row_goes_to_json_and_back_unchanged() -> None:
    row = MetricRow("heart_rate", 52.0, "bpm", date(2026, 11, 2),
                    datetime(2026, 11, 2, 7, 30, tzinfo=UTC), "oura")  # fmt: skip
    assert MetricRow.from_dict(row.to_dict()) == row
    server_json = TypeAdapter(MetricRow).dump_python(row, mode="json")
    assert MetricRow.from_dict(server_json) == row


def test_a_device_connection_as_the_server_sends_it() -> None:
    sent: dict[str, Any] = {
        "user_id": "user-alice", "device": "whoop", "vendor_user_id": "10129",
        "status": "needs_reauth", "connected_at": "2026-11-02T07:30:00+00:00",
        "updated_at": "2026-11-03T07:30:00+00:00", "last_sync_at": None,
        "last_sync_status": None, "last_error": "the vendor refused the tokens",
        "has_api_token": True, "has_ingest_token": False,
    }  # fmt: skip
    connection = DeviceConnection.from_dict(sent)
    assert connection.status == "needs_reauth" and connection.connected_at.tzinfo is not None
    server_json = TypeAdapter(DeviceConnection).dump_python(connection, mode="json")
    assert DeviceConnection.from_dict(server_json) == connection
    with pytest.raises(ValueError, match="unknown connection status 'lost'"):
        DeviceConnection.from_dict({**sent, "status": "lost"})


def test_record_outcomes_add_up_and_refuse_what_is_no_count() -> None:
    both = RecordOutcomes(accepted=2, ignored=1) + RecordOutcomes.from_dict({"accepted": 1})
    assert both == RecordOutcomes(accepted=3, ignored=1) and both.total == 4
    with pytest.raises(ValueError, match="not numbers"):
        RecordOutcomes.from_dict({"accepted": "many"})


def test_a_report_through_the_servers_state_keeps_reasons_that_compare_as_their_count() -> None:
    sent = IngestReport(accepted=3, rejected=[Rejection("data[2]", "no day")], rejected_count=7)
    state = IngestionOutput.model_validate({"report": sent.to_dict()})
    assert isinstance(state.report.rejected, Rejections)
    assert state.report.rejected == 7 and state.report.rejected[0].reason == "no day"
    assert IngestReport.from_dict(state.model_dump(mode="json")["report"]) == sent


def test_reports_add_up_and_the_server_caps_only_the_reasons() -> None:
    many = [Rejection(f"data[{n}]", "bad") for n in range(5)]
    report = including(IngestReport(), limit=3, accepted=2, records=7, rejected=many)
    report = including(report, limit=3, rejected=many[:2], ignored={"Correlation": 4})
    assert report.rejected_count == 7 and len(report.rejected) == 3 and report.rejected > 6
    assert report.accepted == 2 and report.records == 7 and report.ignored == {"Correlation": 4}
    summed = sum([report, IngestReport(accepted=1, rejected=many)])
    assert summed.accepted == 3 and summed.rejected == 12 and len(summed.rejected) == 8


def test_the_server_names_ignored_types_up_to_its_limit() -> None:
    kinds = {f"Type{n}": 1 for n in range(MAX_IGNORED_TYPES + 5)}
    report = including(IngestReport(), limit=100, ignored=kinds)
    assert len(report.ignored) == MAX_IGNORED_TYPES + 1
    assert report.ignored[OTHER_TYPES] == 5 and sum(report.ignored.values()) == len(kinds)
