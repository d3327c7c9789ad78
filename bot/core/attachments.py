"""The files of a customer's mail: kept under HELPDESK_DATA_DIR, or refused, and sent to Slack.

`keep` runs inside intake's transaction, right after the message is stored: it writes the
acceptable files (content-addressed, so a file sent twice is stored once), records an
`Attachment` row for every file, refused ones included, and enqueues one `slack.attachments`
outbox row that uploads them into the ticket's thread after the message itself.

A file is written before the transaction commits; if it then rolls back, the file stays
behind unreferenced, which costs disk space and nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from bot.core import outbox
from bot.core.notices import too_large
from bot.mail.files import MailFile, extension_of
from bot.storage.models import Attachment, Message

log = logging.getLogger(__name__)

SLACK_ATTACHMENTS = outbox.SLACK_ATTACHMENTS

# Files that run code when opened: programs, installers, scripts, shortcuts, disk images
# (which carry programs past Windows' "downloaded from the internet" warning) and Office
# formats with macros. Archives are let through: they are never opened here.
DANGEROUS_EXTENSIONS = frozenset(
    {
        # Windows programs, installers and libraries
        "exe", "com", "scr", "pif", "cpl", "msi", "msp", "mst", "msc", "dll", "ocx", "sys",
        "drv", "appx", "appxbundle", "msix", "msixbundle", "application", "gadget", "xll",
        # scripts
        "bat", "cmd", "js", "jse", "mjs", "vbs", "vbe", "vb", "wsf", "wsh", "wsc", "ws", "sct",
        "hta", "ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "psd1", "psm1", "msh", "msh1",
        "msh2", "reg", "inf", "scf", "sh", "bash", "zsh", "csh", "ksh", "command",
        "applescript", "scpt", "workflow", "action",
        # shortcuts and help files that run commands
        "lnk", "url", "website", "chm", "hlp", "settingcontent-ms",
        # Java, Android, macOS and Linux packages
        "jar", "jnlp", "class", "apk", "xapk", "aab", "app", "dmg", "pkg", "mpkg", "deb",
        "rpm", "run",
        # disk images
        "iso", "img", "vhd", "vhdx",
        # Office formats with macros
        "docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "xla", "pptm", "potm", "ppam",
        "ppsm", "sldm", "one",
    }
)  # fmt: skip
DANGEROUS_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-executable",
        "application/x-elf",
        "application/x-mach-binary",
        "application/vnd.microsoft.portable-executable",
        "application/x-msi",
        "application/x-ms-installer",
        "application/x-ms-shortcut",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-csh",
        "application/x-bat",
        "application/bat",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/javascript",
        "text/ecmascript",
        "text/vbscript",
        "application/x-vbscript",
        "application/hta",
        "application/x-powershell",
        "application/java-archive",
        "application/x-java-archive",
        "application/x-java-jnlp-file",
        "application/vnd.android.package-archive",
        "application/x-iso9660-image",
        "application/x-apple-diskimage",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.ms-word.template.macroenabled.12",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel.template.macroenabled.12",
        "application/vnd.ms-excel.addin.macroenabled.12",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
        "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        "application/vnd.ms-powerpoint.template.macroenabled.12",
        "application/vnd.ms-powerpoint.addin.macroenabled.12",
        "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
        "application/vnd.ms-powerpoint.slide.macroenabled.12",
    }
)
# The first bytes of programs, whatever the file is called.
_PROGRAM_MAGIC = (
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",  # Mach-O (macOS), both word sizes and byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"#!/",  # a script for an interpreter
)
REASON_LIMIT = 200  # the `refused` column


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: str  # relative to the data directory, with "/" separators


class FileStore:
    """Files under `<data_dir>/attachments/<sha256[:2]>/<sha256>`, written atomically.

    Every path is resolved and checked to be inside the data directory before it is
    written or read, so neither a stored path from the database nor a symlink planted in
    the directory can lead elsewhere.
    """

    FOLDER = "attachments"

    def __init__(self, data_dir: Path | str):
        self.root = Path(data_dir).resolve()

    def put(self, data: bytes) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{self.FOLDER}/{digest[:2]}/{digest}"
        target = self.path(relative)
        if target.is_file() and target.stat().st_size == len(data):
            return StoredFile(digest, relative)  # the same bytes, kept before
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path(relative)  # the new directories must not lead outside either
        write_atomically(target, data, ".incoming-")
        return StoredFile(digest, relative)

    def path(self, relative: str) -> Path:
        """The absolute path of a stored file; ValueError if it would be outside the store."""
        if not relative or "\x00" in relative or Path(relative).is_absolute():
            raise ValueError(f"not a path inside the data directory: {relative!r}")
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise ValueError(f"not a path inside the data directory: {relative!r}")
        return resolved

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()


def keep(
    session: Session,
    message: Message,
    files: Sequence[MailFile],
    store: FileStore,
    max_bytes: int,
) -> list[Attachment]:
    """Stores the acceptable files of `message`, records all of them, enqueues the upload.

    Called again for the same message, it returns the rows already recorded.
    """
    existing = session.exec(
        select(Attachment).where(Attachment.message_id == message.id).order_by(Attachment.id)
    ).all()
    if existing or not files:
        return list(existing)
    rows = []
    for file in files:
        refused = refusal(file, max_bytes)
        stored = None
        if refused is None:
            try:
                stored = store.put(file.data)
            except (OSError, ValueError):
                log.exception("could not store %s of message %s", file.filename, message.id)
                refused = "could not be saved on the helpdesk's server"
        row = Attachment(
            message_id=message.id,
            filename=file.filename,
            content_type=file.content_type[:255],
            size=file.size,
            sha256=file.sha256,
            inline=file.inline,
            stored_path=stored.path if stored else None,
            refused=refused[:REASON_LIMIT] if refused else None,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    enqueue(session, message.ticket_id, message.id)
    return rows


def enqueue(session: Session, ticket_id: int, message_id: int) -> None:
    """Upload the message's kept files to its thread, and list the refused ones there."""
    outbox.enqueue(session, SLACK_ATTACHMENTS, ticket_id=ticket_id, message_id=message_id)


def refusal(file: MailFile, max_bytes: int) -> str | None:
    """Why the file is not kept, in words for the agents; None when it is."""
    if file.data is None or file.size > max_bytes:
        return too_large(max_bytes)
    if file.size == 0:
        return "empty"
    return dangerous(file.filename, file.content_type, file.data)


def dangerous(filename: str, content_type: str, data: bytes | None = None) -> str | None:
    """Why opening this file could run code on the agent's computer; None if it can't."""
    extension = extension_of(filename)
    if extension in DANGEROUS_EXTENSIONS:
        return f"a .{extension} file can run programs, so it is not shared"
    if content_type.lower() in DANGEROUS_TYPES:
        return f"a file of type {content_type} can run programs, so it is not shared"
    if data is not None and (data.startswith(_PROGRAM_MAGIC) or _is_windows_program(data)):
        return "the file is a program, whatever its name says, so it is not shared"
    return None


def _is_windows_program(data: bytes) -> bool:
    """A DOS stub ("MZ") pointing at a PE header: .exe, .dll, .scr and friends."""
    if not data.startswith(b"MZ") or len(data) < 64:
        return False
    offset = int.from_bytes(data[60:64], "little")
    return data[offset : offset + 4] == b"PE\x00\x00"


def write_atomically(target: Path, data: bytes, prefix: str) -> None:
    """`target` holds all of `data` or what it held before, never part: written to a hidden
    temporary file (`prefix`…) beside it, synced, then renamed over it."""
    handle, temporary = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
