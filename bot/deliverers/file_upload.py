"""The `slack.attachments` outbox row: a customer's files, uploaded into the ticket's thread.

The kept files go up with `files_upload_v2`, ten to a message, under a comment naming the
sender, up to the policy's `mail.max_uploads_per_message`; the refused ones, and those over
that cap, are listed in one note, with their size and why.

An upload does not hold its channel's lane of one post at a time (`posts_to_channel`): it can
take a minute, and other tickets' posts in the channel go on meanwhile.

Exactly once, across crashes: an upload can't carry message metadata, so a retry (a row in
doubt, or any later attempt, since an upload may have landed before a later step failed)
first looks in the thread, after the customer's message, for uploads of the same file names.
Rows of a ticket are delivered in order, so no later message's files can be there yet. The
note is an ordinary post with metadata (`post_once`). Only an upload whose answer was lost
and that Slack shares after that look can show twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core.attachments import SLACK_ATTACHMENTS, FileStore
from bot.deliverers.slack_posts import (
    LOOKUP_PAGES,
    SlackDeliverer,
    SlackDelivery,
    posted_ticket,
    thread_of,
)
from bot.delivery.contract import Deliverer, RetryLater
from bot.storage.models import Attachment, Message, OutboxItem, Ticket
from bot.views.file_lines import RefusedFile, refused_blocks, refused_text, upload_comment

log = logging.getLogger(__name__)

# Slack shows ten files on a message, and files.completeUploadExternal fails past about 14.
BATCH_FILES = 10
# files_upload_v2 reads a whole batch into memory before sending it.
BATCH_BYTES = 64 * 1024 * 1024
MISSING = "no longer on the helpdesk's server"


def attachment_deliverers(
    client: WebClient, store: FileStore, max_uploads: int
) -> dict[str, Deliverer]:
    return {SLACK_ATTACHMENTS: AttachmentUpload(SlackDelivery(client, []), store, max_uploads)}


def over_the_cap(max_uploads: int) -> str:
    return f"not uploaded: Slack gets the first {max_uploads} files of a message; kept here"


class AttachmentUpload(SlackDeliverer):
    posts_to_channel = False

    def __init__(self, slack: SlackDelivery, store: FileStore, max_uploads: int):
        super().__init__(slack)
        self.store = store
        self.max_uploads = max_uploads

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        message = session.get(Message, item.message_id)
        rows = attachments_of(session, message.id)
        retry = in_doubt or item.attempts > 1
        paths: dict[int, Path] = {}
        missing: dict[str, str] = {}
        kept = [row for row in rows if row.refused is None]
        # Always the same first files, so a retry finds what an earlier attempt uploaded. The
        # others stay stored, and are only listed.
        unshared = {row.id: over_the_cap(self.max_uploads) for row in kept[self.max_uploads :]}
        for row in kept[: self.max_uploads]:
            if row.slack_file_id is None:
                path = self._stored(row)
                if path is None:
                    missing[str(row.id)] = MISSING
                else:
                    paths[row.id] = path
        uploading = [row for row in rows if row.id in paths]
        uploaded = self._upload(ticket, message, item, uploading, paths, retry)
        unshared.update((int(row_id), reason) for row_id, reason in missing.items())
        refused = [
            RefusedFile(row.filename, row.size, row.refused or unshared[row.id])
            for row in rows
            if row.refused or row.id in unshared
        ]
        note = None
        if refused:
            text = refused_text(message.author_name, message.author, refused)
            blocks = refused_blocks(message.author_name, message.author, refused)
            note = self.slack.post_once(
                item, ticket, thread_of(ticket), retry, lambda: (text, blocks)
            )
        return {"files": uploaded, "missing": missing, "note": note["ts"] if note else None}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        for row in attachments_of(session, item.message_id):
            if file_id := result["files"].get(str(row.id)):
                row.slack_file_id = file_id
            if reason := result["missing"].get(str(row.id)):
                row.refused = reason

    def _stored(self, row: Attachment) -> Path | None:
        try:
            path = self.store.path(row.stored_path or "")
        except ValueError:
            log.error("attachment %s has a stored path outside the data directory", row.id)
            return None
        if not path.is_file():
            log.error("attachment %s is missing from %s", row.id, path)
            return None
        return path

    def _upload(
        self,
        ticket: Ticket,
        message: Message,
        item: OutboxItem,
        rows: list[Attachment],
        paths: dict[int, Path],
        retry: bool,
    ) -> dict[str, str]:
        """Slack's file id of each row (by row id), uploading only what isn't there yet."""
        batches = list(_batches(rows))
        earlier = self._earlier_uploads(ticket, message, item) if batches and retry else []
        uploaded: dict[str, str] = {}
        for part, batch in enumerate(batches, 1):
            file_ids = _take_match(earlier, batch)
            if file_ids is None:
                file_ids = self._send(ticket, message, batch, paths, part)
            else:
                log.info("outbox row %s: files %s were already in Slack", item.id, file_ids)
            for row, file_id in zip(batch, file_ids, strict=True):
                uploaded[str(row.id)] = file_id
        return uploaded

    def _send(
        self,
        ticket: Ticket,
        message: Message,
        batch: list[Attachment],
        paths: dict[int, Path],
        part: int,
    ) -> list[str]:
        response = self.slack.client.files_upload_v2(
            file_uploads=[
                {"file": str(paths[row.id]), "filename": row.filename, "title": row.filename}
                for row in batch
            ],
            channel=ticket.channel,
            thread_ts=ticket.thread_ts,
            initial_comment=upload_comment(message.author_name, message.author, len(batch), part),
        )
        files = response.get("files") or []
        file_ids = _pair(batch, files) or [f.get("id") for f in files]
        if len(file_ids) != len(batch) or not all(file_ids):
            raise RetryLater("Slack did not confirm every file", definite=False)
        return file_ids

    def _earlier_uploads(self, ticket: Ticket, message: Message, item: OutboxItem) -> list[list]:
        """The files of each message in the thread after the customer's message, oldest first."""
        oldest = message.slack_ts or f"{item.created_at.timestamp() - 60:.6f}"
        found: list[list] = []
        cursor = None
        for _ in range(LOOKUP_PAGES):
            response = self.slack.client.conversations_replies(
                channel=ticket.channel, ts=ticket.thread_ts, oldest=oldest, limit=200, cursor=cursor
            )
            found += [m["files"] for m in response.get("messages", []) if m.get("files")]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found
        raise RetryLater("could not finish looking for an earlier upload", definite=False)


def attachments_of(session: Session, message_id: int) -> list[Attachment]:
    return list(
        session.exec(
            select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id)
        ).all()
    )


def _batches(rows: list[Attachment]) -> Iterable[list[Attachment]]:
    batch: list[Attachment] = []
    size = 0
    for row in rows:
        if batch and (len(batch) == BATCH_FILES or size + row.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row.size
    if batch:
        yield batch


def _pair(batch: list[Attachment], files: list[dict]) -> list[str] | None:
    """The id of each row's file among `files`, matched by name; None unless all match."""
    if len(files) != len(batch):
        return None
    remaining = list(files)
    ids = []
    for row in batch:
        match = next((f for f in remaining if f.get("name") == row.filename), None)
        if match is None:
            return None
        remaining.remove(match)
        ids.append(match.get("id"))
    return ids


def _take_match(uploads: list[list], batch: list[Attachment]) -> list[str] | None:
    """The file ids of an earlier upload of exactly this batch, which is then used up."""
    for index, files in enumerate(uploads):
        if (ids := _pair(batch, files)) is not None:
            del uploads[index]
            return ids
    return None
