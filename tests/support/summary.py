"""Figures a test reports, printed in the summary at the end of the run.

A test calls ``record_property(SUMMARY + "<title>", text)``; the end of the run prints
each such text under a section titled ``<title>``. Unlike output printed during the test
(which pytest-xdist drops), a test's user properties travel from the workers to the
controller in its reports, so the section shows under ``make test`` (``-n 2``) as well.
"""

import pytest

SUMMARY = "summary: "


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    sections: dict[str, dict[tuple[str, str], bool]] = {}  # title: (test, text): failed
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport):
                continue
            for name, value in report.user_properties:
                if name.startswith(SUMMARY):
                    section = sections.setdefault(name.removeprefix(SUMMARY), {})
                    key = (report.nodeid, str(value))
                    section[key] = section.get(key, False) or report.failed
    for title, texts in sections.items():
        terminalreporter.write_sep("=", title)
        for index, ((nodeid, text), failed) in enumerate(texts.items()):
            terminalreporter.write_line(("\n" if index else "") + nodeid + failed * " (failed)")
            terminalreporter.write_line(text)
