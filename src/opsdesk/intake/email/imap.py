"""IMAP poller: per Mailbox, new UIDs through email_ingest, then move/flag and checkpoint;
see docs/subsystems/email.md.

Crash safety: for each message, in this order: ingest (commits), move or flag on the server,
store ``last_uid``. A worker killed anywhere in between refetches at most that message on
restart, and the Message-ID de-duplication turns it into "duplicate" instead of a second
article. A UIDVALIDITY change resets the checkpoint (the folder was recreated): everything is
fetched again and de-duplicated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import close_old_connections
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags

from opsdesk.config import env
from opsdesk.core.clock import now
from opsdesk.intake.email.ingest import IngestResult, email_ingest
from opsdesk.intake.models import Mailbox, ProcessedAction, ReceivedVia

logger = logging.getLogger("opsdesk.intake.email")

IDLE_MAX_SECONDS = 29 * 60  # RFC 2177: re-issue IDLE before 30 minutes


class MailboxConfigError(Exception):
    pass


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    results: list[IngestResult] = field(default_factory=list)


def mailbox_password(*, mailbox: Mailbox) -> str:
    password = env.get_str(mailbox.password_env) if mailbox.password_env else ""
    if not password:
        raise MailboxConfigError(
            f"mailbox {mailbox.name}: set OPSDESK_{mailbox.password_env or '<password_env>'}"
        )
    return password


@contextmanager
def mailbox_connect(*, mailbox: Mailbox, timeout: float = 60) -> Iterator[BaseMailBox]:
    client: BaseMailBox
    if mailbox.use_ssl:
        client = MailBox(mailbox.host, mailbox.port, timeout=timeout)
    elif mailbox.use_starttls:
        client = MailBoxStartTls(mailbox.host, mailbox.port, timeout=timeout)
    else:
        client = MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=timeout)
    client.login(mailbox.username, mailbox_password(mailbox=mailbox), mailbox.folder)
    try:
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone
            logger.debug("IMAP logout failed", exc_info=True)


def _check_uidvalidity(client: BaseMailBox, mailbox: Mailbox) -> None:
    status = client.folder.status(mailbox.folder, ["UIDVALIDITY"])
    validity = int(status["UIDVALIDITY"])
    if mailbox.uidvalidity != validity:
        if mailbox.uidvalidity is not None:
            logger.warning("UIDVALIDITY changed; refetching", extra={"mailbox": mailbox.name})
        mailbox.uidvalidity, mailbox.last_uid = validity, 0
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=validity, last_uid=0)


def _new_uids(client: BaseMailBox, mailbox: Mailbox) -> list[int]:
    # "N:*" always matches the highest UID even when it is below N, so filter again.
    uids = (int(u) for u in client.uids(f"UID {mailbox.last_uid + 1}:*"))
    return sorted(u for u in uids if u > mailbox.last_uid)


def _fetch_raw(client: BaseMailBox, uid: int) -> bytes | None:
    typ, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None


def _mark_processed(client: BaseMailBox, mailbox: Mailbox, uid: int) -> None:
    if mailbox.processed_action == ProcessedAction.MOVE and mailbox.processed_folder:
        client.move(str(uid), mailbox.processed_folder)
    else:
        client.flag(str(uid), MailMessageFlags.SEEN, True)


def _checkpoint(mailbox: Mailbox, uid: int) -> None:
    mailbox.last_uid = uid
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid, last_error="")


def mailbox_poll_batch(
    *, client: BaseMailBox, mailbox: Mailbox, stop: threading.Event | None = None
) -> PollReport:
    """Ingest every new message of one connected mailbox, checkpointing after each."""
    report = PollReport(mailbox=mailbox.name)
    _check_uidvalidity(client, mailbox)
    for uid in _new_uids(client, mailbox):
        if stop is not None and stop.is_set():
            break
        raw = _fetch_raw(client, uid)
        if raw is not None:
            result = email_ingest(raw=raw, received_via=ReceivedVia.IMAP, mailbox=mailbox)
            report.results.append(result)
            _mark_processed(client, mailbox, uid)
        report.fetched += 1
        _checkpoint(mailbox, uid)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now())
    return report


def mailbox_poll(*, mailbox: Mailbox) -> PollReport:
    """One connection, one batch (``opsdesk mail-poll --once``)."""
    with mailbox_connect(mailbox=mailbox) as client:
        return mailbox_poll_batch(client=client, mailbox=mailbox)


def _supports_idle(client: BaseMailBox) -> bool:
    return "IDLE" in getattr(client.client, "capabilities", ())


def mailbox_watch(*, mailbox: Mailbox, stop: threading.Event) -> None:
    """Poll, then wait with IDLE (or sleep poll_interval) for more, until ``stop`` is set.
    Connection errors are recorded on the mailbox and retried after poll_interval."""
    while not stop.is_set():
        try:
            with mailbox_connect(mailbox=mailbox) as client:
                while not stop.is_set():
                    close_old_connections()  # a long-lived process: drop stale DB connections
                    mailbox_poll_batch(client=client, mailbox=mailbox, stop=stop)
                    if _supports_idle(client):
                        client.idle.wait(timeout=min(mailbox.poll_interval, IDLE_MAX_SECONDS))
                    else:
                        stop.wait(mailbox.poll_interval)
        except MailboxConfigError:
            raise
        except Exception as exc:  # network, server, temporary database trouble
            logger.warning("mailbox poll failed", extra={"mailbox": mailbox.name})
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=f"{type(exc).__name__}: {exc}")
            stop.wait(mailbox.poll_interval)
