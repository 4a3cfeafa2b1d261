"""Raw mail kept on disk, content-addressed, before any database row (docs/subsystems/email.md)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage


def raw_mail_name(sha256: str) -> str:
    return f"mail/{sha256[:2]}/{sha256}.eml"


def raw_mail_store(*, raw: bytes) -> tuple[str, str]:
    """Write the bytes (once per content) and return (storage name, sha256)."""
    digest = hashlib.sha256(raw).hexdigest()
    name = raw_mail_name(digest)
    if isinstance(default_storage, FileSystemStorage):
        _file_store(default_storage, name, raw)
    elif not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(raw))
        if saved != name:  # a concurrent writer won the race; same content either way
            default_storage.delete(saved)
    return name, digest


def _file_store(storage: FileSystemStorage, name: str, raw: bytes) -> None:
    """The local-disk case without Storage.save's generic work (a second existence check, a
    free-name search, a lock, 64 KB chunks): one stat when the mail is already there, else
    one write to a temporary name and a rename. The rename makes the file appear whole or
    not at all, and a file of the wrong size (left by a crash before this code) is written
    again, so the name never points at half a mail."""
    path = storage.path(name)
    try:
        if os.stat(path).st_size == len(raw):
            return
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, f".{secrets.token_hex(8)}.tmp")
    try:
        handle = open(temporary, "xb")  # noqa: SIM115 - closed below, before the rename
    except FileNotFoundError:  # the first mail of this hash prefix
        _directories_make(storage, directory)
        handle = open(temporary, "xb")  # noqa: SIM115
    try:
        with handle:
            handle.write(raw)
        if storage.file_permissions_mode is not None:
            os.chmod(temporary, storage.file_permissions_mode)
        os.replace(temporary, path)  # atomic; a concurrent writer of the same mail is harmless
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _directories_make(storage: FileSystemStorage, directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    mode = storage.directory_permissions_mode
    if mode is not None:  # as Storage.save: the setting's mode on mail/ and mail/<xx>/
        os.chmod(os.path.dirname(directory), mode)
        os.chmod(directory, mode)


def raw_mail_read(*, name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    return data
