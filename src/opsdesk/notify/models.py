"""In-app notices to agents' screens (an incoming call, later: escalations).

See docs/subsystems/notifications.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AgentNotice(models.Model):
    """A notice shown on staff screens. ``recipient`` null means every logged-in agent.

    Screens poll for notices newer than the last id they showed (docs/decisions/0003).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"
