"""Survey link tokens: they name one survey, only this helpdesk can make them, and they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, load_policy, load_settings
from bot.core.csat import SALT, SCALE
from bot.core.survey_links import SurveyTokens, TokenExpired, TokenForged

SECRET = "a-test-secret-key-of-some-length"
TTL = timedelta(days=14)


def forge(token: str) -> str:
    """One character of the signature changed; not the last, whose low bits base64 ignores."""
    return token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]


def now() -> datetime:
    return datetime.now(UTC)


def test_a_token_names_its_survey():
    tokens = SurveyTokens(SECRET, TTL, salt=SALT)
    assert tokens.survey_of(tokens.issue(42, now())) == 42


def test_a_survey_gets_the_same_token_on_every_send():
    tokens, sent_at = SurveyTokens(SECRET, TTL, salt=SALT), now()
    assert tokens.issue(42, sent_at) == tokens.issue(42, sent_at)
    assert tokens.issue(42, sent_at) != tokens.issue(43, sent_at)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: forge(token),
        lambda token: "MQ" + token[token.index(".") :],  # another survey id, same signature
        lambda token: token[: len(token) // 2],  # cut short
        lambda token: "",
        lambda token: "not.a.token",
        lambda token: token[:-1] + "é",
    ],
)
def test_a_tampered_token_is_forged(tamper):
    tokens = SurveyTokens(SECRET, TTL, salt=SALT)
    with pytest.raises(TokenForged):
        tokens.survey_of(tamper(tokens.issue(42, now())))


def test_a_token_from_another_key_is_forged():
    token = SurveyTokens("another-secret-key-entirely", TTL, salt=SALT).issue(42, now())
    with pytest.raises(TokenForged):
        SurveyTokens(SECRET, TTL, salt=SALT).survey_of(token)


def test_a_token_expires_after_the_policy_ttl():
    tokens = SurveyTokens(SECRET, TTL, salt=SALT)
    assert tokens.survey_of(tokens.issue(42, now() - TTL + timedelta(hours=1))) == 42
    with pytest.raises(TokenExpired):
        tokens.survey_of(tokens.issue(42, now() - TTL - timedelta(hours=1)))


def test_a_forged_token_is_not_mistaken_for_an_expired_one():
    old = SurveyTokens(SECRET, TTL, salt=SALT).issue(42, now() - 2 * TTL)
    with pytest.raises(TokenForged):
        SurveyTokens(SECRET, TTL, salt=SALT).survey_of(old[:-2] + "xx")


def test_rating_links_carry_the_token_best_first():
    choices = SCALE.links("https://help.shop.example/", "TOKEN")
    assert [link for _, link in choices] == [
        f"https://help.shop.example/csat/TOKEN?rating={rating}" for rating in (5, 4, 3, 2, 1)
    ]
    assert choices[0][0] == "★★★★★ 5 - Excellent" and choices[-1][0] == "★☆☆☆☆ 1 - Very poor"


def test_a_short_secret_key_or_a_bad_policy_duration_is_one_clear_line(tmp_path):
    with pytest.raises(ConfigError, match=r"HELPDESK_SECRET_KEY=.* at least 16 random characters"):
        load_settings(_env_file=None, helpdesk_secret_key="short")
    path = tmp_path / "helpdesk.yml"
    path.write_text("csat: {token_ttl: forever}\n")
    with pytest.raises(ConfigError, match=r"policy key csat\.token_ttl='forever' is invalid"):
        load_policy(path)
    path.write_text("csat: {once_per: 7d}\n")
    assert load_policy(path).csat.once_per == timedelta(days=7)
    assert load_policy(path).csat.token_ttl == TTL
