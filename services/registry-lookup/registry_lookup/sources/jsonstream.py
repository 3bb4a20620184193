"""Read a huge JSON array one element at a time, in bounded memory."""
from __future__ import annotations

import json
from typing import IO, Iterator

_SKIP = " \t\r\n,"
_HEADROOM = 1 << 16


def iter_array(stream: IO[str], chunk_size: int = 1 << 20) -> Iterator:
    """Yield the elements of the top-level JSON array in ``stream`` (a text stream).

    Memory is bounded by ``chunk_size`` plus the largest element."""
    decoder = json.JSONDecoder()
    buf, pos, eof, started = "", 0, False, False
    while True:
        if not eof and len(buf) - pos < _HEADROOM:
            more = stream.read(chunk_size)
            if more:
                buf, pos = buf[pos:] + more, 0
            else:
                eof = True
        while pos < len(buf) and buf[pos] in _SKIP:
            pos += 1
        if pos >= len(buf):
            if eof:
                if started:
                    raise ValueError("Truncated JSON array: no closing ]")
                return
            continue
        if not started:
            if buf[pos] != "[":
                raise ValueError("Expected a JSON array")
            started, pos = True, pos + 1
            continue
        if buf[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if eof:
                raise ValueError("Malformed or truncated JSON element") from None
            more = stream.read(chunk_size)
            if more:
                buf, pos = buf[pos:] + more, 0
            else:
                eof = True
            continue
        yield value
        pos = end
