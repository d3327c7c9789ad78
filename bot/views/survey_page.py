"""The survey pages customers reach from the email (CSAT and NPS): plain HTML, no JavaScript,
all text escaped."""

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
    ".ratings{border:0;padding:0}.ratings label{display:block;margin:.4em 0;font-size:1.2em}"
    "textarea{width:100%;min-height:8em}.notice{padding:.6em;background:#eef6ee}"
)


@dataclass(frozen=True)
class SurveyPage:
    question: str  # the heading until answered, and the page's title
    legend: str  # over the choices: "Your rating"
    field: str  # the choices' form field
    ticket_number: int
    subject: str
    token: str
    choices: tuple[tuple[int, str], ...]  # (value, label) as listed
    chosen: int | None  # preselected: the link's choice, else the one already given
    answered: bool  # an answer is recorded
    comment: str | None
    comment_limit: int
    notice: str | None = None  # one line for the customer: thanks, or what went wrong


def survey_page(page: SurveyPage) -> str:
    """The question with the clicked choice preselected; only sending the form records it.

    Mail scanners open every link in a message, so following a link must change nothing.
    """
    about = f"Your request #{page.ticket_number}: {page.subject}"
    notice = f'<p class="notice">{html.escape(page.notice)}</p>\n' if page.notice else ""
    heading = "Thank you!" if page.answered else page.question
    return _document(
        page.question,
        f"<h1>{html.escape(heading)}</h1>\n<p>{html.escape(about)}</p>\n{notice}{_answer_form(page)}",
    )


def _answer_form(page: SurveyPage) -> str:
    # The token in the form's address is the only credential, so a forged post can't name one.
    choices = "".join(
        f'<label><input type="radio" name="{page.field}" value="{value}" required'
        f"{' checked' if value == page.chosen else ''}> {html.escape(label)}</label>\n"
        for value, label in page.choices
    )
    return (
        f'<form method="post" action="{html.escape(page.token)}" accept-charset="utf-8">\n'
        f"<fieldset class=ratings>\n<legend>{html.escape(page.legend)}</legend>\n"
        f"{choices}</fieldset>\n"
        '<p><label for="comment">Anything you would like to add? (optional, up to '
        f"{page.comment_limit:,} characters)</label></p>\n"
        f'<textarea id="comment" name="comment" maxlength="{page.comment_limit}">'
        f"{html.escape(page.comment or '')}</textarea>\n"
        f'<p><button type="submit">{"Update my answer" if page.answered else "Send"}</button>'
        "</p>\n</form>\n"
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
