"""Configuration files (price tables, scenario files) read as YAML into Nodes with line
numbers, bounded: a hostile or broken file is refused at once, in the memory of its text, with
the line at fault.

Built from the parser's events rather than from PyYAML's objects, so that nothing is expanded
before it is counted: an alias (`*name`) is its anchor's value itself, shared, and the values
the aliases of a file repeat are counted as they come; past MAX_REPEATED (a "billion laughs")
the file is refused. A merge key (`<<: *name`, or a list of them) adds the entries of the
mappings it names that the mapping does not write itself. Refused, each with its line: a file
over MAX_BYTES, nesting deeper than MAX_DEPTH, a tag other than YAML's plain types
(`!!python/...`, `!!binary`), a value its tag cannot read (`!!int "abc"`, a date such as
2026-02-30), an alias inside the value it names or before its anchor, an anchor or a key given
twice, a key that is not text, a second document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentcost.pricing.yaml_nodes import Node, YamlError, shown

# 10 x LiteLLM's whole database as a price table (3,700 models, 0.8 MB).
MAX_BYTES = 8 * 1024 * 1024
MAX_REPEATED = 100_000
MAX_DEPTH = 64

# libyaml's parser when PyYAML was built with it: it parses in C.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CORE = "tag:yaml.org,2002:"
STR = CORE + "str"
MERGE = CORE + "merge"
TIMESTAMP = CORE + "timestamp"
SCALAR_TAGS = frozenset(CORE + name for name in ("str", "int", "float", "bool", "null",
                                                 "timestamp"))
COLLECTION_TAGS = {yaml.SequenceStartEvent: CORE + "seq", yaml.MappingStartEvent: CORE + "map"}
# PyYAML's rules for what a plain scalar is (int, float, bool, null, date...), by first
# character, as its own loader applies them.
_IMPLICIT: dict[str | None, list[tuple[str, Any]]] = (
    yaml.resolver.Resolver.yaml_implicit_resolvers)
_ANY_FIRST = tuple(_IMPLICIT.get(None, ()))
_RULES = {first: (*rules, *_ANY_FIRST) for first, rules in _IMPLICIT.items()
          if first is not None}
_CONSTRUCTORS = yaml.constructor.SafeConstructor.yaml_constructors
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# What a tag's constructor raises for a value it cannot read (`!!int "abc"`, `!!bool maybe`).
_UNREADABLE = (ValueError, KeyError, IndexError, AttributeError)


class TooLarge(ValueError):
    """A file over MAX_BYTES."""


def read_text(path: Path) -> str:
    """A configuration file's text, never read past MAX_BYTES (a device or a pipe that does not
    end included). OSError and UnicodeDecodeError are the caller's to word."""
    with path.open("rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge(f"is over {MAX_BYTES // 1024 ** 2} MiB, the most a configuration file "
                       "may be")
    return data.decode("utf-8")


def load(text: str) -> Node:
    """The one YAML document in `text`; an empty one is an empty mapping."""
    builder = _Builder()
    try:
        parser = FAST_LOADER(text)  # PyYAML's own reader checks the characters here
        try:
            event = parser.get_event()
            while not isinstance(event, yaml.StreamEndEvent):
                builder.take(event)
                event = parser.get_event()
        finally:
            parser.dispose()
    except yaml.reader.ReaderError as error:  # a character YAML refuses
        raise YamlError(_line_of(text, error.position), f"not valid YAML: {error.reason} "
                                                        f"({chr(error.character)!r})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise YamlError(line, f"not valid YAML: {problem}") from None
    return builder.root or Node({}, 1)


@dataclass
class _Open:
    """A list or a mapping being read."""

    line: int
    anchor: str | None
    items: list[Node] | None = None  # a list's
    entries: dict[str, Node] | None = None  # a mapping's
    key: str | None = None  # the key read, waiting for its value
    key_line: int = 0
    merges: list[Node] = field(default_factory=list)  # the values of `<<`
    merge_line: int = 0  # where `<<` is, if it is
    merging: bool = False  # the key read is `<<`
    size: int = 1  # the values it holds once its aliases are expanded, itself included


@dataclass
class _Builder:
    root: Node | None = None
    open: list[_Open] = field(default_factory=list)
    anchors: dict[str, tuple[Node, int]] = field(default_factory=dict)  # node, size
    anchor_lines: dict[str, int] = field(default_factory=dict)
    repeated: int = 0  # the values aliases repeat
    documents: int = 0
    # Each scalar is read once: plain ones by their text, tagged ones by tag and text.
    plain: dict[str, Any] = field(default_factory=dict)
    scalars: dict[tuple[str, str], Any] = field(default_factory=dict)

    def take(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        top = self.open[-1] if self.open else None
        wants_key = top is not None and top.entries is not None and top.key is None
        if isinstance(event, yaml.ScalarEvent):
            if wants_key:
                assert top is not None
                self._key(top, event, line)
            else:
                node = Node(self._scalar(event, line), line)
                self._anchor(event.anchor, line)
                self._done(node, 1, event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            if wants_key:
                raise YamlError(line, f"a key must be written out, not the alias "
                                      f"*{event.anchor}")
            node, size = self._alias(str(event.anchor), line)
            self._add(node, size)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if wants_key:
                raise YamlError(line, "a key must be text, not a list or a mapping")
            if event.tag not in (None, "!", COLLECTION_TAGS[type(event)]):
                raise YamlError(line, f"the tag {_shown_tag(event.tag)} is not taken here: "
                                      "write plain YAML values")
            if len(self.open) >= MAX_DEPTH:
                raise YamlError(line, f"nested deeper than {MAX_DEPTH} levels")
            self._anchor(event.anchor, line)
            frame = _Open(line, event.anchor)
            if isinstance(event, yaml.SequenceStartEvent):
                frame.items = []
            else:
                frame.entries = {}
            self.open.append(frame)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            frame = self.open.pop()
            value = frame.items if frame.items is not None else _merged(frame)
            self._done(Node(value, frame.line), frame.size, frame.anchor)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlError(line, "a second YAML document (after ---): the file must "
                                      "hold one")

    def _key(self, frame: _Open, event: yaml.ScalarEvent, line: int) -> None:
        """A mapping's key: its text as written (`1.50`, `yes`, `null` are names too)."""
        if event.tag not in (None, "!", MERGE) and event.tag not in SCALAR_TAGS:
            raise YamlError(line, f"the tag {_shown_tag(event.tag)} is not taken here: write "
                                  "plain YAML values")
        name = event.value
        if event.tag == MERGE or (event.tag is None and event.implicit[0] and name == "<<"):
            if frame.merge_line:
                raise YamlError(line, f"'<<' is listed twice (first on line "
                                      f"{frame.merge_line})")
            frame.merge_line, frame.key, frame.merging = line, name, True
            return
        assert frame.entries is not None
        if name in frame.entries:
            raise YamlError(line, f"{name!r} is listed twice (first on line "
                                  f"{frame.entries[name].line})")
        frame.key, frame.key_line = name, line
        self._anchor(event.anchor, line)
        if event.anchor is not None:
            self.anchors[event.anchor] = (Node(name, line), 1)

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:  # quoted
                return value
            known = self.plain.get(value, _UNREAD)
            if known is not _UNREAD:
                return known
            tag = _plain_tag(value)
            if tag in (STR, MERGE):
                self.plain[value] = value
                return value
        if tag in (STR, "!", MERGE):
            return value
        if tag not in SCALAR_TAGS:
            raise YamlError(line, f"the tag {_shown_tag(tag)} is not taken here: write plain "
                                  "YAML values")
        known = self.scalars.get((tag, value), _UNREAD)
        if known is not _UNREAD:
            return known
        try:
            read = _CONSTRUCTORS[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))
        except _UNREADABLE as error:
            if tag == TIMESTAMP:  # why, for a date that looks like one (2026-02-30)
                why = f" ({error})" if isinstance(error, ValueError) else ""
                raise YamlError(line, f"{shown(value)} is not a date{why}") from None
            raise YamlError(line, f"{shown(value)} is not a valid {_shown_tag(tag)}") from None
        if event.tag is None:
            self.plain[value] = read
        else:
            self.scalars[tag, value] = read
        return read

    def _alias(self, name: str, line: int) -> tuple[Node, int]:
        if any(frame.anchor == name for frame in self.open):
            raise YamlError(line, f"the alias *{name} is inside the value it names (&{name} "
                                  f"on line {self.anchor_lines[name]}): it would never end")
        if name not in self.anchors:
            raise YamlError(line, f"the alias *{name} names no anchor &{name} before it")
        node, size = self.anchors[name]
        self.repeated += size
        if self.repeated > MAX_REPEATED:
            raise YamlError(line, f"the aliases up to this *{name} repeat more than "
                                  f"{MAX_REPEATED:,} values: a file that expands this much is "
                                  "refused")
        return node, size

    def _anchor(self, name: str | None, line: int) -> None:
        if name is None:
            return
        if name in self.anchor_lines:
            raise YamlError(line, f"the anchor &{name} is given twice (first on line "
                                  f"{self.anchor_lines[name]})")
        self.anchor_lines[name] = line

    def _done(self, node: Node, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        self._add(node, size)

    def _add(self, node: Node, size: int) -> None:
        if not self.open:
            self.root = node
            return
        frame = self.open[-1]
        frame.size += size
        if frame.items is not None:
            frame.items.append(node)
            return
        assert frame.entries is not None and frame.key is not None
        if frame.merging:
            frame.merges.append(node)
            frame.merging = False
        else:
            # An entry's line is its key's line: where a person looks for it.
            frame.entries[frame.key] = Node(node.value, frame.key_line)
            frame.size += 1
        frame.key = None


_UNREAD = object()


def _line_of(text: str, position: int) -> int:
    """The line of a reader error's position: libyaml counts bytes of UTF-8, PyYAML's own
    reader characters."""
    if FAST_LOADER is yaml.SafeLoader:
        return text.count("\n", 0, position) + 1
    return text.encode("utf-8", "replace")[:position].count(b"\n") + 1


def _plain_tag(value: str) -> str:
    for tag, pattern in _RULES.get(value[:1], _ANY_FIRST):
        if pattern.match(value):
            return str(tag)
    return STR


def _merged(frame: _Open) -> dict[str, Node]:
    """A mapping's entries, with those of the mappings its `<<` names that it does not give
    itself (the first named wins, as YAML merges)."""
    assert frame.entries is not None
    entries = frame.entries
    for merge in frame.merges:
        sources = merge.value if isinstance(merge.value, list) else [merge]
        for source in sources:
            if not isinstance(source.value, dict):
                raise YamlError(frame.merge_line, "'<<' merges a mapping, or a list of "
                                                  "mappings (like `<<: *defaults`)")
            for name, entry in source.value.items():
                entries.setdefault(name, entry)
    return entries


def _shown_tag(tag: str | None) -> str:
    """YAML's own types as `!!int`; any other tag quoted, as the file's text it is."""
    if tag in SCALAR_TAGS or tag in COLLECTION_TAGS.values():
        return "!!" + str(tag).removeprefix(CORE)
    return repr("!!" + tag.removeprefix(CORE) if tag and tag.startswith(CORE) else tag)
