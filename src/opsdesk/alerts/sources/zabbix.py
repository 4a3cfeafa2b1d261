"""Zabbix, through OpsDesk's own webhook media type (zabbix_mediatype.yaml next to this file).

Zabbix has no fixed webhook body; the media type's script sends this JSON contract:
``{"event_id", "event_status": "PROBLEM"|"RESOLVED"|"UPDATE", "trigger_id", "trigger_name",
"severity", "host", "starts_at" (ISO 8601, optional), "url", "message", "tags": {..}}``.
The fingerprint is the trigger (so a problem that comes back folds into its alert), else
the event. See docs/subsystems/alerts.md.
"""

from __future__ import annotations

from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    UNKNOWN,
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

STATUSES = {"problem": FIRING, "resolved": RESOLVED, "ok": RESOLVED, "update": UNKNOWN}


class ZabbixAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        data = require_mapping(inbound.data, "the body")
        event_id = require_text(data, "event_id")
        trigger_name = require_text(data, "trigger_name")
        host = str(data.get("host") or "")
        trigger_id = str(data.get("trigger_id") or "")
        labels = {
            **str_dict(data.get("tags")),
            "alertname": trigger_name,
            "host": host,
            "zabbix_severity": str(data.get("severity") or ""),
        }
        fingerprint = f"zabbix-trigger-{trigger_id}" if trigger_id else f"zabbix-event-{event_id}"
        alert = AlertInput(
            fingerprint=fingerprint,
            status=status_from(data.get("event_status"), STATUSES, "event_status"),
            labels=labels,
            annotations={"message": str(data.get("message") or ""), "event_id": event_id},
            summary=clip(f"{host}: {trigger_name}" if host else trigger_name),
            severity=severity_normalise(data.get("severity")),
            starts_at=parse_time(data.get("starts_at")),
            source_url=clip(data.get("url"), 1000),
            raw=dict(data),
        )
        return Parsed(alerts=[alert])


adapter = ZabbixAdapter()
