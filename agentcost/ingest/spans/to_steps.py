"""Spans to canonical steps, counting each logical model call once, as polars expressions.

Rules:
1. The same span exported twice (same trace id and span id) is read once.
2. When a span and one of its descendants both carry usage, only the deepest counts: wrappers
   such as ADK `call_llm` or pydantic-ai `agent run` repeat their children's usage.
3. Agent spans are structure; usage on them is an aggregate and is never added.
4. LLM, embedding and tool spans become steps; every other span is structure, counted apart.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field

import polars as pl

from agentcost.ingest.spans import conventions as c
from agentcost.schema import canonical_expressions, conform

NOT_STEP_REPEATED = "usage repeated by a nested span (counted once, at the deepest)"
CYCLE_BROKEN = ("parent cycle broken (spans each other's ancestor): the first seen taken as "
                "a root")
NOT_STEP_AGENT = "agent span (structure; its usage is an aggregate of its calls)"
NOT_STEP_STRUCTURE = "structure span (chain, workflow, request...)"
SKIP_DUPLICATE = "duplicate span (same trace and span id)"
SKIP_NO_IDS = "span without a trace id or span id"
SKIP_BAD_USAGE = "token count not a whole number of zero or more"
EXAMPLES = 5
MAX_DEPTH = 256  # deeper nesting than this is a cycle in bad data
HASH_SEED = 20261128
# Canonical columns a span step always carries, whichever columns a command asked for.
ALWAYS_FILLED = frozenset({
    "task_id", "start_time", "duration_s", "kind", "model", "service_tier", "input_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
    "reasoning_tokens", "tokens_estimated", "tool_name", "reported_cost_usd", "source_file",
    "source_line",
})
TOKEN_BUCKETS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "output_tokens")


@dataclass
class Outcome:
    count: int
    # The first places, as (span sequence number, source line), in input order.
    first: list[tuple[int, int]]


@dataclass
class SpanSteps:
    steps: pl.DataFrame
    not_steps: dict[str, Outcome] = field(default_factory=dict)
    skipped: dict[str, Outcome] = field(default_factory=dict)
    # Spans taken as roots to break a cycle of parents, which would otherwise hide each
    # other's usage.
    cycles_broken: dict[str, Outcome] = field(default_factory=dict)


def _tally(frame: pl.DataFrame, reason_column: str) -> dict[str, Outcome]:
    if frame.is_empty():
        return {}
    grouped = frame.sort("sequence").group_by(reason_column, maintain_order=True).agg(
        pl.len(), pl.col("sequence").head(EXAMPLES), pl.col("source_line").head(EXAMPLES))
    return {reason: Outcome(n, list(zip(sequences, lines, strict=True)))
            for reason, n, sequences, lines in grouped.iter_rows()}


def _below_usage(spans: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """For each span: does some descendant carry usage? And the rows of the spans taken as
    roots to break a cycle of parents. Each span's parent is found once, as a row number (one
    join); then, from the parents of the usage-carrying spans, one generation is marked per
    step until no parent is left. `spans` hold each span key once, in input order. A span
    named as its own parent (an exporter's bug) is taken as a root, not as its own child."""
    own_parent = pl.col("parent_key") == pl.col("span_key")
    rows = spans.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), "span_key",
                        pl.when(~own_parent).then(pl.col("parent_key")).alias("parent_key"))
    parents = rows.select(pl.col("span_key").alias("parent_key"), pl.col("row").alias("parent"))
    parent = rows.join(parents, on="parent_key", how="left", maintain_order="left")["parent"]
    broken = _cycle_breakers(parent)
    if not broken.is_empty():
        parent = parent.scatter(broken, None)
    marked = pl.repeat(False, spans.height, dtype=pl.Boolean, eager=True)
    frontier = parent.filter(spans["carries"]).drop_nulls().unique()
    for _ in range(MAX_DEPTH):
        if frontier.is_empty():
            break
        fresh = frontier.filter(~marked.gather(frontier))
        marked = marked.scatter(fresh, True)
        frontier = parent.gather(fresh).drop_nulls().unique()
    return marked, broken


def _cycle_breakers(parent: pl.Series) -> pl.Series:
    """The rows to take as roots so that no span is its own ancestor: in each cycle of parents
    (bad data: two spans each the other's parent), the one seen first. Found by doubling: after
    2**k steps up, a span still with an ancestor is in a cycle or below one, and that ancestor
    is in the cycle (with more steps than spans, no chain without a cycle is that long)."""
    doublings = max(1, parent.len().bit_length())  # 2**doublings steps: past any chain
    ancestor = parent
    for _ in range(doublings):
        ancestor = _up(ancestor, ancestor)
    in_cycles = ancestor.drop_nulls().unique()
    if in_cycles.is_empty():
        return pl.Series("row", [], dtype=pl.UInt32)
    # The first-seen row of each cycle: the least row met going up from each of its spans.
    least = pl.int_range(parent.len(), dtype=pl.UInt32, eager=True)
    ancestor = parent
    for _ in range(doublings):
        least = pl.select(pl.min_horizontal(least, _up(least, ancestor))).to_series()
        ancestor = _up(ancestor, ancestor)
    return in_cycles.filter(least.gather(in_cycles) == in_cycles).sort()


