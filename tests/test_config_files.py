"""Hostile and broken configuration files (price tables, scenario files): refused at once, in
little memory, with one `file:line` line and exit 1, never a traceback."""

from __future__ import annotations

import tracemalloc

import pytest

from agentcost.errors import PriceTableError
from agentcost.pricing.table import load_price_table
from agentcost.pricing.yaml_load import MAX_BYTES, load
from agentcost.pricing.yaml_nodes import YamlError


def bomb(indent: str = "") -> str:
    """Nine anchors, each a list of nine aliases of the one before: 9^9 (387 million) values
    once expanded, in 400 bytes."""
    first = ", ".join(['"x"'] * 9)
    lines = [f"{indent}a: &a [{first}]"]
    for before, name in zip("abcdefgh", "bcdefghi", strict=True):
        aliases = ", ".join([f"*{before}"] * 9)
        lines.append(f"{indent}{name}: &{name} [{aliases}]")
    return "\n".join(lines) + "\n"


MODEL = "version: 1\nmodels:\n  m:\n    input: 1\n    output: 2\n"


def test_an_alias_bomb_is_refused_before_anything_is_expanded():
    tracemalloc.start()
    try:
        with pytest.raises(YamlError) as raised:
            load(bomb())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # b repeats a 9 times (9 x 10 values), c repeats b (9 x 91), d: 9 x 820, e: 9 x 7,381,
    # f: 9 x 66,430 = 597,870, past 100,000 at its first alias: 66,430 + the 74,412 before.
    assert raised.value.line == 6
    assert str(raised.value) == ("the aliases up to this *e repeat more than 100,000 values: a "
                                 "file that expands this much is refused")
    assert peak < 2_000_000  # the text and the values written, never the expansion


@pytest.mark.parametrize("where", ["prices", "scenario"])
def test_an_alias_bomb_is_one_line_and_exit_1_from_the_command(run_cli, write_jsonl, tmp_path,
                                                               where):
    steps = write_jsonl([{"task_id": "a", "model": "gpt-4o", "input_tokens": 10}])
    if where == "prices":  # under a key the table refuses: refused before it is looked at
        path = tmp_path / "prices.yaml"
        path.write_text(MODEL + "notes:\n" + bomb("  "))
        result = run_cli("simulate", str(steps), "--budget", "1", "--prices", str(path))
        line = 6 + 6  # the bomb's sixth line, f: its first *e passes the bound
    else:
        path = tmp_path / "scenarios.yaml"
        path.write_text("scenarios:\n  s:\n    budget: 1\n    x:\n" + bomb("      "))
        result = run_cli("simulate", str(steps), "--scenario", str(path))
        line = 4 + 6
    assert result.exit_code == 1
    assert result.stderr == (f"agentcost: error: {path}:{line}: the aliases up to this *e "
                             "repeat more than 100,000 values: a file that expands this much "
                             "is refused\n")


@pytest.mark.parametrize(("text", "line", "message"), [
    # Impossible dates, a likely typo
    (MODEL + "    as_of: 2026-02-30\n", 6,
     "'2026-02-30' is not a date (day is out of range for month)"),
    (MODEL + "    since: 2026-13-01\n", 6, "'2026-13-01' is not a date (month must be in 1..12)"),
    # Tags beyond YAML's plain types, never run or read
    ("version: 1\nmodels:\n  m:\n    input: !!python/object/apply:os.system [echo]\n", 4,
     "the tag '!!python/object/apply:os.system' is not taken here: write plain YAML values"),
    ("version: 1\nmodels:\n  m:\n    input: !!python/name:os.system\n", 4,
     "the tag '!!python/name:os.system' is not taken here: write plain YAML values"),
    ("version: 1\nmodels: !!python/object:os.system {}\n", 2,
     "the tag '!!python/object:os.system' is not taken here: write plain YAML values"),
    ("version: 1\nmodels:\n  m:\n    input: !!binary aGVsbG8=\n", 4,
     "the tag '!!binary' is not taken here: write plain YAML values"),
    # A value its tag cannot read
    ("version: 1\nmodels:\n  m:\n    input: !!int \"abc\"\n", 4, "'abc' is not a valid !!int"),
    # Numbers no price can be: 330 digits, not a float at all
    ("version: 1\nmodels:\n  m:\n    input: " + "9" * 330 + "\n    output: 1\n", 4,
     "input must be a number from 0 to 1,000,000,000, got "
     + "9" * 35 + "... (330 characters)"),
    (MODEL.replace("input: 1", "input: .nan"), 4,
     "input must be a number from 0 to 1,000,000,000, got nan"),
    (MODEL + "    long_context: {above: 1e26, input: 2, output: 4}\n", 6,
     "above must be a whole number of tokens from 1 to 1,000,000,000, got '1e26'"),
    (MODEL + "    long_context: {above: 100000000000000000000000000, input: 2, output: 4}\n", 6,
     "above must be a whole number of tokens from 1 to 1,000,000,000, got "
     "100000000000000000000000000"),
    # Aliases that cannot be
    ("version: 1\nmodels: &m\n  m:\n    input: *m\n", 4,
     "the alias *m is inside the value it names (&m on line 2): it would never end"),
    ("version: 1\nmodels:\n  m:\n    input: *price\n", 4,
     "the alias *price names no anchor &price before it"),
    ("version: 1\nmodels:\n  m: &m {input: 1, output: 2}\n  n: &m {input: 1, output: 2}\n", 4,
     "the anchor &m is given twice (first on line 3)"),
    (MODEL + "    <<: 2\n", 6,
     "'<<' merges a mapping, or a list of mappings (like `<<: *defaults`)"),
    # What a price table never needs
    ("version: 1\nmodels:\n  ? [a, b]\n  : {input: 1, output: 2}\n", 3,
     "a key must be text, not a list or a mapping"),
    ("version: 1\nx: " + "[" * 70 + "]" * 70 + "\n", 2, "nested deeper than 64 levels"),
    (MODEL + "---\n" + MODEL, 6, "a second YAML document (after ---): the file must hold one"),
    (MODEL + "    provider: [a, b]\n", 6, "provider must be text, got a list"),
    (MODEL + "    notes: \"bell\x07\"\n", 6,
     "not valid YAML: control characters are not allowed ('\\x07')"),
    (MODEL + "    input: 3\n", 6, "'input' is listed twice (first on line 4)"),
])
def test_bad_values_name_file_and_line(write_prices, text, line, message):
    path = write_prices(text)
    with pytest.raises(PriceTableError) as raised:
        load_price_table(path)
    assert str(raised.value) == f"{path}:{line}: {message}"


