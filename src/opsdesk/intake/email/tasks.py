"""Email channel tasks: adapters that own the retries; see docs/subsystems/email.md."""

from __future__ import annotations

from django_tasks import task

from opsdesk.core.clock import now
from opsdesk.intake.email.outbound import outbound_deliver


@task()
def outbound_send_task(*, outbound_id: int) -> str:
    """Deliver one OutboundMessage; on a temporary failure enqueue itself again with back-off."""
    result = outbound_deliver(outbound_id=outbound_id)
    if result.retry_in is not None:
        retry = outbound_send_task
        if retry.get_backend().supports_defer:
            retry = retry.using(run_after=now() + result.retry_in)
        retry.enqueue(outbound_id=outbound_id)
    return result.status