def _up(values: pl.Series, ancestor: pl.Series) -> pl.Series:
    """`values` of each row's ancestor, null where there is none."""
    gathered = values.gather(ancestor.fill_null(0)) if len(values) else values
    return pl.select(pl.when(ancestor.is_not_null()).then(gathered)).to_series()


def _has_duplicates(keys: pl.Series) -> bool:
    present = keys.drop_nulls()
    return bool(present.n_unique() < present.len())


def _span_key(span_column: str) -> pl.Expr:
    """A span's identity, (trace id, span id), as one 64-bit hash: the nesting and duplicate
    rules only compare identities, and one number joins faster and takes a fraction of the
    memory of the text. Null when the span id is."""
    identity = pl.struct(pl.col("trace_id").alias("trace"), pl.col(span_column).alias("span"))
    return pl.when(pl.col(span_column).is_not_null()).then(identity.hash(seed=HASH_SEED))


def task_expr(present: Collection[str], task_key: str, fallback: str) -> pl.Expr:
    if task_key == "session":
        chosen = c.first(present, c.SESSION)
    elif task_key.startswith("attribute."):
        chosen = c.first(present, (task_key.removeprefix("attribute."),))
    elif task_key.startswith("resource."):
        chosen = c.first(present, (task_key,))
    else:
        chosen = pl.lit(None, pl.String())
    return pl.coalesce(chosen, pl.col("trace_id"), pl.lit(fallback))


@dataclass
class Classified:
    """One batch of spans, classified. `links` keeps every span's ids (the nesting rule needs
    them all); `candidates` keeps canonical columns only for spans that may be steps."""

    links: pl.DataFrame
    candidates: pl.DataFrame

    def offset(self, first_sequence: int, line_shift: int = 0) -> Classified:
        """The same batch numbered from `first_sequence` (batches classified apart), its
        source lines moved by `line_shift` (chunks numbered from 1 each)."""
        shifts = [pl.col("sequence").cast(pl.Int64) + first_sequence]
        if line_shift:
            shifts.append(pl.col("source_line") + line_shift)
        return Classified(self.links.with_columns(shifts),
                          self.candidates.with_columns(shifts))


def classify(spans: pl.DataFrame, *, source_file: str, task_key: str = "trace",
             ids_required: bool = True, first_sequence: int = 0,
             columns: frozenset[str] | None = None) -> Classified:
    """Kind, usage and canonical columns of a batch of spans (a file, or one chunk of a big
    file). `ids_required`: a span without ids is bad data (false only for an attribute map,
    which holds one span and no ids by nature). `first_sequence` numbers spans across batches
    so that "first seen" means first in the file. `columns`: the canonical columns to fill
    (the rest are left out, to be null); all when None."""
    present = frozenset(spans.columns)
    plan = _plan(present, source_file, task_key, ids_required, columns)
    # Token numbers, then counts, are materialised once: eager selects do not share
    # sub-expressions, and the counts, the check for unreadable ones and every bucket below
    # read them.
    typed = spans.with_row_index("sequence", offset=first_sequence)
    for stage in plan.typing:
        typed = typed.with_columns(stage)
    links = typed.select(plan.links)
    candidates = typed.filter(plan.candidate)
    canonical = candidates.select(plan.canonical)
    canonical = _estimate_missing_usage(canonical, candidates, present)
    canonical = _unwrap_openllmetry_arguments(canonical, candidates, present)
    # Task ids (32 hex digits per row) as categories until the batches are joined: a tenth of
    # the memory while every batch of a big file is held (the reader gives text back).
    return Classified(links, canonical.with_columns(pl.col("task_id").cast(pl.Categorical),
                                                    candidates["sequence"]))


@dataclass(frozen=True)
class _Plan:
    typing: list[list[pl.Expr]]  # with_columns stages, each reading the ones before
    links: list[pl.Expr]
    candidate: pl.Expr
    canonical: list[pl.Expr]


