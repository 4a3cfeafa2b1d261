"""Prometheus Alertmanager webhook (versions 3 and 4): grouped firing/resolved notifications.

Each alert carries its own ``status``; Alertmanager's ``fingerprint`` is used when present,
else a hash of the sorted labels. See docs/subsystems/alerts.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    AlertInput,
    BaseAdapter,
    Inbound,
    Parsed,
    SourceError,
    clip,
    labels_fingerprint,
    parse_time,
    require_mapping,
    severity_normalise,
    status_from,
    str_dict,
)

STATUSES = {"firing": FIRING, "resolved": RESOLVED}


def alert_from(item: Any, payload: Mapping[str, Any], index: int) -> AlertInput:
    item = require_mapping(item, f"alerts[{index}]")
    labels = {**str_dict(payload.get("commonLabels")), **str_dict(item.get("labels"))}
    if not labels.get("alertname"):
        raise SourceError(f"alerts[{index}] has no alertname label")
    status_word = item.get("status") or payload.get("status")
    if not status_word:
        raise SourceError(f"alerts[{index}] has no status")
    annotations = {
        **str_dict(payload.get("commonAnnotations")),
        **str_dict(item.get("annotations")),
    }
    fingerprint = str(item.get("fingerprint") or "") or labels_fingerprint(labels)
    summary = annotations.get("summary") or annotations.get("message") or labels["alertname"]
    return AlertInput(
        fingerprint=fingerprint,
        status=status_from(status_word, STATUSES, f"alerts[{index}].status"),
        labels=labels,
        annotations=annotations,
        summary=clip(summary),
        severity=severity_normalise(labels.get("severity")),
        starts_at=parse_time(item.get("startsAt")),
        ends_at=parse_time(item.get("endsAt")),
        source_url=clip(item.get("generatorURL"), 1000),
        raw=dict(item),
    )


class AlertmanagerAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        payload = require_mapping(inbound.data, "the body")
        alerts = payload.get("alerts")
        if not isinstance(alerts, list) or not alerts:
            raise SourceError("missing field 'alerts' (a non-empty list)")
        return Parsed(alerts=[alert_from(item, payload, i) for i, item in enumerate(alerts)])


adapter = AlertmanagerAdapter()
