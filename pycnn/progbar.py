"""Keras' progress bar, in a terminal and in a Jupyter cell.

    469/469 [==============================] - 2s 4ms/step - loss: 0.2934 - accuracy: 0.9148

A terminal (or any stream that is a tty) gets the line rewritten in place with ``\\r``;
a Jupyter notebook gets one output that is updated through a display handle (so a saved
notebook keeps only the final line); any other stream (a file, a pipe, a test's captured
output) gets only the final line of each bar. verbose=2 prints one line per bar at its
end, as Keras 3: ``469/469 - 2s - 4ms/step - loss: 0.2934 - accuracy: 0.9148``.
"""
import sys as _sys
import time as _time

__all__ = ["Progbar", "in_notebook"]


def in_notebook():
    """True inside a Jupyter kernel (IPython's ZMQ shell)."""
    ipython = _sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _format_time(seconds, unit):
    """' 4ms/step' — Keras picks s, ms or us so that the number is at least 1."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds) // 3600}:{(int(seconds) % 3600) // 60:02d}:{int(seconds) % 60:02d}"
    if seconds > 60:
        return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"
    return f"{int(seconds)}s"


def _format_value(value):
    if isinstance(value, str):
        return f" {value}"
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


class Progbar:
    """A progress bar over ``target`` steps.

    Args:
        target: the number of steps (batches).
        width: characters between the brackets (30, as Keras).
        verbose: 1 = the live bar, 2 = one line at the end, 0 = nothing.
        interval: minimum seconds between two redraws of the live bar.
        unit_name: 'step' in '4ms/step'.
        file: the stream to write to (default: sys.stdout at each write).
        display: 'auto' (Jupyter handle in a notebook, else \\r on a tty, else final line
            only), 'notebook', 'terminal' or 'final'.

    ``update(current, values)`` shows the step reached and the metric values as they are
    (already averaged by the caller); ``finalize=True`` ends the bar.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, unit_name="step",
                 file=None, display="auto"):
        if display not in ("auto", "notebook", "terminal", "final"):
            raise ValueError(f"Progbar: display must be 'auto', 'notebook', 'terminal' or "
                             f"'final', got {display!r}")
        self.target = int(target)
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._file = file
        self._display = display
        self._start = _time.time()
        self._last_update = 0.0
        self._total_width = 0
        self._handle = None
        self._values = {}
        self.finalized = False

    @property
    def file(self):
        return self._file if self._file is not None else _sys.stdout

    def _mode(self):
        if self._display != "auto":
            return self._display
        if in_notebook():
            return "notebook"
        isatty = getattr(self.file, "isatty", None)
        return "terminal" if isatty is not None and isatty() else "final"

    def _bar(self, current):
        digits = len(str(self.target))
        bar = f"{current:{digits}d}/{self.target} ["
        done = int(self.width * min(current / self.target, 1.0)) if self.target else self.width
        if done > 0:
            bar += "=" * (done - 1) + (">" if current < self.target else "=")
        return bar + "." * (self.width - done) + "]"

    def _line(self, current, finalize, now):
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if finalize:
            info = f" - {elapsed:.0f}s" + _format_time(per_step, self.unit_name)
        else:
            info = f" - ETA: {_format_eta(per_step * (self.target - current))}"
        for name, value in self._values.items():
            info += f" - {name}:" + _format_value(value)
        return self._bar(current) + info

    def update(self, current, values=None, finalize=None):
        """Shows step `current` (1-based count of finished steps) and the values given
        (a dict or (name, value) pairs, shown as they are)."""
        if values:
            self._values.update(dict(values))
        if finalize is None:
            finalize = current >= self.target
        if self.verbose == 0 or self.finalized:
            return
        now = _time.time()
        if self.verbose == 2:
            if finalize:
                self._write_final_verbose2(current, now)
            return
        mode = self._mode()
        if not finalize and (mode == "final" or now - self._last_update < self.interval):
            return
        self._last_update = now
        line = self._line(current, finalize, now)
        if mode == "notebook":
            self._show_in_notebook(line)
        elif mode == "terminal":
            pad = " " * max(self._total_width - len(line), 0)
            self.file.write("\r" + line + pad + ("\n" if finalize else ""))
            self.file.flush()
            self._total_width = len(line)
        else:
            self.file.write(line + "\n")
            self.file.flush()
        self.finalized = bool(finalize)

    def _write_final_verbose2(self, current, now):
        elapsed = now - self._start
        digits = len(str(self.target))
        # Keras 3: "45/45 - 0s - 3ms/step - loss: 0.2500"
        info = f"{current:{digits}d}/{self.target} - {elapsed:.0f}s -" + _format_time(
            elapsed / max(current, 1), self.unit_name)
        for name, value in self._values.items():
            info += f" - {name}:" + _format_value(value)
        self.file.write(info + "\n")
        self.file.flush()
        self.finalized = True

    def _show_in_notebook(self, line):
        from IPython.display import Pretty, display
        if self._handle is None:
            self._handle = display(Pretty(line), display_id=True)
        else:
            self._handle.update(Pretty(line))
