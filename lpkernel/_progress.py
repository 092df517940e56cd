"""A dependency-free text progress bar for long loops (``verbose`` > 0)."""

import sys
import time


class ProgressBar:
    """Draw ``[#####.....] k/total  message  elapsed`` on stderr, in place.

    Parameters
    ----------
    total : int
    label : str, printed before the bar.
    enabled : bool, draw nothing when False.
    stream : file, default sys.stderr.
    """

    def __init__(self, total, label, enabled=True, stream=None, width=30):
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.start = time.perf_counter()

    def update(self, done, message=""):
        if not self.enabled:
            return
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if done >= self.total else ""
        self.stream.write(f"\r[{self.label}] [{bar}] {done}/{self.total} {message} {elapsed:.1f}s{end}")
        self.stream.flush()
