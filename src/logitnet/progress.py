"""Keras-style progress display for ``fit``, ``evaluate`` and ``predict``.

The text is Keras 3's (``keras/src/utils/progbar.py``)::

    63/63 ━━━━━━━━━━━━━━━━━━━━ 0s 760us/step - loss: 0.7814    (verbose=1)
    50/50 - 1s - 15ms/step - accuracy: 0.5731 - loss: 1.1197    (verbose=2)

How it is written differs from Keras on purpose:

* In an interactive terminal (or a Jupyter notebook), verbose=1 keeps ONE line
  per bar and redraws it in place, at most every ``interval`` seconds plus the
  final update. It is drawn with ``rich``: green for the done part of the bar,
  grey for the rest. Intermediate lines are cropped to the terminal width so
  they never wrap.
* Anywhere else (log file, pipe, ``io.StringIO``) only the final line of each
  bar is written, as plain text: no ``\\b``, no ``\\r``, no ANSI escape codes.

Whether the output is interactive is decided by ``rich.console.Console``
(``is_interactive``, which honours ``TTY_INTERACTIVE``, ``TTY_COMPATIBLE``,
``FORCE_COLOR`` and ``TERM=dumb``). ``rich`` is imported lazily, only by a
verbose=1 bar, so importing this module costs nothing.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

__all__ = [
    "ProgressBar",
    "print_line",
    "format_time_per_step",
    "format_eta",
    "format_value",
    "format_line",
]

BAR_CHAR = "━"
_ASCII_BAR_CHAR = "="

# Keras's escape codes per part of the line (used by ``format_line(ansi=True)``).
_ANSI = {"count": "\x1b[1m", "done": "\x1b[32m", "todo": "\x1b[37m", "time": "\x1b[1m"}
_ANSI_RESET = "\x1b[0m"
# The same parts as rich styles (used for the live terminal line).
_RICH_STYLES = {"count": "bold", "done": "green", "todo": "bright_black", "time": "bold", None: ""}

Values = Sequence[tuple[str, Any]]


# --------------------------------------------------------------------------- pure formatting


def format_time_per_step(seconds: float, unit_name: str = "step") -> str:
    """Format the mean time per step as Keras does.

    Parameters
    ----------
    seconds : float
        Mean duration of one step, in seconds.
    unit_name : str, default="step"
        Name of the unit after the slash.

    Returns
    -------
    str
        ``"{s:.0f}s/step"`` if ``seconds >= 1`` or ``seconds == 0``,
        ``"{ms:.0f}ms/step"`` if ``seconds >= 1e-3``, else ``"{us:.0f}us/step"``.

    Examples
    --------
    >>> format_time_per_step(760e-6), format_time_per_step(2.3e-3), format_time_per_step(1.5)
    ('760us/step', '2ms/step', '2s/step')
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds: float) -> str:
    """Format an estimated time to completion as Keras does.

    Returns ``"%ds"`` up to 60 s, ``"m:ss"`` up to an hour, else ``"h:mm:ss"``
    (all truncated, not rounded).

    Examples
    --------
    >>> format_eta(25.1), format_eta(232.7), format_eta(3725.0)
    ('25s', '3:52', '1:02:05')
    """
    if not math.isfinite(seconds):
        return "?"
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_value(value: Any, verbose: int = 1) -> str:
    """Format one logged value as Keras does.

    verbose=1 uses ``.4f``, or ``.4e`` when ``|value| <= 1e-3``; verbose=2 uses
    ``.4f`` only when ``value > 1e-3`` (no absolute value, as in Keras), so
    large negative values print in ``.4e`` there. NaN prints as ``nan``. A
    value that is not a number is printed with ``str``.

    Examples
    --------
    >>> format_value(0.78141), format_value(1e-4), format_value(float("nan"))
    ('0.7814', '1.0000e-04', 'nan')
    >>> format_value(-2.0, verbose=1), format_value(-2.0, verbose=2)
    ('-2.0000', '-2.0000e+00')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    big = v > 1e-3 if verbose == 2 else abs(v) > 1e-3
    return f"{v:.4f}" if big else f"{v:.4e}"


def _count_text(current: int, target: int | None) -> str:
    if target is None:
        return f"{current:7d}/Unknown"
    return f"{current:>{len(str(target))}}/{target}"


def _values_text(values: Values, verbose: int) -> str:
    return "".join(f" - {name}: {format_value(v, verbose)}" for name, v in values)


def _line_parts(
    current: int,
    target: int | None,
    elapsed: float,
    time_per_step: float,
    values: Values,
    verbose: int,
    finalize: bool,
    width: int,
    unit_name: str,
    bar_char: str,
) -> list[tuple[str, str | None]]:
    """Split a Keras line into ``(text, part)`` pieces; ``part`` names its style."""
    tps = format_time_per_step(time_per_step, unit_name)
    if verbose == 2:
        count = _count_text(current, target)
        text = f"{count} - {elapsed:.0f}s - {tps}{_values_text(values, 2)}"
        return [(text, None)]
    if target is None:
        parts: list[tuple[str, str | None]] = [(_count_text(current, None), None)]
        clock = f"{elapsed:.0f}s"
    else:
        done = int(width * current / target)
        parts = [(_count_text(current, target), "count"), (" ", None)]
        if done > 0:
            parts.append((bar_char * done, "done"))
        parts.append((bar_char * max(width - done, 0), "todo"))
        if finalize:
            clock = f"{elapsed:.0f}s"
        else:
            clock = format_eta(time_per_step * (target - current))
    parts += [(" ", None), (clock, "time"), (f" {tps}{_values_text(values, 1)}", None)]
    return parts


def format_line(
    current: int,
    target: int | None,
    *,
    elapsed: float,
    time_per_step: float,
    values: Values = (),
    verbose: int = 1,
    finalize: bool = False,
    width: int = 20,
    unit_name: str = "step",
    ansi: bool = False,
    bar_char: str = BAR_CHAR,
) -> str:
    """Return one progress line, without line ending.

    Parameters
    ----------
    current : int
        Steps done.
    target : int or None
        Total number of steps (None if unknown).
    elapsed : float
        Seconds since the bar was created (shown when finalized).
    time_per_step : float
        Mean seconds per step (the first step excluded, see `ProgressBar`).
    values : sequence of (str, float), default=()
        Named values to show, in this order, as given.
    verbose : {1, 2}, default=1
        1 gives the bar line, 2 the one-line summary.
    finalize : bool, default=False
        A final line shows the elapsed time instead of the ETA (verbose=1).
    width : int, default=20
        Number of bar characters.
    unit_name : str, default="step"
        Unit in the time-per-step field.
    ansi : bool, default=False
        Add Keras's exact ANSI escape codes (bold count and time, green done
        bar, white remaining bar). Has no effect for verbose=2.
    bar_char : str, default="━"
        Character the bar is drawn with.

    Returns
    -------
    str
        For example ``"63/63 ━━━━━━━━━━━━━━━━━━━━ 0s 760us/step - loss: 0.7814"``.
    """
    parts = _line_parts(
        current, target, elapsed, time_per_step, values, verbose, finalize, width, unit_name,
        bar_char,
    )
    if not ansi:
        return "".join(text for text, _ in parts)
    return "".join(
        text if part is None else f"{_ANSI[part]}{text}{_ANSI_RESET}" for text, part in parts
    )


def print_line(text: str, file: IO[str] | None = None) -> None:
    """Print one line (``"Epoch 1/10"``, callback messages) and flush.

    ``file=None`` means the current ``sys.stdout``.
    """
    print(text, file=sys.stdout if file is None else file, flush=True)


# --------------------------------------------------------------------------- the bar


def _bar_char_for(stream: Any) -> str:
    """``"━"`` unless the stream's encoding cannot write it (then ``"="``)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return BAR_CHAR
    try:
        BAR_CHAR.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_BAR_CHAR
    return BAR_CHAR


