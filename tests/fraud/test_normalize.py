"""Identifier normalisation: known answers, planted variants, and the reason for each malformed value."""

from __future__ import annotations

import socket

import pytest

from precinct.fraud.normalize import (
    InvalidIdentifier,
    fold,
    normalize,
    normalize_account,
    normalize_phone,
    normalize_url,
    split_list,
)


@pytest.mark.parametrize("raw", ["+86 138-0013-8000", "13800138000", "１３８００１３８０００", "0086 138 0013 8000",
                                 "(+86)138 0013 8000", "+86１３８-００１３-８０００"])
def test_phone_variants_are_one_number(raw: str) -> None:
    assert normalize_phone(raw) == "+8613800138000"


def test_phone_landline_and_foreign() -> None:
    assert normalize_phone("010-6552 9988") == "+861065529988"
    assert normalize_phone("+1 650-253-0000") == "+16502530000"
    assert normalize_phone("+852 2123 4567") == "+85221234567"


@pytest.mark.parametrize(("raw", "reason"), [
    ("12345", "not a valid number"),
    ("abc", "not a phone number"),
    ("", "empty"),
    ("+86 138 0013 80001234", "not a valid number"),
])
def test_phone_malformed_says_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as e:
        normalize_phone(raw)
    assert reason in e.value.reason


@pytest.mark.parametrize("raw", ["6222 0212 3456 7890", "6222-0212-3456-7890", "６２２２０２１２３４５６７８９０",
                                 " 6222021234567890 ", "6222.0212.3456.7890"])
def test_account_variants_are_digits(raw: str) -> None:
    assert normalize_account(raw) == "6222021234567890"


@pytest.mark.parametrize(("raw", "reason"), [("6222abc0212", "digits only"), ("1234", "4 digits"),
                                             ("1" * 40, "40 digits")])
def test_account_malformed_says_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as e:
        normalize_account(raw)
    assert reason in e.value.reason


@pytest.mark.parametrize(("raw", "host"), [
    ("HTTP://Pay.Example.com/x", "example.com"),
    ("pay.example.com", "example.com"),
    ("https://pay.example.com:8443/a?b=1#c", "example.com"),
    ("ＷＷＷ．ＥＸＡＭＰＬＥ．ＣＯＭ", "example.com"),
    ("shop.example.com.cn/", "example.com.cn"),
    ("http://evil.github.io/login", "evil.github.io"),  # a private suffix: each site its own
    ("http://1.2.3.4:8080/x", "1.2.3.4"),
    ("https://例子.中国/路径", "例子.中国"),
    ("//cdn.example.org/x.js", "example.org"),
])
def test_url_registrable_host(raw: str, host: str) -> None:
    assert normalize_url(raw) == host


@pytest.mark.parametrize(("raw", "reason"), [
    ("com.cn", "public suffix"), ("http://", "no host"), ("localhost", "not a domain name"),
    ("example.notatld", "unknown top-level domain"), ("http://x.com:99999", "not a URL"),
    ("http://exa_mple.com", "not a domain name"),
])
def test_url_malformed_says_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as e:
        normalize_url(raw)
    assert reason in e.value.reason


def test_url_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Public Suffix List is the one shipped in the package: no download at run time."""
    from precinct.fraud import normalize as n

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("network used")

    n._psl.cache_clear()
    normalize_url.cache_clear()
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert normalize_url("https://a.b.example.co.uk/x") == "example.co.uk"


def test_names_and_handles() -> None:
    assert normalize("app", "  Ｍｅｔａ  Trader  ５ ") == "meta trader 5"
    assert normalize("social", "WeiXin ID_ABC 123") == "weixinid_abc123"
    assert normalize("payment", "ＡＬＩＰＡＹ:abc") == "alipay:abc"
    assert fold("ＡＢＣ　ｄｅｆ") == "abc def"
    with pytest.raises(InvalidIdentifier, match="unknown identifier kind"):
        normalize("email", "x@y.z")


def test_split_list() -> None:
    assert split_list(" a ; b;;c；d ") == ["a", "b", "c", "d"]
    assert split_list("") == [] and split_list(None) == []
