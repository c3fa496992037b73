"""events.jsonl: the run's events in the engine's format (src/engine/events.ts), one JSON object a line,
written by the first process only. A float that is NaN or infinite is written as null, as JSON.stringify
writes it (the page reads it back as NaN)."""
import json
import math
import os
import time


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventLog:
    def __init__(self, path, enabled):
        self.path = path
        self.enabled = enabled
        self.file = None

    def open(self, truncate_at=None):
        """Opens the log for appending; `truncate_at`: cut it to this many bytes first (a resumed run drops what followed its checkpoint); None: start a new log."""
        if not self.enabled:
            return
        if truncate_at is None:
            self.file = open(self.path, "wb")
        else:
            self.file = open(self.path, "r+b")
            self.file.truncate(truncate_at)
            self.file.seek(truncate_at)

    def emit(self, type_, **body):
        if not self.enabled:
            return
        event = {"type": type_, "time": int(time.time() * 1000), **body}
        self.file.write((json.dumps(_finite(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8"))
        self.file.flush()

    def tell(self):
        return self.file.tell() if self.enabled else 0

    def close(self):
        if self.file:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None
