"""Progress bars: drawn on a terminal, silent otherwise (pipes, files, CI, tests)."""

from __future__ import annotations

import io
import re
import sys

import pytest

from cpts_geo.analysis import analyse
from cpts_geo.atlas import write_atlas
from cpts_geo.outputs import progress_bar as progress_module
from cpts_geo.outputs.progress_bar import progress, progress_enabled


class Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Call it in the test body to make standard error a terminal.

    (Not in the fixture itself: pytest puts its own capture back on ``sys.stderr`` between
    the setup of a test and its call.)
    """
    def install() -> Terminal:
        stream = Terminal()
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(progress_module, "DELAY", 0)  # draw at once, however short
        return stream

    return install


def test_silent_when_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "DELAY", 0)
    assert progress_enabled() is False
    assert list(progress(range(3), desc="Atlas")) == [0, 1, 2]
    with progress(total=3, desc="PDF") as bar:
        for _ in range(3):
            bar.update()
    assert capsys.readouterr().err == ""


def test_drawn_when_standard_error_is_a_terminal(terminal):
    stream = terminal()
    assert progress_enabled() is True
    assert list(progress(["93", "94", "11"], desc="Atlas", unit="région")) == ["93", "94", "11"]
    out = stream.getvalue()
    # drawn at the start (0/3), then cleared when done (leave=False): the terminal stays tidy
    assert "Atlas" in out and re.search(r"\b[0-3]/3\b", out) and "région" in out
    assert out.endswith("\r")


def test_bar_updated_by_hand_shows_its_total(terminal):
    stream = terminal()
    with progress(total=4, desc="Propositions", leave=True) as bar:
        bar.update(2)
        bar.update(2)
    assert "4/4" in stream.getvalue()  # kept on screen when asked


def test_forced_off_even_on_a_terminal(terminal):
    stream = terminal()
    assert list(progress(range(2), desc="Atlas", enabled=False)) == [0, 1]
    assert stream.getvalue() == ""


def test_closed_or_odd_stderr_means_no_bar(monkeypatch):
    class Closed(io.StringIO):
        def isatty(self) -> bool:
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr(sys, "stderr", Closed())
    assert progress_enabled() is False
    monkeypatch.setattr(sys, "stderr", object())  # no isatty at all
    assert progress_enabled() is False


@pytest.fixture(scope="module")
def national(ref, paca):
    return analyse(paca, ref)


def test_national_atlas_draws_its_bar_on_a_terminal_only(national, terminal, tmp_path,
                                                          monkeypatch):
    stream = terminal()
    write_atlas(national, tmp_path / "tty", regions=["93"], pdf=True)
    out = stream.getvalue()
    assert "Atlas" in out
    assert re.search(r"\b[0-3]/3\b", out)  # three steps: the page, the index, the PDF
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    write_atlas(national, tmp_path / "pipe", regions=["93"])
    assert quiet.getvalue() == ""
