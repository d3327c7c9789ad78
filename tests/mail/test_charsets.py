"""Charset labels that lie: the bytes decide, and the detector is asked only as a fallback."""

# ruff: noqa: RUF001  (the texts are real sentences in their languages and scripts)

from __future__ import annotations

import pytest

from bot.mail import charsets
from bot.mail.decoding import decode_bytes
from bot.mail.parse import DETECTIONS_PER_MESSAGE, parse_email

FRENCH = "Bonjour, j’ai payé 45 € pour « très rapide » et ça fait dix jours… Où est-il ?"
GERMAN = "Grüße aus Köln: die Größe 42 der Schuhe ist zu klein, bitte tauschen."
POLISH = "Dzień dobry, moje zamówienie jeszcze nie dotarło. Proszę o sprawdzenie, dziękuję."
RUSSIAN = "Здравствуйте! Мой заказ номер 1042 до сих пор не пришёл, прошло уже две недели."
UKRAINIAN = "Добрий день! Я повернув товар ще два тижні тому, але гроші досі не повернули."
GREEK = "Καλησπέρα, η παραγγελία μου δεν έχει φτάσει ακόμα. Μπορείτε να ελέγξετε;"
CHINESE = "您好，我的订单1042还没有到，已经两个星期了。请帮我查一下，谢谢。"
TRADITIONAL = "您好，我的訂單1042還沒有到，已經兩個星期了。請幫我查一下，謝謝。"
JAPANESE = "こんにちは。注文番号1042の商品がまだ届いていません。確認していただけますか？"
KOREAN = "안녕하세요. 주문 번호 1042 상품이 아직 도착하지 않았습니다. 확인 부탁드립니다."

LIES = [
    (CHINESE, "utf-8", "gb2312"),
    (FRENCH, "utf-8", "iso-8859-1"),
    (GERMAN, "utf-8", "iso-8859-15"),
    (RUSSIAN, "utf-8", "koi8-r"),
    (FRENCH, "cp1252", "utf-8"),
    (GERMAN, "cp1252", "utf-8"),
    (RUSSIAN, "koi8-r", "iso-8859-1"),
    (RUSSIAN, "koi8-r", "utf-8"),
    (RUSSIAN, "cp1251", "koi8-r"),
    (RUSSIAN, "koi8-r", "windows-1251"),
    (UKRAINIAN, "koi8-u", None),
    (JAPANESE, "shift_jis", "iso-2022-jp"),
    (JAPANESE, "shift_jis", "us-ascii"),
    (JAPANESE, "euc-jp", "utf-8"),
    (KOREAN, "euc-kr", "utf-8"),
    (KOREAN, "euc-kr", "iso-8859-1"),
    (CHINESE, "gb18030", "utf-8"),
    (TRADITIONAL, "big5", "utf-8"),
]


@pytest.mark.parametrize(
    ("text", "sent", "declared"), LIES, ids=[f"{s} as {d}" for _, s, d in LIES]
)
def test_a_lying_label_is_seen_through(text: str, sent: str, declared: str | None) -> None:
    assert decode_bytes(text.encode(sent), declared) == text


HONEST = [
    (FRENCH, "cp1252"),
    (GERMAN, "iso-8859-1"),
    (GERMAN.upper(), "cp1252"),  # shouting in capitals is not Cyrillic read the wrong way
    (RUSSIAN.upper(), "koi8-r"),
    ("ЗАКАЗ 1042 НЕ ПРИШЁЛ", "koi8-r"),
    (POLISH, "iso-8859-2"),
    (RUSSIAN, "koi8-r"),
    (RUSSIAN, "cp1251"),
    (GREEK, "iso-8859-7"),
    (CHINESE, "gb2312"),
    (TRADITIONAL, "big5"),
    (JAPANESE, "shift_jis"),
    (JAPANESE, "iso-2022-jp"),
    (KOREAN, "euc-kr"),
    ("Merci 🙏🙏🙏 pour tout 👍", "utf-8"),
]


@pytest.mark.parametrize(("text", "charset"), HONEST, ids=[c for _, c in HONEST])
def test_an_honest_label_is_kept(text: str, charset: str) -> None:
    assert decode_bytes(text.encode(charset), charset) == text


def test_utf8_encoded_twice_is_turned_back() -> None:
    twice = GERMAN.encode("utf-8").decode("cp1252").encode("utf-8")
    assert decode_bytes(twice, "utf-8") == GERMAN


def test_a_utf8_reply_quoting_windows_1252_keeps_both() -> None:
    data = "Voilà ma réponse.\n".encode() + "> Réponse précédente\n".encode("cp1252")
    assert decode_bytes(data, "utf-8") == "Voilà ma réponse.\n> Réponse précédente\n"


def test_what_utf8_really_says_is_kept_even_when_odd() -> None:
    # Replacement characters that were sent as UTF-8 are what the mail says.
    assert decode_bytes("phone\ufffd\ufffd".encode(), None) == "phone\ufffd\ufffd"


@pytest.fixture
def detector_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the samples handed to the detector."""
    calls: list[int] = []
    detect = charsets.from_bytes

    def counting(sample: bytes, **options: object) -> object:
        calls.append(len(sample))
        return detect(sample, **options)

    monkeypatch.setattr(charsets, "from_bytes", counting)
    return calls


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (b"Where is my order?" * 100, "iso-8859-2"),
        (FRENCH.encode(), "utf-8"),
        (FRENCH.encode("cp1252"), "windows-1252"),
        (POLISH.encode("iso-8859-2"), "iso-8859-2"),
        (CHINESE.encode("gb18030"), "gb2312"),
        (RUSSIAN.encode("koi8-r"), "koi8-r"),
    ],
    ids=["ascii", "utf-8", "windows-1252", "latin-2", "gb2312", "koi8-r"],
)
def test_the_common_path_never_asks_the_detector(
    data: bytes, charset: str, detector_calls: list[int]
) -> None:
    decode_bytes(data, charset)
    assert detector_calls == []


def test_the_detector_reads_a_capped_sample(detector_calls: list[int]) -> None:
    body = (RUSSIAN + "\n").encode("koi8-r") * 50_000  # about 4 MB
    assert decode_bytes(body, "iso-8859-1") == (RUSSIAN + "\n") * 50_000
    assert detector_calls and max(detector_calls) <= charsets.SAMPLE_BYTES


def test_a_message_gets_a_bounded_number_of_second_opinions(detector_calls: list[int]) -> None:
    part = b"--b\nContent-Type: text/plain; charset=iso-8859-1\n\n" + RUSSIAN.encode("koi8-r")
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n" + (part + b"\n") * 30 + b"--b--\n"
    parsed = parse_email(raw)
    assert len(detector_calls) == DETECTIONS_PER_MESSAGE
    assert parsed.text.startswith(RUSSIAN + "\n" + RUSSIAN)  # the first parts, read right
