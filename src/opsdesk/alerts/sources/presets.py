"""Ready-made field mappings for the generic source (``{"preset": "pingdom"}``).

See docs/subsystems/alerts.md ("Generic JSON").
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # Google Cloud Monitoring (Stackdriver) incidents, webhook version 1.1.
    "stackdriver": {
        "fingerprint": "incident.incident_id",
        "status": "incident.state",
        "status_map": {"open": "firing", "closed": "resolved"},
        "summary": "incident.summary",
        "source_url": "incident.url",
        "starts_at": "incident.started_at",
        "ends_at": "incident.ended_at",
        "labels": {
            "alertname": "incident.policy_name",
            "condition": "incident.condition_name",
            "resource": "incident.resource_name",
        },
    },
    # Pingdom uptime checks (webhook version 1).
    "pingdom": {
        "fingerprint": "check_id",
        "status": "current_state",
        "status_map": {"down": "firing", "up": "resolved"},
        "summary": "check_name",
        "severity": "importance_level",
        "starts_at": "state_changed_timestamp",
        "labels": {"alertname": "check_name", "host": "check_params.hostname"},
        "annotations": {"description": "long_description"},
    },
    # New Relic alert incidents (legacy webhook).
    "newrelic": {
        "fingerprint": "incident_id",
        "status": "current_state",
        "status_map": {"open": "firing", "acknowledged": "firing", "closed": "resolved"},
        "summary": "condition_name",
        "severity": "severity",
        "source_url": "incident_url",
        "starts_at": "timestamp",
        "labels": {"alertname": "condition_name", "policy": "policy_name"},
        "annotations": {"details": "details"},
    },
}