@functools.lru_cache(maxsize=16)
def _plan(present: frozenset[str], source_file: str, task_key: str, ids_required: bool,
          columns: frozenset[str] | None) -> _Plan:
    """classify's expressions, built once per set of span columns: a big file's chunks all
    share one, and building them costs as much as running them on a chunk."""
    recorded = {name: f"_recorded_{name}" for name in TOKEN_BUCKETS}
    prompt, cache_read, cache_write, output = (pl.col(recorded[name]) for name in TOKEN_BUCKETS)
    has_usage = prompt.is_not_null() | output.is_not_null()
    typing = [
        [
            *(expr.alias(recorded[name]) for name, expr in c.usage_numbers(present).items()),
            c.step_kind(present).alias("kind"),
            ((pl.col("trace_id").is_null() | pl.col("span_id").is_null()) & ids_required)
            .alias("missing_ids"),
        ],
        [
            c.recorded_count(prompt).alias(recorded["input_tokens"]),
            c.recorded_count(cache_read).fill_null(0).alias(recorded["cache_read_tokens"]),
            c.recorded_count(cache_write).fill_null(0).alias(recorded["cache_write_5m_tokens"]),
            c.recorded_count(output).alias(recorded["output_tokens"]),
            c.unreadable_usage([prompt, cache_read, cache_write, output]).alias("bad_usage"),
        ],
        [
            c.uncached_input(prompt, cache_read, cache_write).alias(recorded["input_tokens"]),
            (pl.col("kind").is_in(["llm", "embedding", "tool"]) & has_usage).alias("carries"),
            (pl.col("kind").is_in(["llm", "embedding"]) & has_usage).alias("counted"),
        ],
    ]
    links = [
        pl.col("sequence"), _span_key("span_id").alias("span_key"),
        _span_key("parent_span_id").alias("parent_key"),
        pl.col("kind").cast(pl.Categorical), *map(pl.col, ("carries", "missing_ids",
                                                          "bad_usage", "source_line")),
    ]
    candidate = (pl.col("kind").is_in(["llm", "embedding", "tool"])
                 & ~pl.col("missing_ids") & ~pl.col("bad_usage"))
    is_call = pl.col("kind").is_in(["llm", "embedding"])

    def bucket(expr: pl.Expr) -> pl.Expr:
        # An LLM span without usage has unknown tokens (null); a tool span has none at all.
        return pl.when(pl.col("counted")).then(expr.fill_null(0)).cast(pl.Int64)

    start = pl.col("start_ns")
    canonical = [
        task_expr(present, task_key, source_file).alias("task_id"),
        pl.col("span_id"),
        pl.col("parent_span_id"),
        (start // 1000).cast(pl.Datetime("us", "UTC")).alias("start_time"),
        ((pl.col("end_ns") - start).clip(lower_bound=0) / 1e9).alias("duration_s"),
        pl.col("kind"),
        pl.col("name"),
        pl.when(is_call).then(c.first(present, c.MODEL)).alias("model"),
        pl.when(is_call).then(c.first(present, c.PROVIDER)).alias("provider"),
        pl.when(is_call).then(c.first(present, c.SERVICE_TIER)).alias("service_tier"),
        *(bucket(pl.col(recorded[name])).alias(name) for name in TOKEN_BUCKETS),
        bucket(pl.lit(0)).alias("cache_write_1h_tokens"),
        bucket(pl.lit(0)).alias("reasoning_tokens"),
        pl.lit(False).alias("tokens_estimated"),
        pl.when(pl.col("kind") == "tool").then(c.tool_name(present)).alias("tool_name"),
        pl.when(pl.col("kind") == "tool").then(c.tool_arguments(present)).alias("tool_args"),
        pl.when(is_call).then(c.reported_cost(present)).alias("reported_cost_usd"),
        c.first(present, c.USER).alias("user"),
        c.agent_name(present).alias("workflow"),
        c.first(present, c.SESSION).alias("session_id"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_line"),
    ]
    if columns is not None:
        canonical = [expr for expr in canonical
                     if expr.meta.output_name() in columns
                     or expr.meta.output_name() in ALWAYS_FILLED]
    # In canonical order and dtypes here, rather than by schema.conform after, once per chunk.
    canonical = canonical_expressions({expr.meta.output_name(): expr for expr in canonical},
                                      only_present=True)
    return _Plan(typing, links, candidate, canonical)


def resolve(batches: list[Classified]) -> SpanSteps:
    """Apply the once-only rules over all batches of a run (every file: a trace may straddle
    them) and keep the steps. Batches are numbered through (`sequence`), in input order."""
    if not batches:
        return SpanSteps(conform(pl.DataFrame()))
    links = pl.concat([batch.links for batch in batches], rechunk=False)
    # No duplicate at all is the usual case, and five times cheaper to tell than which is first.
    first_seen = (pl.col("span_key").is_null() | pl.col("span_key").is_first_distinct()
                  if _has_duplicates(links["span_key"]) else pl.lit(True))
    why = (
        pl.when(pl.col("missing_ids")).then(pl.lit(SKIP_NO_IDS))
        .when(~first_seen).then(pl.lit(SKIP_DUPLICATE))
        .when(pl.col("bad_usage")).then(pl.lit(SKIP_BAD_USAGE))
    )
    links = links.with_columns(why.alias("why"))
    result = SpanSteps(conform(pl.DataFrame()))
    result.skipped = _tally(links.filter(pl.col("why").is_not_null()), "why")
    unique = links.filter(pl.col("why").is_null()).drop("why")
    below_usage, broken = _below_usage(unique)
    unique = unique.with_columns(below_usage.alias("below_usage"))
    if not broken.is_empty():
        result.cycles_broken = _tally(unique[broken].with_columns(
            pl.lit(CYCLE_BROKEN).alias("cycle")), "cycle")
    role = (
        pl.when(pl.col("kind").is_in(["llm", "embedding"]) & pl.col("below_usage"))
        .then(pl.lit(NOT_STEP_REPEATED))
        .when(pl.col("kind") == "agent").then(pl.lit(NOT_STEP_AGENT))
        .when((pl.col("kind") == "other") & pl.col("below_usage")).then(pl.lit(NOT_STEP_REPEATED))
        .when(pl.col("kind") == "other").then(pl.lit(NOT_STEP_STRUCTURE))
    )
    unique = unique.with_columns(role.alias("not_step"))
    result.not_steps = _tally(unique.filter(pl.col("not_step").is_not_null()), "not_step")
    # Spans are numbered 0, 1, 2... across batches: whether a span is a step is a lookup.
    is_step = pl.repeat(False, links.height, dtype=pl.Boolean, eager=True).scatter(
        unique.filter(pl.col("not_step").is_null())["sequence"], True)
    del links, unique
    # Batch by batch, each dropped once filtered: never all candidates and all steps at once.
    steps = []
    while batches:
        candidates = batches.pop(0).candidates
        steps.append(candidates.filter(is_step.gather(candidates["sequence"])).drop("sequence"))
    result.steps = pl.concat(steps, how="vertical_relaxed")
    return result


def _unwrap_openllmetry_arguments(canonical: pl.DataFrame, spans: pl.DataFrame,
                                  present: Collection[str]) -> pl.DataFrame:
    """The arguments of OpenLLMetry's tool spans (they carry `traceloop.span.kind`) taken out
    of its wrappers, once per distinct value. `spans`: the rows of `canonical`, with all their
    columns."""
    if "traceloop.span.kind" not in present or "tool_args" not in canonical.columns:
        return canonical
    rows = (spans["traceloop.span.kind"].is_not_null()
            & canonical["tool_args"].is_not_null()).arg_true()
    if rows.is_empty():
        return canonical
    wrapped = canonical["tool_args"].gather(rows)
    unwrapped = {text: c.unwrap_openllmetry(text) for text in wrapped.unique().to_list()}
    return canonical.with_columns(canonical["tool_args"].scatter(
        rows, wrapped.replace_strict(unwrapped, return_dtype=pl.String)))


def _estimate_missing_usage(canonical: pl.DataFrame, spans: pl.DataFrame,
                            present: Collection[str]) -> pl.DataFrame:
    """LLM steps without usage but with message content get estimated token counts. `spans`:
    the rows of `canonical`, with all their columns."""
    content = [key for key in c.CONTENT if key in present]
    if not content:
        return canonical
    from agentcost.ingest.spans.estimate import INPUT_CONTENT, OUTPUT_CONTENT, count_tokens

    texts = spans.select(
        c.first(present, INPUT_CONTENT).alias("input_text"),
        c.first(present, OUTPUT_CONTENT).alias("output_text"),
    )
    needs = (
        (canonical["kind"] == "llm") & canonical["input_tokens"].is_null()
        & canonical["output_tokens"].is_null()
        & (texts["input_text"].is_not_null() | texts["output_text"].is_not_null())
    )
    if not needs.any():
        return canonical
    rows = needs.arg_true()
    estimated_in = [count_tokens(t) for t in texts["input_text"].gather(rows).to_list()]
    estimated_out = [count_tokens(t) for t in texts["output_text"].gather(rows).to_list()]
    zeros = pl.Series([0] * rows.len(), dtype=pl.Int64)
    return canonical.with_columns(
        canonical["input_tokens"].scatter(rows, pl.Series(estimated_in, dtype=pl.Int64)
                                          .fill_null(0)),
        canonical["output_tokens"].scatter(rows, pl.Series(estimated_out, dtype=pl.Int64)
                                           .fill_null(0)),
        *(canonical[name].scatter(rows, zeros) for name in (
            "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
            "reasoning_tokens")),
        canonical["tokens_estimated"].scatter(rows, True),
    )
