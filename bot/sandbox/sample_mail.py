"""The sample customer emails behind the sandbox page's "send a sample" button."""

from __future__ import annotations

import email.policy
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from bot.config import Settings

SAMPLES = (
    ("Jane Doe", "jane@customer.example", "Where is my order?",
     "Hi,\n\nI ordered a blue mug a week ago (order #1001) and it still hasn't arrived. "
     "Can you tell me where it is?\n\nThanks,\nJane"),
    ("Omar Haddad", "omar@customer.example", "Wrong size delivered",
     "Hello,\n\nThe hoodie I received is an M but I ordered an L. How do I swap it?\n\nOmar"),
    ("Li Wei", "li@customer.example", "Refund for a cancelled order",
     "Hi there,\n\nI cancelled my order yesterday. When will the refund reach my card?\n\nLi"),
)  # fmt: skip


def sample_customer_mail(support_address: str, number: int) -> EmailMessage:
    """The `number`th sample, taking turns through `SAMPLES`."""
    name, address, subject, body = SAMPLES[number % len(SAMPLES)]
    mail = EmailMessage()
    mail["From"] = f"{name} <{address}>"
    mail["To"] = support_address
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=address.split("@")[1])
    mail.set_content(body)
    return mail


def send_to_helpdesk(settings: Settings, mail: EmailMessage) -> tuple[int, str]:
    """Sends over a real SMTP connection to the helpdesk; its answer to the message."""
    if settings.smtp_listen is None:
        return 503, "the SMTP server is off (HELPDESK_SMTP_LISTEN is empty)"
    host, port = settings.smtp_listen
    raw = mail.as_bytes(policy=email.policy.SMTP)
    try:
        with smtplib.SMTP(host, port, timeout=30) as client:
            client.sendmail(str(mail["From"].addresses[0].addr_spec), [str(mail["To"])], raw)
    except smtplib.SMTPResponseException as refused:
        return refused.smtp_code, refused.smtp_error.decode(errors="replace")
    except smtplib.SMTPRecipientsRefused as refused:
        code, message = next(iter(refused.recipients.values()))
        return code, message.decode(errors="replace")
    except OSError as exc:
        return 503, f"could not connect to {host}:{port} ({exc})"
    return 250, "accepted"
