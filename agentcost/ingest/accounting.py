"""Accounting for every input line: read, used, blank, or skipped with a reason and where."""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_KEPT = 5
# The reason given for the last line of a file that ends mid-record, in every format.
TRUNCATED = "truncated line (file ends mid-record)"


@dataclass
class Tally:
    """How often one thing happened, and the first places (file, line) it happened."""

    count: int = 0
    examples: list[tuple[str, int]] = field(default_factory=list)
    # For a repeat (a step read twice, a step number used twice): the earlier line each
    # example repeats, in step with the examples; empty for anything else.
    earlier: list[tuple[str, int]] = field(default_factory=list)

    def add(self, file: str, lines: list[int], count: int | None = None) -> None:
        self.count += len(lines) if count is None else count
        room = EXAMPLES_KEPT - len(self.examples)
        if room > 0:
            self.examples.extend((file, line) for line in lines[:room])

    def add_repeats(self, places: list[tuple[str, int]], earlier: list[tuple[str, int]],
                    count: int) -> None:
        """`count` repeats, the first of them at `places`, repeating the lines `earlier`."""
        self.count += count
        room = EXAMPLES_KEPT - len(self.examples)
        if room > 0:
            self.examples.extend(places[:room])
            self.earlier.extend(earlier[:room])


@dataclass
class LineAccounting:
    """Every line of every input ends up in exactly one of: used, blank, skipped. A native
    step read twice is skipped, its reason saying so, at its second reading."""

    files: list[str] = field(default_factory=list)
    lines_read: int = 0
    lines_used: int = 0
    lines_blank: int = 0
    skipped: dict[str, Tally] = field(default_factory=dict)
    # Things noticed that did not cost a line: unknown fields, cut-off streams, inferred semantics.
    notes: dict[str, Tally] = field(default_factory=dict)

    # Span formats: spans read, spans that became steps, and the rest by reason (structure,
    # usage repeated by a nested span). Lines of those files are accounted above as usual.
    spans_read: int = 0
    spans_used: int = 0
    spans_not_steps: dict[str, Tally] = field(default_factory=dict)
    spans_skipped: dict[str, Tally] = field(default_factory=dict)  # bad or repeated data
    formats: dict[str, int] = field(default_factory=dict)  # format name -> files read
    # format name -> what recognised it, in the first file read as it
    evidence: dict[str, str] = field(default_factory=dict)
    # Skipped lines that only repeat an earlier line, word for word: no data is lost by them.
    lines_repeated: int = 0
    spans_repeated: int = 0  # skipped spans that were exported twice (same trace and span id)

    @property
    def lines_skipped(self) -> int:
        return sum(tally.count for tally in self.skipped.values())

    @property
    def records_lost(self) -> int:
        """Lines and spans skipped for what they hold, not as repeats of an earlier one: data
        the figures leave out."""
        spans_skipped = sum(tally.count for tally in self.spans_skipped.values())
        return self.lines_skipped - self.lines_repeated + spans_skipped - self.spans_repeated

    def skip(self, reason: str, file: str, lines: list[int], count: int | None = None) -> None:
        self.skipped.setdefault(reason, Tally()).add(file, lines, count)

    def note(self, what: str, file: str, lines: list[int], count: int | None = None) -> None:
        self.notes.setdefault(what, Tally()).add(file, lines, count)

    def skip_repeats(self, reason: str, places: list[tuple[str, int]],
                     earlier: list[tuple[str, int]], count: int, *, same: bool = True) -> None:
        """Lines read and understood but not used, because each repeats an earlier line
        (`same`: with the same content, so nothing is lost by leaving them out)."""
        self.skipped.setdefault(reason, Tally()).add_repeats(places, earlier, count)
        if same:
            self.lines_repeated += count

    def note_repeats(self, what: str, places: list[tuple[str, int]],
                     earlier: list[tuple[str, int]], count: int) -> None:
        self.notes.setdefault(what, Tally()).add_repeats(places, earlier, count)

    def not_step(self, reason: str, file: str, records: list[int], count: int | None = None
                 ) -> None:
        self.spans_not_steps.setdefault(reason, Tally()).add(file, records, count)

    def span_skip(self, reason: str, file: str, records: list[int], count: int | None = None
                  ) -> None:
        self.spans_skipped.setdefault(reason, Tally()).add(file, records, count)

    def absorb(self, other: LineAccounting) -> None:
        """The account of lines another process read (of files already listed here), after
        the lines accounted so far."""
        self.lines_read += other.lines_read
        self.lines_used += other.lines_used
        self.lines_blank += other.lines_blank
        self.lines_repeated += other.lines_repeated
        for mine, theirs in ((self.skipped, other.skipped), (self.notes, other.notes)):
            for reason, tally in theirs.items():
                mine.setdefault(reason, Tally()).add_repeats(tally.examples, tally.earlier,
                                                             tally.count)

    def append(self, other: LineAccounting) -> None:
        """The account of the next files, read apart from those accounted so far: as one
        read of them all after these would account them (a file listed already is listed
        once)."""
        listed = set(self.files)
        self.files.extend(name for name in other.files if name not in listed)
        self.absorb(other)
        self.spans_read += other.spans_read
        self.spans_used += other.spans_used
        self.spans_repeated += other.spans_repeated
        for mine, theirs in ((self.spans_not_steps, other.spans_not_steps),
                             (self.spans_skipped, other.spans_skipped)):
            for reason, tally in theirs.items():
                mine.setdefault(reason, Tally()).add_repeats(tally.examples, tally.earlier,
                                                             tally.count)
        for label, count in other.formats.items():
            self.formats[label] = self.formats.get(label, 0) + count
        for label, evidence in other.evidence.items():
            self.evidence.setdefault(label, evidence)

    def balanced(self) -> bool:
        return self.lines_read == self.lines_used + self.lines_blank + self.lines_skipped
