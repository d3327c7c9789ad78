"""A message's MIME tree, read by the stdlib parser, with the boundaries mailers got wrong found.

The stdlib splits a multipart at the boundary its Content-Type declares. When that
boundary matches no line of the body (a mailer rewrote one and not the other, or lost the
parameter), the multipart is one opaque blob, and its raw part headers and base64 would be
shown as what the customer wrote. Here the real boundary is looked for in the body (the
first `--token` line followed by part headers), and the part is parsed again with it; so
is a part whose Content-Type header a mailer dropped. A multipart with no delimiter line
at all whose body starts with part headers is read as that one part.

`parse_email` and `files.extract` both read messages through `read_message`, so the text
and the files come from the same tree.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesParser

# Real mail nests a handful of levels; deeper trees are built to exhaust the stack.
MAX_DEPTH = 50
_BOUNDARY = re.compile(r"""\bboundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))""", re.IGNORECASE)
# A delimiter line of RFC 2046's boundary characters (70 at most there; mailers exceed it).
_DELIMITER_LINE = re.compile(r"^--([0-9A-Za-z'()+_,\-./:=?]{1,200})[ \t]*\r?$", re.MULTILINE)
_HEADER_LINE = re.compile(r"[!-9;-~]+[ \t]*:")
_CONTENT_HEADER = re.compile(r"content-(?:type|transfer-encoding|disposition)[ \t]*:", re.I)
_DELIMITERS_TRIED = 20  # "--" lines looked at for the real boundary: signatures, rulers…
_HEADER_LINES_READ = 20  # a part's header block longer than this is not taken for one
# Real mail needs one re-split, two when an inner multipart is broken too.
_REPAIRS_PER_MESSAGE = 4
# Transfer encodings under which a body is its bytes as sent, raw MIME included.
_IDENTITY_ENCODINGS = ("", "7bit", "8bit", "binary")


class _LenientMessage(Message):
    """Finds the boundary in Content-Type headers that mailers got slightly wrong.

    The stdlib parser asks each part for its boundary while splitting the message; without
    one, a multipart is a single opaque blob. Handled (both are in Dovecot's test corpus):
    a missing ";" before `boundary=`, and a quoted boundary folded over two lines.
    """

    def get_boundary(self, failobj: object = None) -> object:
        boundary = super().get_boundary()
        if boundary is None and self.get_content_maintype() == "multipart":
            found = _BOUNDARY.search(str(self.get("Content-Type", "")))
            boundary = (found.group(1) or found.group(2)) if found else None
        if not boundary:
            return failobj
        return str(boundary).replace("\r", "").replace("\n", "")


def read_message(raw: bytes) -> Message:
    """The parsed message, multiparts whose declared boundary matched nothing re-split.

    Raises what the stdlib parser raises (RecursionError on absurd nesting).
    """
    message = _parsed(raw)
    _Repair().walk(message, depth=0)
    return message


def _parsed(raw: bytes) -> Message:
    return BytesParser(_LenientMessage, policy=policy.compat32).parsebytes(raw)


class _Repair:
    """One message's repairs. Each re-split parses its part's body again, so they are
    counted: nested wrong boundaries would otherwise parse a 5 MB body 50 times (10 s)."""

    def __init__(self) -> None:
        self.left = _REPAIRS_PER_MESSAGE

    def walk(self, part: Message, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if part.is_multipart():
            if part.get_content_maintype() != "message":  # attached messages are files
                for child in part.get_payload():
                    if isinstance(child, Message):
                        self.walk(child, depth + 1)
            return
        # A multipart that did not split, or a part whose Content-Type a mailer lost.
        if part.get_content_maintype() != "multipart" and part.get("Content-Type") is not None:
            return
        raw = _raw_body(part) if self.left > 0 else None
        if raw is None:
            return
        self.left -= 1
        body = raw.decode("ascii", "surrogateescape")
        boundary = real_boundary(body)
        if boundary is None:
            self._adopt_lone_part(part, body, depth)
        else:
            self._split(part, raw, boundary, depth)

    def _split(self, part: Message, raw: bytes, boundary: str, depth: int) -> None:
        multipart = part.get_content_maintype() == "multipart"
        subtype = part.get_content_subtype() if multipart else "mixed"
        head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode()
        reparsed = _parsed(head + raw)
        if not reparsed.is_multipart():
            return
        children = reparsed.get_payload()
        part.set_payload(children)
        part.preamble, part.epilogue = reparsed.preamble, reparsed.epilogue
        if part.get("Content-Type") is None:
            # A plain and an HTML version of one text is what mailers send as an alternative.
            kinds = [child.get_content_type() for child in children]
            subtype = "alternative" if kinds == ["text/plain", "text/html"] else subtype
            part["Content-Type"] = f"multipart/{subtype}"
        part.set_param("boundary", boundary)
        self.walk(part, depth)

    def _adopt_lone_part(self, part: Message, body: str, depth: int) -> None:
        """A multipart without any delimiter line whose body starts with part headers: that
        one part is its content, read as a part instead of shown as raw headers and base64."""
        start = len(body) - len(body.lstrip("\r\n"))
        if part.get_content_maintype() != "multipart" or not _part_headers_follow(body, start):
            return
        inner = _parsed(body[start:].encode("ascii", "surrogateescape"))
        part.set_payload([inner])
        self.walk(inner, depth + 1)


def _raw_body(part: Message) -> bytes | None:
    """The body as sent, when it can be raw MIME: no transfer encoding wraps it."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding not in _IDENTITY_ENCODINGS:
        return None
    try:  # the bytes as received; the undecoded payload is text in the part's charset
        payload = part.get_payload(decode=True)
    except Exception:  # a charset or encoding the stdlib chokes on: leave the part be
        return None
    return payload if isinstance(payload, bytes) else None


def real_boundary(body: str) -> str | None:
    """The boundary of the first delimiter line that a block of part headers follows."""
    for number, line in enumerate(_DELIMITER_LINE.finditer(body)):
        if number == _DELIMITERS_TRIED:
            return None
        if _part_headers_follow(body, line.end() + 1):
            return line.group(1)
    return None


def _part_headers_follow(body: str, start: int) -> bool:
    """Whether the lines from `start` to the next empty line are headers, a Content-* one
    among them."""
    lines = body[start : start + 200 * _HEADER_LINES_READ].splitlines()[:_HEADER_LINES_READ]
    content = False
    for line in lines:
        if not line.strip():
            return content
        if line[0] in " \t":  # a folded header's continuation
            continue
        if not _HEADER_LINE.match(line):
            return False
        content = content or _CONTENT_HEADER.match(line) is not None
    return False
