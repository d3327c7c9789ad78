# The cases are mail in Cyrillic, Greek, Turkish and CJK text, whose letters ruff takes
# for look-alikes of Latin ones.
# ruff: noqa: RUF001
"""Reply headers and header blocks as mail clients write them, in many languages.

Each header is put between a reply and the earlier mail, quoted (">") and unquoted, and
the reply alone must be left. The fidelity suite (tests/mail/fidelity) holds whole mails;
this is the breadth: one line per client and language.
"""

from __future__ import annotations

import pytest

from bot.mail.quotes import visible_reply

REPLY = "Thanks, got it."
QUOTED = "\n> Hello,\n> your order shipped.\n"
UNQUOTED = "\nHello,\nyour order shipped.\n\nNorthwind\n"

REPLY_HEADERS = [
    # Gmail
    "On Tue, Nov 3, 2026 at 10:14 AM Ann Smith <ann@x.org> wrote:",
    "Am Di., 3. Nov. 2026 um 10:14 Uhr schrieb Ann Smith <ann@x.org>:",
    "Le mar. 3 nov. 2026 à 10:14, Ann Smith <ann@x.org> a écrit :",
    "El mar, 3 nov 2026 a las 10:14, Ann Smith (<ann@x.org>) escribió:",
    "Il giorno mar 3 nov 2026 alle ore 10:14 Ann Smith <ann@x.org> ha scritto:",
    "Em ter., 3 de nov. de 2026 às 10:14, Ann Smith <ann@x.org> escreveu:",
    "Op di 3 nov 2026 om 10:14 schreef Ann Smith <ann@x.org>:",
    "wt., 3 lis 2026 o 10:14 Ann Smith <ann@x.org> napisał(a):",
    "út 3. 11. 2026 v 10:14 odesílatel Ann Smith <ann@x.org> napsal:",
    "Ann Smith <ann@x.org> ezt írta (időpont: 2026. nov. 3., K, 10:14):",
    "În mar., 3 nov. 2026 la 10:14, Ann Smith <ann@x.org> a scris:",
    "Den tir. 3. nov. 2026 kl. 10.14 skrev Ann Smith <ann@x.org>:",
    "ti 3. marrask. 2026 klo 10.14 Ann Smith (ann@x.org) kirjoitti:",
    "вт, 3 нояб. 2026 г. в 10:14, Ann Smith <ann@x.org>:",
    "вт, 3 лист. 2026 р. о 10:14 Ann Smith <ann@x.org> пише:",
    "Ann Smith <ann@x.org>, 3 Kas 2026 Sal, 10:14 tarihinde şunu yazdı:",
    "Στις Τρί 3 Νοε 2026 στις 10:14, ο/η Ann Smith <ann@x.org> έγραψε:",
    "2026年11月3日(火) 10:14 Ann Smith <ann@x.org>:",
    "Ann Smith <ann@x.org> 于2026年11月3日周二 10:14写道：",
    "2026년 11월 3일 (화) 오전 10:14, Ann Smith <ann@x.org>님이 작성:",
    "Vào Th 3, 3 thg 11, 2026 vào lúc 10:14 Ann Smith <ann@x.org> đã viết:",
    "Pada tanggal Sel, 3 Nov 2026 pukul 10.14 Ann Smith <ann@x.org> menulis:",
    "في الثلاثاء، ٣ نوفمبر ٢٠٢٦ ١٠:١٤ ص Ann Smith <ann@x.org> كتب:",
    "uto, 3. stu 2026. u 10:14 Ann Smith <ann@x.org> napisao je:",
    "2026-11-03, an, 10:14 Ann Smith <ann@x.org> rašė:",
    "T, 3. nov 2026 kell 10:14 Ann Smith <ann@x.org> kirjutas:",
    "otrd., 2026. g. 3. nov., plkst. 10:14 — lietotājs Ann Smith (<ann@x.org>) rakstīja:",
    "þri., 3. nóv. 2026 kl. 10:14 skrifaði Ann Smith <ann@x.org>:",
    "El dt., 3 de nov. 2026 a les 10:14, Ann Smith (<ann@x.org>) va escriure:",
    "Noong Mar, Nob 3, 2026 nang 10:14 AM, sumulat si Ann Smith <ann@x.org>:",
    "मंगल, 3 नव॰ 2026 को 10:14 am बजे को Ann Smith <ann@x.org> ने लिखा:",
    "เมื่อ อ. 3 พ.ย. 2026 เวลา 10:14 Ann Smith <ann@x.org> เขียนว่า:",
    "Ann Smith <ann@x.org> در تاریخ سه‌شنبه ۳ نوامبر ۲۰۲۶ ساعت ۱۰:۱۴ نوشت:",
    "Op Di, 3 Nov 2026 om 10:14 het Ann Smith <ann@x.org> geskryf:",
    "Ar ddydd Mawrth, 3 Tach 2026 am 10:14, ysgrifennodd Ann Smith <ann@x.org>:",
    "2011/4/7 Ann Smith <ann@x.org>",
    "2014-03-20 8:48 GMT+01:00 Ann Smith <ann@x.org>:",
    # Apple Mail
    "On 3 Nov 2026, at 10:14, Ann Smith <ann@x.org> wrote:",
    "Am 03.11.2026 um 10:14 schrieb Ann Smith <ann@x.org>:",
    "2026/11/03 10:14、Ann Smith <ann@x.org>のメール：",
    "在 2026年11月3日，10:14，Ann Smith <ann@x.org> 写道：",
    "Op 3 nov. 2026 om 10:14 heeft Ann Smith <ann@x.org> het volgende geschreven:",
    "Wiadomość napisana przez Ann Smith <ann@x.org> w dniu 03.11.2026, o godz. 10:14:",
    "ב-3 בנוב׳ 2026, בשעה 10:14, Ann Smith <ann@x.org> כתב/ה:",
    "3. stu 2026. u 10:14, Ann Smith <ann@x.org> je napisao/la:",
    "3 лист. 2026 р. о 10:14 Ann Smith <ann@x.org> написав(ла):",
    "Ann Smith <ann@x.org> kirjoitti 3.11.2026 kello 10.14:",
    "3 Kas 2026 tarihinde 10:14 saatinde, Ann Smith <ann@x.org> şunları yazdı:",
    "Vào 10:14, ngày 3 thg 11, 2026, Ann Smith <ann@x.org> đã viết:",
    # Thunderbird
    "On 03/11/2026 10:14, Ann Smith wrote:",
    "W dniu 3.11.2026 o 10:14, Ann Smith pisze:",
    "03.11.2026 10:14, Ann Smith пишет:",
    "Dne 3. 11. 2026 v 10:14 Ann Smith napsal(a):",
    "2026. 11. 03. 10:14 keltezéssel, Ann Smith írta:",
    "Ann Smith kirjoitti 3.11.2026 klo 10.14:",
    "2026-11-03 오전 10:14에 Ann Smith 이(가) 쓴 글:",
    "בתאריך 03/11/2026 10:14, Ann Smith כתב:",
    # Yahoo, Mail.ru, Yandex, 163, Roundcube, SOGo, Lotus Notes, GroupWise, others
    "On Tuesday, November 3, 2026, 10:14:05 AM GMT+1, Ann Smith <ann@x.org> wrote:",
    "Am Dienstag, 3. November 2026, 10:14:05 MEZ hat Ann Smith <ann@x.org> Folgendes geschrieben:",
    "Вторник, 3 ноября 2026, 10:14 +03:00 от Ann Smith <ann@x.org>:",
    '03.11.2026, 10:14, "Ann Smith" <ann@x.org>:',
    '在 2026-11-03 10:14:05，"Ann Smith" <ann@x.org> 写道：',
    "Am 2026-11-03 10:14, schrieb Ann Smith:",
    'On Tuesday, November 3, 2026 10:14 CET, "Ann Smith" <ann@x.org> wrote:',
    "Ann Smith <ann@x.org> wrote on 03/11/2026 10:14:41:",
    '-----"Ann Smith" <ann@x.org> wrote: -----',
    ">>> Ann Smith <ann@x.org> 11/3/2026 10:14 AM >>>",
    "---- On Tue, 03 Nov 2026 10:14:05 +0100 Ann Smith <ann@x.org> wrote ----",
    "3 Nov 2026, 10:14 by ann@x.org:",
    "On Tue, Nov 3, 2026 at 10:14 AM Ann Smith <ann@x.org> wrote",
    "On 3 Nov 2026, at 10:14, Ann Smith <ann@x.org> sent:",
    "Quoting Ann Smith <ann@x.org>:",
    # Separators
    "-----Original Message-----",
    "-------- Původní zpráva --------",
    "------------------ 原始邮件 ------------------",
    "----- Mail original -----",
    "-------- Originalmeddelande --------",
    "-----Oprindelig meddelelse-----",
    "-----הודעה מקורית-----",
    "-------- Thư gốc --------",
    "-----Початкове повідомлення-----",
    "-------- Origineel bericht --------",
    "—————— Original ——————",
    "##- Please type your reply above this line -##",
    "---- Please reply above this line ----",
    "=-=-=-= To reply, write above =-=-=-=",
    "Reply above this line.",
]

