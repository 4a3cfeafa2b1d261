"""Monitoring sources: one module per kind, found through ADAPTERS (docs/subsystems/alerts.md)."""

from __future__ import annotations

from opsdesk.alerts.enums import SourceKind
from opsdesk.alerts.sources import (
    alertmanager,
    azure_monitor,
    cloudwatch,
    datadog,
    generic,
    grafana,
    zabbix,
)
from opsdesk.alerts.sources.base import Adapter

ADAPTERS: dict[str, Adapter] = {
    SourceKind.ALERTMANAGER: alertmanager.adapter,
    SourceKind.GRAFANA: grafana.adapter,
    SourceKind.ZABBIX: zabbix.adapter,
    SourceKind.CLOUDWATCH: cloudwatch.adapter,
    SourceKind.AZURE_MONITOR: azure_monitor.adapter,
    SourceKind.DATADOG: datadog.adapter,
    SourceKind.GENERIC: generic.adapter,
}
