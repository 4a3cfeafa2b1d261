"""Notification channels behind one interface (docs/subsystems/notifications.md#channels)."""