HEADER_BLOCKS = [
    "From: Ann <ann@x.org>\nSent: Tuesday, November 3, 2026 10:14 AM\nTo: Bob\nSubject: RE: x",
    "*From:* Ann <ann@x.org>\n*Sent:* Tuesday, November 3, 2026 10:14 AM\n*To:* Bob",
    "Von: Ann <ann@x.org>\nGesendet: Dienstag, 3. November 2026 10:14\nAn: Bob\nBetreff: x",
    "De : Ann <ann@x.org>\nEnvoyé : mardi 3 novembre 2026 10:14\nÀ : Bob\nObjet : RE: x",
    "De: Ann <ann@x.org>\nEnviado el: martes, 3 de noviembre de 2026 10:14\nPara: Bob",
    "Od: Ann <ann@x.org>\nWysłano: wtorek, 3 listopada 2026 10:14\nDo: Bob\nTemat: RE: x",
    "Feladó: Ann <ann@x.org>\nElküldve: 2026. november 3., kedd 10:14\nCímzett: Bob",
    "От: Ann <ann@x.org>\nОтправлено: 3 ноября 2026 г. 10:14\nКому: Bob\nТема: RE: x",
    "Kimden: Ann <ann@x.org>\nGönderildi: 3 Kasım 2026 Salı 10:14\nKime: Bob\nKonu: x",
    "Από: Ann <ann@x.org>\nΣτάλθηκε: Τρίτη, 3 Νοεμβρίου 2026 10:14\nΠρος: Bob",
    "发件人: Ann <ann@x.org>\n发送时间: 2026年11月3日 10:14\n收件人: Bob\n主题: 回复: x",
    "差出人: Ann <ann@x.org>\n送信日時: 2026年11月3日 10:14\n宛先: Bob\n件名: RE: x",
    "보낸 사람: Ann <ann@x.org>\n보낸 날짜: 2026년 11월 3일 화요일 오전 10:14\n받는 사람: Bob",
    "מאת: Ann <ann@x.org>\nנשלח: יום שלישי 03 נובמבר 2026 10:14\nאל: Bob",
    "De la: Ann <ann@x.org>\nTrimis: marți, 3 noiembrie 2026 10:14\nCătre: Bob",
    "Date: Tue, 3 Nov 2026 10:14:05 +0000\nFrom: ann@x.org\nTo: bob@y.org\nSubject: RE: x",
    "Gesendet: Dienstag, 03. November 2026 um 10:14 Uhr\nVon: Ann <ann@x.org>\nAn: Bob",
    "Subject: RE: x\nDate: Tue, 3 Nov 2026 10:14:05 +0000\nFrom: ann@x.org\nTo: bob@y.org",
    "-------- Message du : 03/11/2026 10:14\nDe : ann@x.org\nA : bob@y.org\nObjet : x",
    "________________________________\nFrom: Ann <ann@x.org>\nSent: Tuesday\nTo: Bob",
]


