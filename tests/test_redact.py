"""Passwords are masked in every form libpq accepts them."""

from dbwright.redact import redact


def test_url_password_masked():
    assert redact("postgresql://alice:Sup3rSecret@host/db") == "postgresql://alice:****@host/db"


def test_keyword_password_masked():
    assert redact("host=x password=Sup3rSecret user=a") == "host=x password=**** user=a"
    assert redact("host=x password='a b c' user=a") == "host=x password=**** user=a"


def test_query_parameter_password_masked():
    assert (
        redact("postgresql://h/db?password=Sup3rSecret&sslmode=require")
        == "postgresql://h/db?password=****&sslmode=require"
    )


def test_text_without_password_unchanged():
    assert redact("postgresql://alice@host/db") == "postgresql://alice@host/db"
