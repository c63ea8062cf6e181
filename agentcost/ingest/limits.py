"""What agentcost will not hold in memory or try to read: a line or a whole JSON document over
the line limit, and input that is not text at all (binary data, an endless device)."""

from __future__ import annotations

from agentcost.errors import UsageError

# The longest line (or JSON document read whole) agentcost reads: an OTLP file exporter's line
# holds a batch of spans, a few megabytes; far past that is a broken or hostile input.
MAX_LINE_BYTES = 64 * 1024 * 1024
# How much of an input's (decompressed) start is looked at to tell text from binary data.
TEXT_SAMPLE_BYTES = 64 * 1024
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A UTF-8 character is at most this long: one cut by the end of the sample is not an error.
LONGEST_UTF8_CHARACTER = 4
UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))
# Below this, ordinary records would be skipped as too long.
SMALLEST_LIMIT = 1024


def size_text(size: int) -> str:
    """A byte count in the largest binary unit that divides it (64 MiB, 1,536 KiB, 1,000
    bytes)."""
    for name, unit in UNITS:
        if size >= unit and size % unit == 0:
            return f"{size // unit:,} {name}"
    return f"{size:,} bytes"


def line_too_long(max_line_bytes: int) -> str:
    """The reason a line over the limit is skipped, the limit and how to raise it said."""
    return (f"line too long (over {size_text(max_line_bytes)}; --max-line-size raises the "
            "limit)")


def document_too_big(display: str, max_line_bytes: int) -> str:
    return (f"{display}: JSON document larger than the {size_text(max_line_bytes)} limit on a "
            "line or document read whole (--max-line-size, or max_line_bytes in the library, "
            "raises it)")


def check_max_line_bytes(value: object) -> None:
    """A limit is a whole number of bytes, at least 1 KiB."""
    if isinstance(value, bool) or not isinstance(value, int) or value < SMALLEST_LIMIT:
        raise UsageError(f"max_line_bytes {value!r}: a number of bytes, at least "
                         f"{SMALLEST_LIMIT} (1 KiB)")


def binary_data(sample: bytes) -> str | None:
    """What the start of an input is, in words, when it is not text a trace could be in
    (NUL bytes, bytes that are not UTF-8): None for text. Only the first TEXT_SAMPLE_BYTES are
    looked at, so that an endless input (/dev/zero, /dev/urandom) is told in bounded reading.
    A text file with a few broken lines is text: its broken lines are skipped one by one, the
    rest read; so a sample with a line of JSON in it is text, and so is one that is a single
    line begun as JSON."""
    sample = sample[:TEXT_SAMPLE_BYTES]
    if sample.startswith(UTF16_BOMS):
        return ("not a trace: UTF-16 text (agentcost reads UTF-8: iconv -f UTF-16 -t UTF-8 "
                "converts it)")
    if b"\0" not in sample and _utf8(sample):
        return None
    lines = sample.split(b"\n")
    complete = lines[:-1]
    if any(_json_line(line) for line in complete):
        return None
    if not complete and sample.lstrip()[:1] in (b"{", b"["):
        return None
    what = "NUL bytes" if b"\0" in sample else "bytes that are not UTF-8 text"
    return f"not a trace: binary data ({what} in its first {size_text(TEXT_SAMPLE_BYTES)})"


def _utf8(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        cut_at_end = (error.reason == "unexpected end of data"
                      and error.start >= len(sample) - LONGEST_UTF8_CHARACTER)
        return cut_at_end
    return True


def _json_line(line: bytes) -> bool:
    from agentcost.ingest.readers.base import parse_json

    text = line.strip()
    return text[:1] in (b"{", b"[") and isinstance(parse_json(text), dict | list)
