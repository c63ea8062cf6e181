"""The parts of OTLP/JSON TracesData the reader looks at, as typed structs.

msgspec decodes a line straight into these, skipping every field not named here (events,
links, status, ...) without building it. Ids are text; other scalars are typed `Any`, as
producers write counts as text and times as numbers: polars converts each column leniently
later. A line of another shape (an id that is not text, a value that is not an object, an
attribute without a key) is decoded by orjson instead and read into the same structs, or
refused with what is wrong: either way, only the attributes that will be read must be well
formed. Decoded JSON holds no cycles: `gc=False` keeps the structs out of the garbage
collector's way.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import orjson

from agentcost.ingest.spans.values import id_text

_ABSENT = msgspec.Raw()


class AnyValue(msgspec.Struct, gc=False):
    """An attribute's value: a scalar, or a map or array, left undecoded (`structured_json`
    decodes the few a convention reads whole)."""

    stringValue: Any = None  # field names as OTLP spells them
    intValue: Any = None
    doubleValue: Any = None
    boolValue: Any = None
    kvlistValue: msgspec.Raw = _ABSENT
    arrayValue: msgspec.Raw = _ABSENT


class KeyValue(msgspec.Struct, gc=False):
    key: str  # text, so that it can be looked up (a lenient reading keeps only wanted keys)
    value: AnyValue


class OtlpSpan(msgspec.Struct, gc=False):
    # Ids are text by the spec. One written otherwise (a number) fails here and is read
    # leniently, through the same `id_text` as every other reader's.
    traceId: str | None = None
    spanId: str | None = None
    parentSpanId: str | None = None
    name: Any = None
    startTimeUnixNano: Any = None
    endTimeUnixNano: Any = None
    attributes: list[KeyValue] | None = None


class ScopeSpans(msgspec.Struct, gc=False):
    spans: list[OtlpSpan] | None = None


class Resource(msgspec.Struct, gc=False):
    attributes: list[KeyValue] | None = None


class ResourceSpans(msgspec.Struct, gc=False):
    resource: Resource | None = None
    scopeSpans: list[ScopeSpans] | None = None
    instrumentationLibrarySpans: list[ScopeSpans] | None = None  # the legacy name


class TracesData(msgspec.Struct, gc=False):
    resourceSpans: list[ResourceSpans] | None = None
    batches: list[ResourceSpans] | None = None  # Grafana Tempo's name


_DECODER = msgspec.json.Decoder(TracesData)


def decode_traces(raw: bytes, keys: frozenset[str]) -> TracesData:
    """One TracesData line. Raises orjson.JSONDecodeError for text that is not JSON, and
    TypeError, AttributeError or KeyError (with what is wrong) for JSON of another shape.
    `keys`: the attribute keys that will be read (resource ones as `resource.NAME`); only
    their values must be well formed."""
    try:
        traces = _DECODER.decode(raw)
    # Not JSON or another shape (msgspec's errors), text that is not UTF-8 (UnicodeDecodeError,
    # also a ValueError), nesting deeper than msgspec goes: orjson and the lenient reading decide.
    except (ValueError, RecursionError):
        return lenient_traces(orjson.loads(raw), keys)
    if traces.resourceSpans is None and traces.batches is None:
        # Perhaps one TracesData under an API's wrapper key (Tempo v2, Jaeger v3).
        from agentcost.ingest.readers.otlp import unwrapped

        inner = unwrapped(orjson.loads(raw))
        if inner is not None:
            return lenient_traces(inner, keys)
    return traces


def lenient_traces(document: Any, keys: frozenset[str]) -> TracesData:
    """A decoded document as TracesData, values taken with whatever types they have (polars
    converts each column leniently later); attributes not in `keys` are left out."""
    if not isinstance(document, dict):
        raise TypeError("not a JSON object")
    batches = document.get("resourceSpans") or document.get("batches") or ()
    resource_keys = frozenset(key for key in keys if key.startswith("resource."))
    return TracesData(resourceSpans=[_resource_spans(item, keys, resource_keys)
                                     for item in batches])


def _resource_spans(resource_spans: dict[str, Any], keys: frozenset[str],
                    resource_keys: frozenset[str]) -> ResourceSpans:
    scopes = (resource_spans.get("scopeSpans")
              or resource_spans.get("instrumentationLibrarySpans") or ())
    return ResourceSpans(
        resource=_resource(resource_spans, resource_keys),
        scopeSpans=[ScopeSpans([_span(span, keys) for span in scope.get("spans") or ()])
                    for scope in scopes])


def _resource(resource_spans: dict[str, Any], keys: frozenset[str]) -> Resource | None:
    """Resource attributes are looked at only when some are read; a value that is not an
    object holds nothing."""
    if not keys:
        return None
    attributes = (resource_spans.get("resource") or {}).get("attributes") or ()
    found = [KeyValue(item.get("key"), _value(item.get("value"))) for item in attributes
             if f"resource.{item.get('key')}" in keys]
    return Resource(found)


def _span(span: dict[str, Any], keys: frozenset[str]) -> OtlpSpan:
    get = span.get
    found = [KeyValue(item["key"], _value(item["value"], strict=True))
             for item in get("attributes") or () if item["key"] in keys]
    return OtlpSpan(id_text(get("traceId"), 32), id_text(get("spanId"), 16),
                    id_text(get("parentSpanId"), 16), get("name"),
                    get("startTimeUnixNano"), get("endTimeUnixNano"), found)


def _value(value: Any, *, strict: bool = False) -> AnyValue:
    """An AnyValue; `strict`: one that is not an object is an error (else it holds nothing)."""
    if not isinstance(value, dict):
        if strict:
            raise TypeError(f"an attribute value is {type(value).__name__}, not an object")
        return AnyValue()
    return AnyValue(value.get("stringValue"), value.get("intValue"), value.get("doubleValue"),
                    value.get("boolValue"), _raw(value.get("kvlistValue")),
                    _raw(value.get("arrayValue")))


def _raw(value: Any) -> msgspec.Raw:
    return _ABSENT if value is None else msgspec.Raw(orjson.dumps(value))


def structured_json(value: AnyValue) -> str | None:
    """A map or array value as the JSON text it stands for (OTel GenAI records tool arguments
    so where it can); None for a scalar, or for one that is not well formed."""
    kind = "kvlistValue" if value.kvlistValue else "arrayValue" if value.arrayValue else None
    if kind is None:
        return None
    try:
        plain = _plain({kind: orjson.loads(bytes(getattr(value, kind)))})
        return json.dumps(plain, ensure_ascii=False)
    except (orjson.JSONDecodeError, TypeError, AttributeError, KeyError, ValueError,
            RecursionError):
        return None


def _plain(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue as a plain JSON value: a kvlist as an object, an array as a list,
    an int64 (text in OTLP/JSON) as a number."""
    if "kvlistValue" in value:  # proto3 JSON leaves an empty list of values out
        items = value["kvlistValue"].get("values") or ()
        return {item["key"]: _plain(item.get("value") or {}) for item in items}
    if "arrayValue" in value:
        return [_plain(item) for item in value["arrayValue"].get("values") or ()]
    if "intValue" in value:
        return int(value["intValue"])
    for name in ("stringValue", "doubleValue", "boolValue", "bytesValue"):
        if name in value:
            return value[name]
    return None
