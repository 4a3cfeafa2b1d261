"""Email parsing layer (bytes to ParsedMessage, Classification); see docs/subsystems/email.md."""

from opsdesk.intake.email.classify import Classification, classify
from opsdesk.intake.email.parsing import parse_message
from opsdesk.intake.email.results import (
    InterestingHeaders,
    ParsedAttachment,
    ParsedMessage,
    UnparseableMessage,
)

__all__ = [
    "Classification",
    "InterestingHeaders",
    "ParsedAttachment",
    "ParsedMessage",
    "UnparseableMessage",
    "classify",
    "parse_message",
]
