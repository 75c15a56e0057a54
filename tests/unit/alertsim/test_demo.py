"""The demo's output: colour on a terminal only, never with NO_COLOR."""

import io

import pytest

from alertsim import demo


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert demo.palette(Terminal(), {}) == demo.COLOURS
    assert demo.palette(io.StringIO(), {}) == demo.Palette()  # a file or a pipe
    assert demo.palette(Terminal(), {"NO_COLOR": "1"}) == demo.Palette()
    # no-color.org: an empty NO_COLOR does not count.
    assert demo.palette(Terminal(), {"NO_COLOR": ""}) == demo.COLOURS


def test_the_demo_prints_no_escape_codes_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    demo.say("heading")
    demo.note("note")
    demo.wait("done", lambda: True)
    assert "\033" not in capsys.readouterr().out
