"""An error's text: the message, then the hint as a sentence of its own (issue 10, item 20)."""

from __future__ import annotations

from snowml_desktop.core.errors import ConnectionFailed, InvalidInput


def test_a_message_without_a_full_stop_is_not_run_into_its_hint():
    error = ConnectionFailed("Failed to connect after 3 attempt(s).Aborting", hint="Check the account.")
    assert str(error) == "Failed to connect after 3 attempt(s).Aborting. Check the account."


def test_a_message_with_its_own_stop_keeps_it():
    assert str(InvalidInput("Bad name.", hint="Use letters.")) == "Bad name. Use letters."
    assert str(InvalidInput("Bad name")) == "Bad name"
