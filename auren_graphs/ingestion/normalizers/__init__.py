"""One normalizer per device, each turning the vendor's own documents into observations."""

from __future__ import annotations

import logging
from collections.abc import Callable

from auren_contract import Device
from auren_graphs.canonical import NormalizedBatch, PayloadError
from auren_graphs.ingestion.derivation import Derivation, Derives
from auren_graphs.ingestion.normalizers import apple, manual, oura, whoop
from auren_graphs.ingestion.normalizers.apple_derive import SLEEP_METRICS
from auren_graphs.ingestion.normalizers.common import NormalizeContext

Normalizer = Callable[[object, NormalizeContext], NormalizedBatch]

NORMALIZERS: dict[Device, Normalizer] = {
    "oura": oura.normalize,
    "whoop": whoop.normalize,
    "apple_health": apple.normalize,
    "manual": manual.normalize,
}

logger = logging.getLogger(__name__)


def normalize(device: Device, payload: object, context: NormalizeContext) -> NormalizedBatch:
    """The device's normalizer; a normalizer bug on hostile input refuses the payload
    (and is logged) instead of failing the run or the request, so the sender gets a
    clear answer and nothing is stored."""
    try:
        return NORMALIZERS[device](payload, context)
    except PayloadError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        logger.exception("normalizer %s failed on a payload; refused it", device)
        raise PayloadError(
            f"the {device} payload could not be read ({type(exc).__name__}); nothing was stored"
        ) from exc


# Values derived from raw intervals that may arrive in different deliveries.
DERIVATIONS: dict[str, Derivation] = {
    "apple_steps": Derives(
        lambda intervals: {
            day: {"steps": total} for day, total in apple.derive_interval_totals(intervals).items()
        },
        ("steps",),
    ),
    "apple_active_energy": Derives(
        lambda intervals: {
            day: {"active_energy": total}
            for day, total in apple.derive_interval_totals(intervals).items()
        },
        ("active_energy",),
    ),
    "apple_sleep": Derives(apple.derive_sleep, SLEEP_METRICS),
}

__all__ = ["DERIVATIONS", "NORMALIZERS", "NormalizeContext", "Normalizer", "normalize"]
