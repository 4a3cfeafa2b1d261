"""IMAP poller: per Mailbox, new UIDs through email_ingest, then move/flag and checkpoint;
see docs/subsystems/email.md.

Messages are fetched in groups (one FETCH for up to FETCH_GROUP_MESSAGES messages or
FETCH_GROUP_BYTES, by the sizes the server reports), and each group is moved or flagged with
one command and checkpointed with one write, instead of three round trips per message.

Crash safety: for each group, in this order: ingest each message (each commits), move or flag
the group on the server, store ``last_uid``. A worker killed anywhere in between refetches at
most that group on restart, and the Message-ID de-duplication turns each refetched message
into "duplicate" instead of a second article. A UIDVALIDITY change resets the checkpoint (the
folder was recreated): everything is fetched again and de-duplicated.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import close_old_connections
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import UnexpectedCommandStatusError

from opsdesk.config import env
from opsdesk.core.clock import now
from opsdesk.intake.email.ingest import IngestResult, email_ingest
from opsdesk.intake.models import Mailbox, ProcessedAction, ReceivedVia

logger = logging.getLogger("opsdesk.intake.email")

IDLE_MAX_SECONDS = 29 * 60  # RFC 2177: re-issue IDLE before 30 minutes
FETCH_GROUP_MESSAGES = 20
FETCH_GROUP_BYTES = 16 * 1024 * 1024
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


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


def _sizes(client: BaseMailBox, uids: list[int]) -> dict[int, int]:
    """RFC822.SIZE of each UID, in one round trip."""
    if not uids:
        return {}
    typ, data = client.client.uid("FETCH", f"{uids[0]}:{uids[-1]}", "(RFC822.SIZE)")
    sizes: dict[int, int] = {}
    for item in data if typ == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (uid := _UID.search(line)) and (size := _SIZE.search(line)):
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _groups(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    """Consecutive UIDs in groups small enough to hold in memory together."""
    groups: list[list[int]] = []
    group_bytes = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if (
            not groups
            or len(groups[-1]) >= FETCH_GROUP_MESSAGES
            or (group_bytes + size > FETCH_GROUP_BYTES and groups[-1])
        ):
            groups.append([])
            group_bytes = 0
        groups[-1].append(uid)
        group_bytes += size
    return groups


def _fetch_group(client: BaseMailBox, uids: list[int]) -> dict[int, bytes]:
    """The raw messages of ``uids`` in one FETCH. Servers may put the UID before or after the
    message literal, so a literal without one takes the UID that follows it."""
    typ, data = client.client.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
    raws: dict[int, bytes] = {}
    waiting: bytes | None = None
    for item in data if typ == "OK" else []:
        if isinstance(item, tuple) and len(item) == 2:
            match = _UID.search(item[0])
            if match:
                raws[int(match.group(1))] = bytes(item[1])
            else:
                waiting = bytes(item[1])
        elif isinstance(item, bytes) and waiting is not None and (match := _UID.search(item)):
            raws[int(match.group(1))] = waiting
            waiting = None
    if waiting is not None and len(uids) == 1 and uids[0] not in raws:
        raws[uids[0]] = waiting
    return raws


def _mark_processed(client: BaseMailBox, mailbox: Mailbox, uids: list[int]) -> None:
    """Move or flag messages whose tickets are committed. Another session may have expunged
    some of them since we fetched them (a poller killed while moving its batch, whose server
    process finished the expunge; a mail client): the server then refuses the whole command
    (Dovecot: ``NO [EXPUNGEISSUED]``). The ones still there are marked again; the others are
    gone, and their mail is in OpsDesk already."""
    if not uids:
        return
    try:
        _mark(client, mailbox, uids)
    except UnexpectedCommandStatusError as exc:
        still = _still_there(client, uids)
        logger.warning(
            "IMAP refused to mark processed mail; retrying the messages still there",
            extra={
                "mailbox": mailbox.name,
                "error": str(exc)[:300],
                "gone": len(uids) - len(still),
            },
        )
        if still:
            _mark(client, mailbox, still)


def _mark(client: BaseMailBox, mailbox: Mailbox, uids: list[int]) -> None:
    wanted = ",".join(map(str, uids))
    if mailbox.processed_action == ProcessedAction.MOVE and mailbox.processed_folder:
        client.move(wanted, mailbox.processed_folder)
    else:
        client.flag(wanted, MailMessageFlags.SEEN, True)


def _still_there(client: BaseMailBox, uids: list[int]) -> list[int]:
    typ, data = client.client.uid("SEARCH", "UID", ",".join(map(str, uids)))
    if typ != "OK":
        return []
    found = {int(n) for line in data if line for n in bytes(line).split()}
    return [uid for uid in uids if uid in found]


def _checkpoint(mailbox: Mailbox, uid: int) -> None:
    mailbox.last_uid = uid
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid, last_error="")


def mailbox_poll_batch(
    *, client: BaseMailBox, mailbox: Mailbox, stop: threading.Event | None = None
) -> PollReport:
    """Ingest every new message of one connected mailbox, checkpointing after each group."""
    report = PollReport(mailbox=mailbox.name)
    _check_uidvalidity(client, mailbox)
    uids = _new_uids(client, mailbox)
    for group in _groups(uids, _sizes(client, uids)):
        if stop is not None and stop.is_set():
            break
        raws = _fetch_group(client, group)
        done: list[int] = []
        ingested: list[int] = []
        for uid in group:
            if stop is not None and stop.is_set():
                break
            raw = raws.pop(uid, None)  # dropped as soon as it is ingested
            if raw is not None:
                result = email_ingest(raw=raw, received_via=ReceivedVia.IMAP, mailbox=mailbox)
                report.results.append(result)
                ingested.append(uid)
            done.append(uid)
            report.fetched += 1
        _mark_processed(client, mailbox, ingested)
        if done:
            _checkpoint(mailbox, done[-1])
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
