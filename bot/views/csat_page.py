"""The survey pages customers reach from the email: plain HTML, no JavaScript, all text escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass

# Nothing but this page's own styles and a form posting back to the helpdesk; links in a
# survey carry its token, so no page may leak it to another site either.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_STYLE = (
    "body{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;color:#222}"
    ".ratings a{display:block;margin:.4em 0;font-size:1.2em;text-decoration:none}"
    ".ratings a.chosen{font-weight:bold}textarea{width:100%;min-height:8em}"
    ".notice{padding:.6em;background:#eef6ee}"
)


@dataclass(frozen=True)
class SurveyPage:
    ticket_number: int
    subject: str
    token: str
    choices: list[tuple[int, str]]  # (rating, label), best first
    rating: int | None
    comment: str | None
    comment_limit: int
    notice: str | None = None  # one line for the customer: thanks, or what went wrong


def survey_page(page: SurveyPage) -> str:
    about = f"Your request #{page.ticket_number}: {page.subject}"
    notice = f'<p class="notice">{html.escape(page.notice)}</p>\n' if page.notice else ""
    # Relative links, so the pages work wherever a proxy mounts them.
    ratings = "".join(
        f'<a href="?rating={rating}"{" class=chosen" if rating == page.rating else ""}>'
        f"{html.escape(label)}</a>\n"
        for rating, label in page.choices
    )
    heading, prompt = (
        ("Thank you!", "Change your rating:") if page.rating else ("How did we do?", "")
    )
    body = (
        f"<h1>{heading}</h1>\n<p>{html.escape(about)}</p>\n{notice}"
        + (f"<p>{prompt}</p>\n" if prompt else "")
        + f"<div class=ratings>\n{ratings}</div>\n"
    )
    if page.rating:
        body += _comment_form(page)
    return _document("How did we do?", body)


def _comment_form(page: SurveyPage) -> str:
    # The token in the form's address is the only credential, so a forged post can't name one.
    return (
        f'<form method="post" action="{html.escape(page.token)}" accept-charset="utf-8">\n'
        '<p><label for="comment">Anything you would like to add? (optional)</label></p>\n'
        f'<textarea id="comment" name="comment" maxlength="{page.comment_limit}">'
        f"{html.escape(page.comment or '')}</textarea>\n"
        '<p><button type="submit">Send comment</button></p>\n</form>\n'
    )


def error_page(title: str, message: str) -> str:
    return _document(title, f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(message)}</p>\n")


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}</body></html>\n"
    )
