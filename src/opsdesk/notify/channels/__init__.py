"""Notification channels behind one interface (docs/subsystems/oncall.md#channels)."""