def test_a_bad_value_is_one_line_and_exit_1_from_every_command(run_cli, write_jsonl,
                                                                write_prices):
    prices = str(write_prices(MODEL + "    as_of: 2026-02-30\n"))
    steps = str(write_jsonl([{"task_id": "a", "model": "m", "input_tokens": 10}]))
    expected = (f"agentcost: error: {prices}:6: '2026-02-30' is not a date (day is out of range "
                "for month)\n")
    for command in (("report", steps), ("simulate", steps, "--budget", "1"),
                    ("check", steps, "--max-total", "1"), ("pricing", "list"),
                    ("pricing", "show", "m"), ("pricing", "which", "m"),
                    ("pricing", "check", steps)):
        result = run_cli(*command, "--prices", prices)
        assert (result.exit_code, result.stderr) == (1, expected), command


def test_a_file_over_the_size_limit_is_refused_unread(run_cli, write_jsonl, tmp_path):
    # Comments only: parsed, it would be a table without models, another message.
    big = tmp_path / "big.yaml"
    big.write_text(("#" * 99 + "\n") * (MAX_BYTES // 100 + 1))
    steps = str(write_jsonl([{"task_id": "a", "model": "gpt-4o", "input_tokens": 10}]))
    listed = run_cli("pricing", "list", "--prices", str(big))
    assert (listed.exit_code, listed.stderr) == (1, (
        f"agentcost: error: {big}: the price table is over 8 MiB, the most a configuration "
        "file may be (LiteLLM's whole database is under 1 MiB as one): is it the right "
        "file?\n"))
    simulated = run_cli("simulate", steps, "--scenario", str(big))
    assert (simulated.exit_code, simulated.stderr) == (1, (
        f"agentcost: error: {big}: the scenario file is over 8 MiB, the most a configuration "
        "file may be\n"))


def test_aliases_and_merge_keys_within_bounds_share_prices(write_prices):
    table = load_price_table(write_prices(
        "version: 1\n"
        "models:\n"
        "  gpt-4o: &gpt4o {input: 2.5, output: 10, cache_read: 1.25}\n"
        "  gpt-4o-2024-08-06: *gpt4o\n"
        "  gpt-4o-batch-like:\n"
        "    <<: *gpt4o\n"          # every price of gpt-4o...
        "    output: 5\n"           # ...but this one: what the entry writes wins
        "  merged-twice:\n"
        "    <<: [{input: 7, output: 8}, *gpt4o]\n"  # the first that gives a key wins
    ))
    assert table.models["gpt-4o-2024-08-06"].current == table.models["gpt-4o"].current
    assert table.models["gpt-4o-2024-08-06"].line == 4
    merged = table.models["gpt-4o-batch-like"].current
    assert (merged.input, merged.output, merged.cache_read) == (2.5, 5.0, 1.25)
    twice = table.models["merged-twice"].current
    assert (twice.input, twice.output, twice.cache_read) == (7.0, 8.0, 1.25)


def test_names_are_kept_as_written(write_prices):
    # YAML 1.1 would read these keys as True, 1.5 and None: they are names.
    table = load_price_table(write_prices(
        "version: 1\nmodels:\n  yes: {input: 1, output: 1}\n  1.50: {input: 1, output: 1}\n"
        "  null: {input: 1, output: 1}\n"))
    assert list(table.models) == ["yes", "1.50", "null"]


def test_a_table_of_thousands_of_models_loads_whole(write_prices):
    # 5,000 generated models, prices cycling so that each can be checked.
    lines = ["version: 1", "models:"]
    for i in range(5_000):
        lines += [f"  vendor/model-{i:05d}:", f"    input: {1 + i % 7}.25",
                  f"    output: {2 + i % 5}.5", "    provider: vendor"]
    table = load_price_table(write_prices("\n".join(lines) + "\n"))
    assert len(table.models) == 5_000
    last = table.models["vendor/model-04999"]  # 4,999 % 7 = 1, % 5 = 4
    assert (last.input, last.output, last.line) == (2.25, 6.5, 3 + 4 * 4_999)