@pytest.mark.parametrize("history", [QUOTED, UNQUOTED], ids=["quoted", "unquoted"])
@pytest.mark.parametrize("header", REPLY_HEADERS + HEADER_BLOCKS)
def test_reply_alone_is_left(header: str, history: str) -> None:
    assert visible_reply(f"{REPLY}\n\n{header}\n{history}") == REPLY


@pytest.mark.parametrize(
    "text",
    [
        "Please find the details:\nOrder: 1043\nDate: 3 Nov\nItem: mug",
        "I ordered on 3/11/2026 at 10:14, can you check?\nThanks",
        "On Monday the parcel came.\nOn Tuesday it broke.\n\nAnn",
        "We spoke on the phone On Tuesday and you said it would ship.",
        "Step 1: open the app\nStep 2: tap basket\n\n---\nPixel 7, Android 14",
        "Order 1043\n\n____\n\nOrder 1044 is missing too",
        "Your colleague wrote:\nthe refund takes five days. It has been ten.",
        "Date: 2 November\nSubject: broken mug\nTo: whoever handles returns\n\nIt broke.",
        "The parcel went the wrong way.\nFrom: your warehouse to: my old address, subject: x",
        "Am Montag kam das Paket. Am Dienstag war es kaputt.",
        "Ann <ann@x.org> is my wife, she ordered on 3 Nov.",
    ],
)
def test_the_customers_own_lines_stay(text: str) -> None:
    assert visible_reply(text) == text


def test_a_customers_line_above_a_quote_stays() -> None:
    assert visible_reply("Fine.\n\nI agree with what you wrote:\n> old\n") == (
        "Fine.\n\nI agree with what you wrote:"
    )
