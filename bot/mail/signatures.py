"""Sign-offs: what ends the text a customer typed, and what a device added under it.

The rule (tests/mail/fidelity/README.md): cut what the customer did not type, a "-- "
signature block, a rule over a footer (contact details, a device's or carrier's line) and
the line a phone or mail app adds ("Sent from my iPhone", "Get Outlook for
iOS<https://aka.ms/…>"); keep what they typed, a valediction and their name, and a rule they
drew as a divider.
"""

from __future__ import annotations

import re

# Signature starts. "-- " (the standard delimiter) counts anywhere; the others only after
# a blank line, as in github/email_reply_parser, so that prose is not mistaken for them.
_DELIMITER = re.compile(r"^--\s*$")
_LOOSE_SIGNATURE = re.compile(r"^\s*+--\s*+\w")  # "--Ann", "-- Ann Smith"
# A rule of dashes, underscores or equals signs is a signature's only over contact
# details (a mailing list's footer, a company's address block) or a device's sign-off;
# over anything else it is a divider the customer typed ("---" above their device details).
_RULE = re.compile(r"^\s*+(?:-{3,}+|_{3,}+|={3,}+)\s*+$")
# Contact details: an address, a link, a phone number as signatures write one ("+44 ...",
# "Tel: ...", "(020) 7946"), so that a date or an order number is not taken for one.
_CONTACT = re.compile(
    r"@\w|https?://|\bwww\.|\+\d|\b(?:tel|phone|mobile|mob|fax|cell)\b|\(\d{2,5}\)\s?\d",
    re.IGNORECASE,
)
_MAX_FOOTER_LINES = 8
# A carrier's or service's line in such a footer ("Sent via Bell Mobility's Text Messaging
# service.", "Envoyé par le service de messagerie texte ...").
_SENT_BY = re.compile(
    r"^\s*+(?:sent|envoyé|enviado|gesendet|inviato|verzonden|skickat|sendt)\s++"
    r"(?:via|from|with|using|by|par|de|depuis|desde|por|von|mit|über|da|con|met|vanaf|"
    r"från|fra|med)\b",
    re.IGNORECASE,
)
_NAME_SIGNATURE = re.compile(r"^-\w")  # "-Abhishek"

# The line a device or app appends: an opening in one of the languages phones are set to,
# a few words naming the device or app (a link glued to them, as Outlook Mobile does), and
# nothing else on the line. A device or app must be named, so that "Sent from my desk"
# stays the customer's sentence.
_DEVICE_OPENING = re.compile(
    r"^\s*+(?:sent (?:from|with|via|using)|get outlook for|download outlook for|"
    r"envoyé (?:de|depuis|à partir de|avec)|obtenir outlook pour|télécharger outlook pour|"
    r"von meinem|gesendet (?:von|mit|vom)|holen sie sich outlook für|"
    r"diese nachricht wurde von meinem|enviado (?:desde|do|de|con|com)|enviat des de|"
    r"obtener outlook para|descargar outlook para|inviato (?:da|dal|con)|scarica outlook per|"
    r"verzonden (?:met|vanaf|van)|verstuurd (?:met|vanaf|van)|skickat (?:från|med)|"
    r"sendt (?:fra|med)|lähetetty|wysłane z|wysłano z|отправлено (?:с|из)|odesláno z|"  # noqa: RUF001
    r"poslano z|στάλθηκε από|נשלח מ|أرسلت من|تم الإرسال من|从我的|從我的|发自|發自|"
    r"来自我的|來自我的)",
    re.IGNORECASE,
)
# "Sent from my …" names a device whatever follows (a "Wiko RIDGE FAB 4G").
_MY_DEVICE = re.compile(
    r"^\s*+(?:sent from my|envoyé de mon|envoyé depuis mon|von meinem|enviado desde mi|"
    r"enviado do meu|enviado de mi|inviato dal mio|verzonden vanaf mijn|verstuurd vanaf mijn|"
    r"skickat från min|sendt fra min|wysłane z mojego|enviat des del meu)\s",
    re.IGNORECASE,
)
# A word, with a link glued to it ("Mobile<https://aka.ms/…>"), or a link on its own.
_DEVICE_WORD = r"(?:[(<]?+https?://[^\s<>]++>?+|[\w'\u2019&+®™./()-]++(?:<[^<>\s]*+>)?+)"
_DEVICE_REST = re.compile(rf"(?:\s*+{_DEVICE_WORD}){{0,9}}[\s.!]*+$")
# With the device named, carriers' lines may have a comma before a name ("Sent from my
# Verizon, Samsung Galaxy smartphone"); ", which is …" is prose.
_NAMED_DEVICE_REST = re.compile(rf"(?:\s*+(?:,\s*+(?=[A-Z]))?+{_DEVICE_WORD}){{0,12}}[\s.!]*+$")
# Word-final forms ("iPhoneから送信", "iPhone'umdan gönderildi") name the device first.
_DEVICE_ENDINGS = ("から送信", "发送", "發送", "傳送", "보냄", "gönderildi", "küldve")
# Devices and apps. Long names match as stems ("iPhonesta", "iPhonu" in Finnish and Czech);
# short ones as whole words, so that "app" is not read in "happy" nor "mail" in "email".
_DEVICE_OR_APP = re.compile(
    r"(?<![a-z])(?:(?:iphon|ipad|ipod|android|galaxy|samsung|huawei|xiaomi|redmi|oneplus|"
    r"motorola|nokia|xperia|blackberry|fairphone|outlook|yahoo|gmail|hotmail|bluemail|"
    r"airmail|fastmail|protonmail|proton|tutanota|mailspring|superhuman|mobil|móvil|"
    r"smartphone|phone|telefon|téléphone|teléfono|tablet|handy|device|appareil|dispositivo|"
    r"apparaat|windows|courrier|correo|posta|手机|手機|邮箱|郵箱|网易|網易)"
    r"|(?:honor|poco|oppo|vivo|pixel|moto|sony|htc|aol|gmx|web\.de|mail|spark|ios|app)"
    r"(?![a-z]))",
    re.IGNORECASE,
)
_MAX_DEVICE_LINE = 500  # Yahoo's tracking links are long

