"""Span and trace ids as lowercase hex, the one rule every reader's ids go through: hex as is
(lowercased), `0x`-prefixed hex unprefixed and padded, base64 (some OTLP exporters write it)
decoded when it gives an id of the right length. Anything else is kept as written: ids are only
compared, so an id in no known encoding still groups and links spans."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

NOT_LOWER_HEX = r"[^0-9a-f]"
HEX = r"^[0-9a-fA-F]+$"


def canonical_ids(ids: pl.Series, hex_length: int) -> pl.Series:
    """A column of ids of `hex_length` hex digits (32 for traces, 16 for spans) as lowercase
    hex, null where there is none. Logs nearly always write them so already: one check over
    the column then spares every id a decoding attempt."""
    if not ids.str.contains(NOT_LOWER_HEX).any():
        return ids.replace("", None)
    return ids.to_frame().select(hex_id(ids.name, hex_length)).to_series()


def hex_id(column: str, hex_length: int) -> pl.Expr:
    import polars as pl

    text = pl.col(column).replace("", None)
    digits = text.str.slice(2)
    prefixed = text.str.starts_with("0x") | text.str.starts_with("0X")
    base64_length = 24 if hex_length == 32 else 12  # the bytes of a hex id, in base64
    decoded = text.str.decode("base64", strict=False).bin.encode("hex")
    return (
        pl.when(text.str.contains(HEX)).then(text.str.to_lowercase())
        .when(prefixed & digits.str.contains(HEX))
        .then(digits.str.to_lowercase().str.pad_start(hex_length, "0"))
        .when((text.str.len_chars() == base64_length)
              & (decoded.str.len_chars() == hex_length)).then(decoded)
        .otherwise(text)
    ).alias(column)
