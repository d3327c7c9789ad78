"""A survey email (CSAT or NPS): a reply in the ticket's conversation with one link per answer."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.message import EmailMessage

from bot.core import text
from bot.mail.compose import OutboundReply, compose_reply


@dataclass(frozen=True)
class SurveyMail:
    question: str  # "How did we do?": the subject's start and the intro's question
    support_address: str
    customer_address: str
    customer_name: str
    customer_first_name: str
    ticket_number: int
    subject: str
    choices: list[tuple[str, str]]  # (label, link preselecting it) per answer, as listed
    links_expire: date
    in_reply_to: str | None  # the customer's last Message-ID, without brackets
    references: list[str]  # the chain so far, oldest first, without brackets
    message_id: str  # without brackets
    date: datetime


def survey_subject(question: str, number: int, subject: str) -> str:
    return f"{question} [#{number}] {text.subject(subject) or 'Your request'}"


def compose_survey(survey: SurveyMail) -> EmailMessage:
    # Stored values may predate the cleaning at the edge; the subject and name are also
    # written into the text and HTML parts, the question (naming the shop) into the subject.
    survey = replace(
        survey,
        question=text.subject(survey.question),
        subject=text.subject(survey.subject),
        customer_first_name=text.name(survey.customer_first_name),
    )
    # Threaded exactly like an agent's reply, so it lands in the customer's conversation.
    mail = compose_reply(
        OutboundReply(
            support_address=survey.support_address,
            support_name="",
            customer_address=survey.customer_address,
            customer_name=survey.customer_name,
            subject=survey.subject,
            body=_text(survey),
            in_reply_to=survey.in_reply_to,
            references=survey.references,
            message_id=survey.message_id,
            date=survey.date,
        )
    )
    mail.replace_header(
        "Subject", survey_subject(survey.question, survey.ticket_number, survey.subject)
    )
    # Sent by the helpdesk, not a person: vacation responders (RFC 3834) must not answer it.
    mail.replace_header("Auto-Submitted", "auto-generated")
    mail.get_body(("html",)).set_content(_html(survey), subtype="html")
    return mail


def _greeting(survey: SurveyMail) -> str:
    return f"Hi {survey.customer_first_name}," if survey.customer_first_name else "Hi,"


def _intro(survey: SurveyMail) -> str:
    return (
        f"Your request #{survey.ticket_number} ({survey.subject.strip() or 'no subject'}) "
        f"is solved. {survey.question} Pick an answer, then send it from the page it opens."
    )


def _validity(survey: SurveyMail) -> str:
    return (
        f"The links work until {survey.links_expire:%B} {survey.links_expire.day}, "
        f"{survey.links_expire.year}; open one again to change your answer."
    )


def _text(survey: SurveyMail) -> str:
    choices = "\n".join(f"{label}: {link}" for label, link in survey.choices)
    return f"{_greeting(survey)}\n\n{_intro(survey)}\n\n{choices}\n\n{_validity(survey)}\n"


def _html(survey: SurveyMail) -> str:
    choices = "".join(
        f'<p><a href="{html.escape(link)}" style="font-size: 18px; text-decoration: none">'
        f"{html.escape(label)}</a></p>\n"
        for label, link in survey.choices
    )
    return (
        '<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n'
        f"<p>{html.escape(_greeting(survey))}</p>\n<p>{html.escape(_intro(survey))}</p>\n"
        f"{choices}<p>{html.escape(_validity(survey))}</p>\n</body></html>\n"
    )
