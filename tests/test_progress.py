"""Tests for logitnet.progress: Keras's text, a live line in terminals, clean logs elsewhere.

Expected strings are written by hand from the Keras rules and the captured bytes in
keras-parity.md §6, for hand-specified timings.
"""

from __future__ import annotations

import io
import re
import sys
import time

import numpy as np
import pytest
from rich.console import Console

from logitnet.progress import (
    ProgressBar,
    format_eta,
    format_line,
    format_time_per_step,
    format_value,
    print_line,
)

BAR = "━" * 20
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """Make terminal detection depend only on the stream, not on the CI environment."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


class FakeClock:
    """A clock that returns preset times, one per call (the last one repeats)."""

    def __init__(self, times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


class TTYStringIO(io.StringIO):
    def isatty(self):
        return True


def epoch_times(first_step, per_step, n_steps, start=0.0):
    """Clock readings: creation, then the end of each of n_steps steps."""
    times = [start, start + first_step]
    times += [start + first_step + k * per_step for k in range(1, n_steps)]
    return times


def run_bar(bar, n_steps, values):
    for step in range(1, n_steps + 1):
        bar.update(step, values)


def live_console(buf, width=120):
    return Console(file=buf, force_terminal=True, force_interactive=True, width=width, color_system="standard")


def frames(output):
    """The successive states of a live line: split on '\\r', ANSI removed."""
    return [ANSI_RE.sub("", part) for part in output.split("\r") if part]


# ----------------------------------------------------------------------------- pure formatters


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (760e-6, "760us/step"),
        (999e-6, "999us/step"),
        (1e-3, "1ms/step"),
        (2.3e-3, "2ms/step"),
        (0.015, "15ms/step"),
        (0.9994, "999ms/step"),
        (1.0, "1s/step"),
        (1.5, "2s/step"),
        (0.0, "0s/step"),
    ],
)
def test_format_time_per_step(seconds, expected):
    assert format_time_per_step(seconds) == expected


def test_format_time_per_step_unit_name():
    assert format_time_per_step(0.004, "sample") == "4ms/sample"


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0.379, "0s"),
        (25.1, "25s"),
        (59.9, "59s"),
        (60.0, "60s"),
        (61.0, "1:01"),
        (232.0, "3:52"),
        (232.7, "3:52"),
        (3600.0, "60:00"),
        (3661.0, "1:01:01"),
        (2 * 3600 + 5 * 60 + 9.9, "2:05:09"),
    ],
)
def test_format_eta(seconds, expected):
    assert format_eta(seconds) == expected


@pytest.mark.parametrize(
    "value, verbose, expected",
    [
        (0.78141, 1, "0.7814"),
        (1.2010, 1, "1.2010"),
        (1e-4, 1, "1.0000e-04"),
        (1e-3, 1, "1.0000e-03"),
        (0.0011, 1, "0.0011"),
        (-5e-4, 1, "-5.0000e-04"),
        (-2.0, 1, "-2.0000"),
        (-2.0, 2, "-2.0000e+00"),
        (0.5731, 2, "0.5731"),
        (0.0, 1, "0.0000e+00"),
        (float("nan"), 1, "nan"),
        (float("nan"), 2, "nan"),
        (float("inf"), 1, "inf"),
        (np.float32(0.25), 1, "0.2500"),
    ],
)
def test_format_value(value, verbose, expected):
    assert format_value(value, verbose) == expected


def test_format_line_verbose2_matches_keras():
    line = format_line(
        50,
        50,
        elapsed=1.2,
        time_per_step=0.015,
        values=[("accuracy", 0.5731), ("loss", 1.1197)],
        verbose=2,
        finalize=True,
    )
    assert line == "50/50 - 1s - 15ms/step - accuracy: 0.5731 - loss: 1.1197"


def test_format_line_ansi_matches_keras_captured_bytes():
    first = format_line(1, 63, elapsed=0.405, time_per_step=0.405, values=[("loss", 1.2010)], ansi=True)
    assert first == (
        "\x1b[1m 1/63\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m25s\x1b[0m 405ms/step - loss: 1.2010"
    )
    last = format_line(
        63, 63, elapsed=0.452, time_per_step=760e-6, values=[("loss", 0.7814)], finalize=True, ansi=True
    )
    assert last == (
        "\x1b[1m63/63\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m "
        "\x1b[1m0s\x1b[0m 760us/step - loss: 0.7814"
    )


def test_format_line_plain_mid_epoch_examples():
    values = [("accuracy", 0.2572), ("loss", 1.3996)]
    assert format_line(74, 625, elapsed=0.9, time_per_step=688e-6, values=values) == (
        f" 74/625 {BAR} 0s 688us/step - accuracy: 0.2572 - loss: 1.3996"
    )
    assert format_line(1, 625, elapsed=0.373, time_per_step=0.373, values=values).startswith(
        f"  1/625 {BAR} 3:52 373ms/step - "
    )
    # predict: no values
    assert format_line(63, 63, elapsed=0.06, time_per_step=808e-6, finalize=True) == f"63/63 {BAR} 0s 808us/step"


def test_format_line_unknown_target():
    assert format_line(5, None, elapsed=2.0, time_per_step=0.4) == "      5/Unknown 2s 400ms/step"


def test_format_line_partial_bar_width():
    line = format_line(3, 8, elapsed=1.0, time_per_step=0.1, width=8, bar_char="#")
    assert line == "3/8 ######## 0s 100ms/step"  # 3 done + 5 remaining, plain text joins both
    ansi = format_line(3, 8, elapsed=1.0, time_per_step=0.1, width=8, bar_char="#", ansi=True)
    assert "\x1b[32m###\x1b[0m\x1b[37m#####\x1b[0m" in ansi


# ----------------------------------------------------------------------------- non-TTY output


def test_pipe_gets_one_clean_final_line_per_bar():
    buf = io.StringIO()
    for epoch in range(3):
        print_line(f"Epoch {epoch + 1}/3", file=buf)
        clock = FakeClock(epoch_times(0.405, 760e-6, 63, start=10.0 * epoch))
        bar = ProgressBar(63, verbose=1, file=buf, clock=clock)
        run_bar(bar, 63, [("loss", 0.7814 - epoch * 0.1)])
    out = buf.getvalue()
    assert "\x1b" not in out and "\r" not in out and "\b" not in out
    assert out.splitlines() == [
        "Epoch 1/3",
        f"63/63 {BAR} 0s 760us/step - loss: 0.7814",
        "Epoch 2/3",
        f"63/63 {BAR} 0s 760us/step - loss: 0.6814",
        "Epoch 3/3",
        f"63/63 {BAR} 0s 760us/step - loss: 0.5814",
    ]


def test_pipe_writes_nothing_before_finalize():
    buf = io.StringIO()
    bar = ProgressBar(10, file=buf, clock=FakeClock(epoch_times(0.1, 0.1, 10)))
    run_bar(bar, 9, [("loss", 1.0)])
    assert buf.getvalue() == ""
    bar.update(10, [("loss", 0.5)])
    assert buf.getvalue() == f"10/10 {BAR} 1s 100ms/step - loss: 0.5000\n"


def test_verbose2_line():
    buf = io.StringIO()
    bar = ProgressBar(50, verbose=2, file=buf, clock=FakeClock(epoch_times(0.5, 0.015, 50)))
    values = [("accuracy", 0.5731), ("loss", 1.1197)]
    run_bar(bar, 49, values)
    assert buf.getvalue() == ""
    bar.update(50, values)
    assert buf.getvalue() == "50/50 - 1s - 15ms/step - accuracy: 0.5731 - loss: 1.1197\n"


def test_verbose2_has_no_ansi_even_on_a_terminal():
    buf = TTYStringIO()
    bar = ProgressBar(4, verbose=2, file=buf, clock=FakeClock(epoch_times(0.5, 0.25, 4)))
    run_bar(bar, 4, [("loss", 0.2)])
    assert buf.getvalue() == "4/4 - 1s - 250ms/step - loss: 0.2000\n"


@pytest.mark.parametrize("make_file", [io.StringIO, TTYStringIO, lambda: live_console(io.StringIO())])
def test_verbose0_writes_nothing(make_file):
    target = make_file()
    bar = ProgressBar(5, verbose=0, file=target, clock=FakeClock(epoch_times(0.1, 0.1, 5)))
    run_bar(bar, 5, [("loss", 1.0)])
    buf = target.file if isinstance(target, Console) else target
    assert buf.getvalue() == ""


def test_file_none_resolves_stdout_at_construction(capsys):
    bar = ProgressBar(2, verbose=2, clock=FakeClock([0.0, 1.0, 3.0]))
    run_bar(bar, 2, [("loss", 0.25)])
    assert capsys.readouterr().out == "2/2 - 3s - 2s/step - loss: 0.2500\n"


def test_print_line(capsys):
    print_line("Epoch 1/10")
    buf = io.StringIO()
    print_line("Epoch 2/10", file=buf)
    assert capsys.readouterr().out == "Epoch 1/10\n"
    assert buf.getvalue() == "Epoch 2/10\n"


def test_ascii_only_stream_gets_ascii_bar():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    bar = ProgressBar(2, file=stream, width=4, clock=FakeClock([0.0, 1.0, 2.0]))
    run_bar(bar, 2, None)
    stream.flush()
    assert raw.getvalue() == b"2/2 ==== 2s 1s/step\n"


def test_values_none_keeps_last_values_and_new_keys_append():
    buf = io.StringIO()
    bar = ProgressBar(3, verbose=2, file=buf, clock=FakeClock([0.0, 1.0, 2.0, 3.0]))
    bar.update(1, [("loss", 0.9)])
    bar.update(2, [("loss", 0.8), ("accuracy", 0.5)])
    bar.update(3)
    assert buf.getvalue() == "3/3 - 3s - 1s/step - loss: 0.8000 - accuracy: 0.5000\n"


def test_time_per_step_without_a_step_one_update_uses_creation_time():
    buf = io.StringIO()
    bar = ProgressBar(10, verbose=2, file=buf, clock=FakeClock([0.0, 2.0]))
    bar.update(10)  # no update(1): (2.0 - 0.0) / 10
    assert buf.getvalue() == "10/10 - 2s - 200ms/step\n"


# ----------------------------------------------------------------------------- live terminal line


def test_terminal_draws_intermediate_updates_and_keras_final_line():
    buf = io.StringIO()
    clock = FakeClock(epoch_times(0.405, 0.02, 63))  # 20 ms per step: a redraw every 3 steps
    bar = ProgressBar(63, file=live_console(buf), clock=clock)
    run_bar(bar, 63, [("loss", 1.2010)])
    out = buf.getvalue()
    assert "\b" not in out and out.endswith("\n") and out.count("\n") == 1
    assert "\x1b[32m" in out  # green done part
    shown = frames(out)
    assert shown[0] == f" 1/63 {BAR} 25s 405ms/step - loss: 1.2010"
    assert 10 < len(shown) < 63  # throttled, but intermediate states are drawn
    assert shown[-1].rstrip(" \n") == f"63/63 {BAR} 2s 20ms/step - loss: 1.2010"  # 1.645 s


def test_fake_tty_file_is_detected_as_terminal():
    buf = TTYStringIO()
    bar = ProgressBar(63, file=buf, clock=FakeClock(epoch_times(0.405, 760e-6, 63)))
    run_bar(bar, 63, [("loss", 0.7814)])
    shown = frames(buf.getvalue())
    assert buf.getvalue().startswith("\r")
    assert shown[0].startswith(" 1/63 ")
    assert shown[-1].rstrip(" \n") == f"63/63 {BAR} 0s 760us/step - loss: 0.7814"


def test_throttling_with_injected_clock():
    buf = io.StringIO()
    # creation, then updates 1..7 at these times; 7 is the final one.
    clock = FakeClock([0.0, 0.0, 0.01, 0.049, 0.05, 0.07, 0.099, 0.11])
    bar = ProgressBar(7, file=live_console(buf), clock=clock)
    for step in range(1, 8):
        bar.update(step, [("loss", 0.5)])
    shown = frames(buf.getvalue())
    # steps 1-3 come within 0.05 s of the bar's creation, 4 is due (0.05), 5-6 are
    # within 0.05 s of step 4, 7 is final.
    assert [int(s.split("/")[0]) for s in shown] == [4, 7]


def test_a_short_epoch_draws_only_its_final_line():
    buf = io.StringIO()
    clock = FakeClock([0.0, 0.001, 0.002, 0.03])  # creation, then every call within the 0.05 s interval
    bar = ProgressBar(63, file=live_console(buf), clock=clock)
    assert bar.due(1) and not bar.due(2) and bar.due(63)
    run_bar(bar, 63, [("loss", 0.5)])
    shown = frames(buf.getvalue())
    assert len(shown) == 1 and shown[0].startswith("63/63 ")


@pytest.mark.parametrize("color_system", ["standard", "256", "truecolor", None])
def test_direct_drawing_writes_what_rich_writes(color_system):
    outputs = []
    for direct in (True, False):
        buf = io.StringIO()
        console = Console(file=buf, force_terminal=True, force_interactive=True, width=120,
                          color_system=color_system)
        bar = ProgressBar(200, file=console, clock=FakeClock([0.0, 0.5, 1.0, 1.0 + 198 * 0.002]))
        if not direct:
            bar._draw_live = bar._draw_with_rich  # rich's Console.print: the reference
        bar.update(1, [("loss", 0.25)])
        bar.update(2)
        bar.update(200, [("loss", 0.125), ("accuracy", 0.5)])  # a shorter time field, an empty "todo" part
        outputs.append(buf.getvalue())
    assert outputs[0] == outputs[1]
    assert len(frames(outputs[0])) == 3


def test_shorter_line_is_padded_over_the_previous_one():
    buf = io.StringIO()
    bar = ProgressBar(200, file=live_console(buf), clock=FakeClock([0.0, 0.5, 0.5 + 199 * 0.002]))
    bar.update(1)
    bar.update(200)
    first, last = frames(buf.getvalue())
    assert first == f"  1/200 {BAR} 1:39 500ms/step"
    # " 1:39 500ms/step" (16 chars) becomes " 1s 2ms/step" (12 chars): 4 spaces of padding.
    assert last == f"200/200 {BAR} 1s 2ms/step" + " " * 4 + "\n"


def test_intermediate_lines_are_cropped_to_terminal_width():
    buf = io.StringIO()
    values = [(f"metric_{i}", 0.5) for i in range(6)]
    bar = ProgressBar(3, file=live_console(buf, width=40), clock=FakeClock([0.0, 0.5, 1.0, 1.5]))
    run_bar(bar, 3, values)
    shown = frames(buf.getvalue())
    assert all(len(s) <= 39 for s in shown[:-1])
    assert shown[-1].rstrip(" \n").endswith("metric_5: 0.5000")  # the final line is complete


def test_jupyter_stream_gets_carriage_returns_not_html(capsys):
    bar = ProgressBar(
        3, file=Console(force_jupyter=True), clock=FakeClock([0.0, 0.5, 1.0, 1.5])
    )
    run_bar(bar, 3, [("loss", 0.25)])
    out = capsys.readouterr().out
    assert out.startswith("\r") and out.endswith("\n")
    assert frames(out)[-1].rstrip(" \n") == f"3/3 {BAR} 2s 500ms/step - loss: 0.2500"


# ----------------------------------------------------------------------------- cost and errors


def test_update_between_redraws_is_cheap():
    n = 100_000
    bar = ProgressBar(n + 1, file=live_console(io.StringIO()))
    values = [("loss", 0.5)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for step in range(2, n):
            bar.update(step, values)
        best = min(best, (time.perf_counter() - start) / n)
    assert best < 2e-6


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [
        (dict(target=0), ValueError, "target=0"),
        (dict(target=2.5), ValueError, "`target`"),
        (dict(target=5, verbose=3), ValueError, "verbose=3"),
        (dict(target=5, interval=-1.0), ValueError, "interval=-1.0"),
        (dict(target=5, width=0), ValueError, "width=0"),
        (dict(target=5, unit_name=3), TypeError, "unit_name=3"),
    ],
)
def test_invalid_arguments(kwargs, exc, fragment):
    with pytest.raises(exc, match=re.escape(fragment)):
        ProgressBar(file=io.StringIO(), **kwargs)


def test_verbose2_accepts_a_rich_console_as_file():
    buf = io.StringIO()
    bar = ProgressBar(2, verbose=2, file=live_console(buf), clock=FakeClock([0.0, 1.0, 2.0]))
    run_bar(bar, 2, [("loss", 0.5)])
    assert buf.getvalue() == "2/2 - 2s - 1s/step - loss: 0.5000\n"


def test_numpy_integer_target_is_accepted():
    buf = io.StringIO()
    bar = ProgressBar(np.int64(2), verbose=2, file=buf, clock=FakeClock([0.0, 1.0, 2.0]))
    run_bar(bar, 2, None)
    assert buf.getvalue() == "2/2 - 2s - 1s/step\n"


def test_verbose_auto_means_1():
    buf = io.StringIO()
    bar = ProgressBar(1, verbose="auto", file=buf, clock=FakeClock([0.0, 0.25]))
    bar.update(1)
    assert buf.getvalue() == f"1/1 {BAR} 0s 250ms/step\n"


def test_import_does_not_import_rich():
    code = "import sys, logitnet.progress; print('rich' in sys.modules)"
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
