"""A parsed mail as the text a ticket shows (the mail's own text, then every attached Outlook
message opened); see docs/subsystems/email.md."""

from __future__ import annotations

from django.utils.translation import gettext as _

from opsdesk.intake.email.results import EnclosedMessage, ParsedMessage


def _enclosed_block(item: EnclosedMessage) -> str:
    sender = f"{item.from_name} <{item.from_address}>" if item.from_name else item.from_address
    lines = [
        "---------- "
        + _("Attached Outlook message %(name)s") % {"name": item.filename}
        + " ----------"
    ]
    if sender:
        lines.append(_("From: %(sender)s") % {"sender": sender})
    if item.date is not None:
        lines.append(_("Date: %(date)s") % {"date": f"{item.date:%Y-%m-%d %H:%M %z}"})
    lines.append(_("Subject: %(subject)s") % {"subject": item.subject})
    if item.attachment_names:
        lines.append(_("Attachments: %(names)s") % {"names": ", ".join(item.attachment_names)})
    return "\n".join(lines) + "\n\n" + item.text_body.strip()


def message_text(parsed: ParsedMessage) -> str:
    """The mail's text with each attached Outlook message's headers and text below it."""
    if not parsed.enclosed:
        return parsed.text_body
    blocks = [parsed.text_body.rstrip(), *(_enclosed_block(e) for e in parsed.enclosed)]
    return "\n\n".join(b for b in blocks if b.strip())