# A typed valediction, alone on its line or followed by a name ("Thanks, Maria").
_VALEDICTION = re.compile(
    r"^\s*+(?:(?:many |best |kind |warm |warmest )?(?:thanks|thank you|thx|ty|"
    r"cheers|regards|best regards|kind regards|warm regards|best wishes|all the best|best|"
    r"sincerely|yours sincerely|yours truly|yours faithfully|yours|respectfully|take care|"
    r"talk soon|br|rgds|brgds|with (?:kind |best |warm )?regards|with best wishes|"
    r"have a (?:nice|great|good|lovely) (?:day|weekend|evening|week))|"
    r"(?:viele|beste|liebe|herzliche|schöne|freundliche)? ?grüße|"
    r"mit freundlichen grüßen|mit besten grüßen|gruß|lg|mfg|vg|danke|vielen dank|"
    r"(?:bien )?cordialement|merci(?: beaucoup)?|bien à vous|salutations|amicalement|"
    r"bonne journée|bises|(?:un )?saludos?|atentamente|(?:muchas )?gracias|cordialmente|"
    r"un abrazo|(?:cordiali |distinti )?saluti|un saluto|grazie(?: mille)?|obrigad[oa]|"
    r"atenciosamente|cumprimentos|abraços|(?:met )?vriendelijke groet(?:en)?|groet(?:en|jes)?|"
    r"hartelijke groet(?:en)?|bedankt|dank je(?: wel)?|med vänlig hälsning|"
    r"vänliga hälsningar|hälsningar|mvh|med venlig hilsen|hilsen|ystävällisin terveisin|"
    r"terveisin|kiitos|pozdrawiam|z poważaniem|dziękuję|с уважением|спасибо)(?!\w)"  # noqa: RUF001
    r"[\s,.!]*+(?:[^\W\d][\w.'\u2019-]*+(?:\s++[^\W\d][\w.'\u2019-]*+){0,2}[\s,.!]*+)?$",
    re.IGNORECASE,
)
# What may follow a valediction in a sign-off: a name, a title, a phone number.
_MAX_SIGN_OFF_LINES = 5
_MAX_SIGN_OFF_LINE = 60
# A bare name: one to four capitalised words ("Tom", "J. Hughes"), not a sentence.
_NAME = re.compile(r"^\s*+(?:[A-ZÀ-ÞĀ-Ž](?:[\w'\u2019-]*+|\.)\s*+){1,4}$")


def is_device_sign_off(line: str) -> bool:
    """Whether the line is what a phone or mail app appends ("Sent from my iPhone")."""
    if len(line) > _MAX_DEVICE_LINE:
        return False
    # Most lines open with no such phrase: one anchored match turns them away.
    if opening := _DEVICE_OPENING.match(line):
        my_device = _MY_DEVICE.match(line)
        if my_device and _DEVICE_REST.match(line, my_device.end()):
            return True
        rest = _NAMED_DEVICE_REST.match(line, opening.end())
    elif not line.isascii() and line.rstrip(" \t.!").lower().endswith(_DEVICE_ENDINGS):
        rest = _NAMED_DEVICE_REST.match(line)
    else:
        return False
    # The device must be named; searched last, as it is the slow test.
    return rest is not None and _DEVICE_OR_APP.search(line) is not None


def is_sign_off(lines: list[str], *, top_posted: bool) -> bool:
    """Whether these lines (blank ones included) are only a sign-off the customer typed: a
    valediction with a name or title under it, or, below a top-posted reply's history, a
    name with their title, company or phone number under it."""
    typed = [line for line in lines if line.strip()]
    if not typed or len(typed) > _MAX_SIGN_OFF_LINES:
        return False
    if any(len(line.strip()) > _MAX_SIGN_OFF_LINE for line in typed):
        return False
    if _VALEDICTION.match(typed[0]):
        return True
    return top_posted and _NAME.match(typed[0]) is not None


def signature_start(lines: list[str], quoted: list[bool], end: int) -> int | None:
    """The lowest signature start in the unquoted block that ends at `end`."""
    index = end - 1
    while index >= 0 and not quoted[index]:
        line = lines[index]
        after_blank = index > 0 and not lines[index - 1].strip()
        # A device's line is found top down too (quotes.py); here it is one that a reply
        # header glued to it hid ("Sent from my iPhoneOn Nov 3, ... wrote:").
        if _DELIMITER.match(line) or is_device_sign_off(line):
            return index
        if after_blank and (
            _LOOSE_SIGNATURE.match(line)
            or (_RULE.match(line) and _is_footer(lines, index + 1, end))
            or (_NAME_SIGNATURE.match(line) and not _starts_list(lines, index + 1))
        ):
            return index
        index -= 1
    return None


def _starts_list(lines: list[str], index: int) -> bool:
    return index < len(lines) and lines[index].lstrip().startswith("-")


def _is_footer(lines: list[str], first: int, end: int) -> bool:
    """Whether lines[first:end], under a rule, are a signature or a list's footer: a few
    lines with contact details or a device's sign-off."""
    if not 0 < end - first <= _MAX_FOOTER_LINES:
        return False
    return any(
        _CONTACT.search(line) or is_device_sign_off(line) or _SENT_BY.match(line)
        for line in lines[first:end]
    )