def _plain_stream(file: Any) -> Any:
    """The text stream behind ``file`` (a stream, or a rich Console's file)."""
    console_module = sys.modules.get("rich.console")  # a Console implies rich is imported
    if console_module is not None and isinstance(file, console_module.Console):
        return file.file
    return file


def _check_args(target: Any, verbose: Any, interval: Any, unit_name: Any, width: Any) -> None:
    def is_int(x: Any) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if target is not None and not (is_int(target) and target >= 1):
        raise ValueError(
            "Received an invalid value for `target`, expected None or a positive integer. "
            f"Received: target={target!r}"
        )
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(
            "Received an invalid value for `verbose`, expected 0, 1, 2 or 'auto'. "
            f"Received: verbose={verbose!r}"
        )
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval >= 0:
        raise ValueError(
            "Received an invalid value for `interval`, expected a non-negative number of seconds. "
            f"Received: interval={interval!r}"
        )
    if not isinstance(unit_name, str):
        raise TypeError(f"Expected `unit_name` to be a str. Received: unit_name={unit_name!r}")
    if not (is_int(width) and width >= 1):
        raise ValueError(
            "Received an invalid value for `width`, expected a positive integer. "
            f"Received: width={width!r}"
        )


class ProgressBar:
    """Keras-style progress bar for one epoch (or one evaluate/predict pass).

    Parameters
    ----------
    target : int or None
        Total number of steps, or None if unknown.
    verbose : {0, 1, 2, "auto"}, default=1
        0 prints nothing; 1 shows the bar (live in a terminal, final line only
        elsewhere); 2 prints one plain line when finalized. "auto" means 1.
    file : text stream or rich.console.Console, optional
        Where to write. None means ``sys.stdout`` as it is when the bar is
        created (so ``redirect_stdout`` and pytest's capture work).
    interval : float, default=0.05
        Minimum seconds between two redraws of the live line, and before its first.
    unit_name : str, default="step"
        Unit in the time-per-step field.
    width : int, default=20
        Number of bar characters.
    clock : callable, default=time.perf_counter
        Returns the current time in seconds. Injected by tests.

    Notes
    -----
    The time per step excludes the first step, which includes warm-up:
    ``(t - t_1) / (current - 1)`` where ``t_1`` is the time of the
    ``update(1, ...)`` call; before that it is ``(t - t_0) / current``. The
    elapsed time counts from the bar's creation.
    """

    def __init__(
        self,
        target: int | None,
        verbose: int | str = 1,
        *,
        file: Any = None,
        interval: float = 0.05,
        unit_name: str = "step",
        width: int = 20,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if verbose == "auto":
            verbose = 1
        _check_args(target, verbose, interval, unit_name, width)
        self.target = None if target is None else int(target)
        self.verbose = int(verbose)
        self.interval = float(interval)
        self.unit_name = unit_name
        self.width = int(width)
        self._file = sys.stdout if file is None else _plain_stream(file)
        self._clock = clock
        self._start = clock()
        self._time_after_first: float | None = None
        self._final_at = math.inf if target is None else self.target
        self._pending: Values | None = None
        self._shown: dict[str, Any] = {}
        self._console: Any = None  # rich Console drawing the live line, if any
        self._codes: dict | None = None  # its style codes, per part (see _style_codes)
        self._prev_width = 0
        self._bar_char = BAR_CHAR
        if self.verbose == 1:
            self._setup_display(file)
        # Only a live line ever redraws before the end, and first once the bar has been up for `interval`:
        # an epoch shorter than that draws just its final line (a draw costs ~70 us; a seed epoch ~1.5 ms).
        self._next_due = self._start + self.interval if self._console is not None else math.inf

    def update(
        self, current: int, values: Values | None = None, finalize: bool | None = None
    ) -> None:
        """Record progress; redraw if due.

        Parameters
        ----------
        current : int
            Steps done so far.
        values : list of (str, float), optional
            Already-averaged values to show as-is, in this order. None keeps
            the values shown last.
        finalize : bool, optional
            Whether this is the last update. Defaults to ``current >= target``.
        """
        now = self._clock()
        if values is not None:
            self._pending = values
        if finalize is None and now < self._next_due and 1 < current < self._final_at:
            return  # the per-step fast path: nothing to draw yet
        self._update(current, now, finalize)

    def due(self, current: int) -> bool:
        """Whether ``update(current, ...)`` would draw now (or record the first step's time).

        The training loop asks before it builds a step's values: a bar that is
        not live (``verbose=2``, or a log file or pipe) is due only at the first
        and last steps, and a live one once per ``interval``.
        """
        return not (1 < current < self._final_at and self._clock() < self._next_due)

    # ------------------------------------------------------------------ internals

    def _setup_display(self, file: Any) -> None:
        from rich.console import Console

        console = file if isinstance(file, Console) else Console(file=self._file)
        self._file = console.file
        self._bar_char = _bar_char_for(self._file)
        if console.is_interactive:
            self._console = console
        elif console.is_jupyter and self._file in (sys.stdout, sys.stderr):
            # Notebook streams understand "\r" and colour codes, but a Jupyter
            # Console would send each print as a separate HTML output.
            self._console = Console(
                file=self._file,
                force_jupyter=False,
                force_terminal=True,
                force_interactive=True,
                color_system="standard",
                width=console.width,
            )

    def _time_per_step(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._time_after_first is not None and current > 1:
            return (now - self._time_after_first) / (current - 1)
        return (now - self._start) / current

    def _update(self, current: int, now: float, finalize: bool | None) -> None:
        if self.verbose == 0:
            return
        if finalize is None:
            finalize = current >= self._final_at
        time_per_step = self._time_per_step(current, now)
        if current == 1:
            self._time_after_first = now
        if not finalize and now < self._next_due:
            return
        if self._pending is not None:
            self._shown.update(self._pending)
            self._pending = None
        parts = _line_parts(
            current,
            self.target,
            now - self._start,
            time_per_step,
            list(self._shown.items()),
            self.verbose,
            finalize,
            self.width,
            self.unit_name,
            self._bar_char,
        )
        if self._console is not None:
            self._draw_live(parts, finalize)
            self._next_due = now + self.interval
        elif finalize:
            self._file.write("".join(text for text, _ in parts) + "\n")
            flush = getattr(self._file, "flush", None)
            if flush is not None:
                flush()

    def _style_codes(self) -> dict[str | None, tuple[str, str]] | None:
        """Per part, the ANSI codes that rich writes around it on this console; None where rich must draw
        (a legacy Windows console). Computed once per bar."""
        codes = self._codes
        if codes is None:
            from rich.console import COLOR_SYSTEMS
            from rich.style import Style

            console = self._console
            system = COLOR_SYSTEMS.get(console.color_system or "")
            codes = {}
            for part, name in _RICH_STYLES.items():
                styled = Style.parse(name).render("\0", color_system=system) if system and name else "\0"
                before, _, after = styled.partition("\0")
                codes[part] = (before, after)
            self._codes = codes = {} if console.legacy_windows else codes
        return codes or None

    def _draw_live(self, parts: list[tuple[str, str | None]], finalize: bool) -> None:
        """Redraw the live line in place: ``\\r`` + styled text + space padding.

        The line is written directly with rich's style codes for this console
        (about 10x cheaper than ``Console.print``); a line that must be cropped
        to the terminal's width, and a legacy Windows console, go through rich.
        """
        from rich.cells import cell_len

        console = self._console
        codes = self._style_codes()
        width = sum(cell_len(t) for t, _ in parts)
        if codes is not None and (finalize or width <= max(console.width - 1, 1)):
            pad = " " * (self._prev_width - width) if self._prev_width > width else ""
            line = "".join(codes[part][0] + t + codes[part][1] for t, part in parts if t)
            self._file.write("\r" + line + pad + ("\n" if finalize else ""))
            self._file.flush()
            self._prev_width = 0 if finalize else width
            return
        self._draw_with_rich(parts, finalize)

    def _draw_with_rich(self, parts: list[tuple[str, str | None]], finalize: bool) -> None:
        from rich.control import Control, ControlType
        from rich.text import Text

        console = self._console
        text = Text.assemble(*[(t, _RICH_STYLES[part]) for t, part in parts])
        if not finalize:
            text.truncate(max(console.width - 1, 1), overflow="ellipsis")
        new_width = text.cell_len
        if self._prev_width > new_width:
            text.append(" " * (self._prev_width - new_width))
        with console:  # buffer, so the line goes out in one write
            console.control(Control(ControlType.CARRIAGE_RETURN))
            console.print(text, end="\n" if finalize else "", soft_wrap=True)
        self._prev_width = 0 if finalize else new_width
