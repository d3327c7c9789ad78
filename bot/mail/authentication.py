"""Authentication-Results (RFC 8601): did the receiving mail server verify the sender?

Anyone can write an Authentication-Results header into a message, "dmarc=pass" included.
Only the ones the receiving server added count: servers prepend theirs, so that is the
topmost one, or, when the policy names the server (`mail.authserv_id`), every one carrying
its authserv-id (RFC 8601 section 5 has the server remove forged ones with its own id).
Everything further down came with the message and is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_METHOD_RESULT = re.compile(
    r"^\s*(?P<method>[a-z0-9_.-]+)\s*(?:/\s*[0-9]+\s*)?=\s*(?P<result>[a-z0-9_.-]+)", re.IGNORECASE
)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str  # lower-cased
    results: tuple[tuple[str, str], ...]  # (method, result), lower-cased, in order

    def of(self, method: str) -> list[str]:
        return [result for name, result in self.results if name == method]


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One header's value; None when it has no authserv-id."""
    segments = _segments(value)
    head = segments[0].split()
    if not head:
        return None
    results = []
    for segment in segments[1:]:
        found = _METHOD_RESULT.match(segment)
        if found:
            results.append((found["method"].lower(), found["result"].lower()))
    return AuthenticationResults(authserv_id=head[0].strip('"').lower(), results=tuple(results))


def unverified_reason(values: list[str], authserv_id: str | None) -> str | None:
    """Why the sender is not verified, e.g. "dmarc=fail"; None when nothing says so.

    `values`: every Authentication-Results header, topmost first. Unverified means DMARC
    failed, or SPF failed and no DKIM signature passed (an unsigned message included). No
    trusted header, or one without these methods, is not a failure: most mail servers in
    front of the helpdesk add none, and mail must still reach it.
    """
    trusted = _trusted(values, authserv_id)
    dmarc = [r for header in trusted for r in header.of("dmarc")]
    spf = [r for header in trusted for r in header.of("spf")]
    dkim = [r for header in trusted for r in header.of("dkim")]
    if "fail" in dmarc:
        return "dmarc=fail"
    if "fail" in spf and "pass" not in dkim:
        return f"spf=fail, dkim={dkim[0] if dkim else 'none'}"
    return None


def _trusted(values: list[str], authserv_id: str | None) -> list[AuthenticationResults]:
    if authserv_id is None:
        # Only the topmost: if it can't be read, nothing below it is trusted instead.
        top = parse_authentication_results(values[0]) if values else None
        return [top] if top else []
    wanted = authserv_id.lower()
    headers = [parse_authentication_results(value) for value in values]
    return [header for header in headers if header and header.authserv_id == wanted]


def _segments(value: str) -> list[str]:
    """The value split at ";" outside quoted strings, comments (nested) removed."""
    segments, current = [], []
    depth = 0
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
            if not depth:
                current.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
            current.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            current.append(" ")
        elif depth:
            continue
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == ";":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return segments
