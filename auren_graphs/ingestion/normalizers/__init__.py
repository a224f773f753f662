"""One normalizer per device, each turning the vendor's own documents into observations."""

from __future__ import annotations

from collections.abc import Callable

from auren_graphs.canonical import Device, NormalizedBatch
from auren_graphs.ingestion.normalizers import apple, manual, oura, whoop
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.storage import Derivation

Normalizer = Callable[[object, NormalizeContext], NormalizedBatch]

NORMALIZERS: dict[Device, Normalizer] = {
    "oura": oura.normalize,
    "whoop": whoop.normalize,
    "apple_health": apple.normalize,
    "manual": manual.normalize,
}

# Values derived from raw intervals that may arrive in different deliveries.
DERIVATIONS: dict[str, Derivation] = {
    "apple_steps": lambda intervals: {
        day: {"steps": total} for day, total in apple.derive_interval_totals(intervals).items()
    },
    "apple_active_energy": lambda intervals: {
        day: {"active_energy": total}
        for day, total in apple.derive_interval_totals(intervals).items()
    },
    "apple_sleep": apple.derive_sleep,
}

__all__ = ["DERIVATIONS", "NORMALIZERS", "NormalizeContext", "Normalizer"]
