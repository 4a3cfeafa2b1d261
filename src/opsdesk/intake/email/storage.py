"""Raw mail kept on disk, content-addressed, before any database row (docs/subsystems/email.md)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def raw_mail_name(sha256: str) -> str:
    return f"mail/{sha256[:2]}/{sha256}.eml"


def raw_mail_store(*, raw: bytes) -> tuple[str, str]:
    """Write the bytes (once per content) and return (storage name, sha256)."""
    digest = hashlib.sha256(raw).hexdigest()
    name = raw_mail_name(digest)
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(raw))
        if saved != name:  # a concurrent writer won the race; same content either way
            default_storage.delete(saved)
    return name, digest


def raw_mail_read(*, name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    return data
