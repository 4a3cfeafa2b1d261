"""Generic JSON senders, read through a field mapping of dotted paths ("a.b.0.c").

Mapping keys: ``alerts`` (path to a list; default: the body, or the body as one alert),
``fingerprint``, ``status`` with ``status_map`` (source word → firing/resolved/unknown),
``summary``, ``severity``, ``source_url``, ``starts_at``, ``ends_at``, and ``labels`` /
``annotations`` as ``{name: path}`` or one path to an object. ``{"preset": NAME}`` uses
a mapping from presets.py. See docs/subsystems/alerts.md ("Generic JSON").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsdesk.alerts.sources.base import (
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
from opsdesk.alerts.sources.presets import PRESETS

DEFAULT_MAPPING: dict[str, Any] = {
    "fingerprint": "fingerprint",
    "status": "status",
    "summary": "summary",
    "severity": "severity",
    "labels": "labels",
    "annotations": "annotations",
}
DEFAULT_STATUS_MAP = {
    "firing": "firing",
    "problem": "firing",
    "alert": "firing",
    "open": "firing",
    "triggered": "firing",
    "resolved": "resolved",
    "ok": "resolved",
    "closed": "resolved",
    "recovered": "resolved",
}


def get_path(data: Any, path: str) -> Any:
    """``a.b.0.c`` into nested objects and lists; a missing step gives None."""
    current = data
    for step in path.split(".") if path else []:
        if isinstance(current, Mapping):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def mapping_resolve(field_mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    preset = field_mapping.get("preset")
    if preset is None:
        return field_mapping or DEFAULT_MAPPING
    if preset not in PRESETS:
        raise SourceError(f"unknown preset {preset!r}")
    return {**PRESETS[preset], **{k: v for k, v in field_mapping.items() if k != "preset"}}


def pick_dict(item: Any, spec: Any) -> dict[str, str]:
    if isinstance(spec, Mapping):
        values = {name: get_path(item, str(path)) for name, path in spec.items()}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}
    return str_dict(get_path(item, str(spec))) if spec else {}


def alert_from(item: Any, mapping: Mapping[str, Any]) -> AlertInput:
    require_mapping(item, "each alert")
    labels = pick_dict(item, mapping.get("labels"))
    status_map = {str(k).lower(): v for k, v in (mapping.get("status_map") or {}).items()}
    status_word = get_path(item, mapping.get("status", "")) if mapping.get("status") else None
    status = (
        "firing"
        if status_word is None
        else status_from(status_word, status_map or DEFAULT_STATUS_MAP, "status")
    )
    fingerprint = get_path(item, str(mapping.get("fingerprint", "")))
    if fingerprint in (None, "") and not labels:
        raise SourceError("no fingerprint and no labels to compute one from")
    summary = get_path(item, str(mapping.get("summary", ""))) or labels.get("alertname", "")
    if not summary:
        raise SourceError("no summary")
    labels.setdefault("alertname", clip(summary))
    return AlertInput(
        fingerprint=clip(fingerprint)
        if fingerprint not in (None, "")
        else labels_fingerprint(labels),
        status=status,
        labels=labels,
        annotations=pick_dict(item, mapping.get("annotations")),
        summary=clip(summary),
        severity=severity_normalise(get_path(item, str(mapping.get("severity", "")))),
        starts_at=parse_time(get_path(item, str(mapping.get("starts_at", "")))),
        ends_at=parse_time(get_path(item, str(mapping.get("ends_at", "")))),
        source_url=clip(get_path(item, str(mapping.get("source_url", ""))) or "", 1000),
        raw=dict(item),
    )


class GenericAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        mapping = mapping_resolve(inbound.field_mapping)
        data = inbound.data
        items = get_path(data, str(mapping["alerts"])) if mapping.get("alerts") else data
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list) or not items:
            raise SourceError("no alerts in the body")
        return Parsed(alerts=[alert_from(item, mapping) for item in items])


adapter = GenericAdapter()
