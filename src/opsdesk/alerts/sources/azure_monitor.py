"""Azure Monitor common alert schema: ``data.essentials.alertId`` is the fingerprint,
``monitorCondition`` Fired/Resolved the state. See docs/subsystems/alerts.md."""

from __future__ import annotations

from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    AlertInput,
    BaseAdapter,
    Inbound,
    Parsed,
    clip,
    parse_time,
    require_mapping,
    require_text,
    severity_normalise,
    status_from,
    str_dict,
)

STATUSES = {"fired": FIRING, "resolved": RESOLVED}


class AzureMonitorAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        body = require_mapping(inbound.data, "the body")
        data = require_mapping(body.get("data"), "data")
        essentials = require_mapping(data.get("essentials"), "data.essentials")
        alert_id = require_text(essentials, "alertId", "data.essentials.alertId")
        rule = str(essentials.get("alertRule") or alert_id)
        items = essentials.get("configurationItems") or []
        labels = {
            **str_dict(data.get("customProperties")),
            "alertname": rule,
            "signal_type": str(essentials.get("signalType") or ""),
            "monitoring_service": str(essentials.get("monitoringService") or ""),
            "target": ",".join(str(i) for i in items) if isinstance(items, list) else "",
        }
        condition = essentials.get("monitorCondition")
        alert = AlertInput(
            fingerprint=alert_id,
            status=status_from(condition, STATUSES, "data.essentials.monitorCondition"),
            labels=labels,
            annotations={"description": str(essentials.get("description") or "")},
            summary=clip(essentials.get("description") or rule),
            severity=severity_normalise(essentials.get("severity")),
            starts_at=parse_time(essentials.get("firedDateTime")),
            ends_at=parse_time(essentials.get("resolvedDateTime")),
            raw=dict(body),
        )
        return Parsed(alerts=[alert])


adapter = AzureMonitorAdapter()
