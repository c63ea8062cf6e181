"""The report as one self-contained HTML page: inline CSS, an inline SVG histogram, and a few
lines of inline script to sort the task table. No network. Every trace-derived string is
escaped; the data the script sorts is read from the table itself, never from raw text."""

from __future__ import annotations

import html
import math

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers import views
from agentcost.renderers.text import money, plural, safe_text, unpriced_counts

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:16px;
color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}
.wrap{max-width:1100px;margin:0 auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:8px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 10px}
.card b{display:block;font-size:18px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}th{background:#f6f8fa;cursor:default}
table.sortable th{cursor:pointer}tr.flag td{color:#b42318;font-weight:600}
.scroll{overflow-x:auto}.note{color:#57606a;font-size:12px}
ul{margin:4px 0;padding-left:20px}
@media (max-width:600px){body{padding:8px}th,td{padding:3px 4px}}
"""

SCRIPT = """
(function(){
  function key(cell){var v=cell.getAttribute('data-v');
    return v===null?cell.textContent:(isNaN(+v)?v:+v);}
  function sort(table,col,desc){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
      if(x<y)return desc?1:-1;if(x>y)return desc?-1:1;return 0;});
    rows.forEach(function(r){body.appendChild(r);});
    table.setAttribute('data-sorted',table.tHead.rows[0].cells[col].textContent+
      (desc?' desc':' asc'));}
  var tables=document.querySelectorAll('table.sortable');
  tables.forEach(function(t){
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){
        var desc=th.getAttribute('data-desc')!=='1';th.setAttribute('data-desc',desc?'1':'0');
        sort(t,i,desc);});});});
  var m=location.hash.match(/sort=([a-z_ ]+?)(-desc)?$/);
  if(m&&tables.length){var t=tables[0],cells=t.tHead.rows[0].cells;
    for(var i=0;i<cells.length;i++){if(cells[i].textContent===decodeURIComponent(m[1]))
      {sort(t,i,!!m[2]);}}}
})();
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def render_html(report: Report, tasks: pl.DataFrame) -> str:
    s = report.summary
    unpriced = s.unpriced_steps or s.unpriced_tool_calls
    cards = [
        ("Total", money(s.total_cost_usd) + (" *" if unpriced else "")),
        ("LLM", money(s.llm_cost_usd)),
        ("Tools", money(s.tool_cost_usd)), ("Compute", money(s.compute_cost_usd)),
        ("Tasks", f"{s.tasks:,}"), ("Steps", f"{s.steps:,}"),
    ]
    if report.distribution is not None:
        cards += [(f"P{p}", money(v)) for p, v in report.distribution.percentiles.items()]
    notes = []
    if unpriced:
        notes.append("* Totals exclude the unpriced: "
                     f"{unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)} (see Unpriced).")
    if report.distribution is not None and report.distribution.left_out:
        notes.append(f"Percentiles over the {plural(report.distribution.tasks, 'task')} priced "
                     f"whole; {plural(report.distribution.left_out, 'task')} left out: "
                     "unpriced steps.")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        "<title>agentcost report</title>", f"<style>{STYLE}</style></head><body>",
        "<div class=wrap><h1>agentcost report</h1>",
        "<div class=cards>" + "".join(
            f"<div class=card id='card-{_e(name.lower())}'>{_e(name)}<b>{_e(value)}</b></div>"
            for name, value in cards) + "</div>",
        *(f"<p class=note>{_e(note)}</p>" for note in notes),
    ]
    if report.dashboard is not None and report.dashboard.histogram and report.distribution:
        parts.append("<h2>Cost per task</h2>" + _histogram_svg(report))
    parts.append(_task_table(report, tasks))
    for block in views.report_blocks(report, tasks):
        if isinstance(block, views.Table) and block.title not in ("Tasks",):
            parts.append(_table(block))
        elif isinstance(block, views.Section) and block.title:
            parts.append(f"<h2>{_e(block.title)}</h2><ul>"
                         + "".join(f"<li>{_e(line)}</li>" for line in block.lines) + "</ul>")
    parts.append(f"</div><script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)


def _task_table(report: Report, tasks: pl.DataFrame) -> str:
    threshold = report.distribution.flag_threshold if report.distribution else math.inf
    header = (("task", False), ("steps", True), ("tokens in", True), ("tokens out", True),
              ("LLM", True), ("tools", True), ("total", True))
    rows = []
    for row in tasks.iter_rows(named=True):
        flag = " class=flag" if row["flagged"] else ""
        shown_cost = {
            "llm_cost_usd": views.part_cost(row["llm_cost_usd"], row["unpriced_llm_steps"]),
            "tool_cost_usd": views.part_cost(row["tool_cost_usd"], row["unpriced_tool_calls"]),
            "total_cost_usd": views.task_total(row["total_cost_usd"], row["priced"]),
        }
        cells = []
        for name in ("task_id", "steps", "tokens_in", "tokens_out", "llm_cost_usd",
                     "tool_cost_usd", "total_cost_usd"):
            value = row[name]
            shown = shown_cost.get(name) or (f"{value:,}" if isinstance(value, int)
                                              else safe_text(value))
            numeric = name != "task_id"
            data = f" data-v='{_e(value if value is not None else '')}'" if numeric else ""
            cells.append(f"<td{' class=n' if numeric else ''}{data}>{_e(shown)}</td>")
        rows.append(f"<tr{flag}>" + "".join(cells) + "</tr>")
    heads = "".join(f"<th{' class=n' if n else ''}>{_e(h)}</th>" for h, n in header)
    caption = (f"{tasks.height:,} of {report.tasks.height:,} tasks; click a heading to sort; "
               f"red: above 2 x P50 ({money(threshold)})" if report.distribution else "")
    return (f"<h2>Tasks</h2><div class=scroll><table class=sortable id=tasks><thead><tr>{heads}"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            f"<p class=note>{_e(caption)}</p>")


def _table(table: views.Table) -> str:
    heads = "".join(f"<th{' class=n' if n else ''}>{_e(h)}</th>"
                    for h, n in zip(table.headers, table.numeric, strict=True))
    rows = []
    for index, row in enumerate(table.rows):
        flag = " class=flag" if index < len(table.flagged) and table.flagged[index] else ""
        rows.append(f"<tr{flag}>" + "".join(
            f"<td{' class=n' if n else ''}>{_e(cell)}</td>"
            for cell, n in zip(row, table.numeric, strict=True)) + "</tr>")
    caption = f"<p class=note>{_e(table.caption)}</p>" if table.caption else ""
    return (f"<h2>{_e(table.title)}</h2><div class=scroll><table><thead><tr>{heads}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{caption}")


def _histogram_svg(report: Report) -> str:
    board, d = report.dashboard, report.distribution
    assert board is not None and d is not None
    bins = board.histogram
    width, height, pad = 640, 220, 30
    bar_w = (width - 2 * pad) / len(bins)
    most = max(b.tasks for b in bins) or 1
    shapes = []
    for i, b in enumerate(bins):
        h = (height - 2 * pad) * b.tasks / most
        x = pad + i * bar_w
        shapes.append(f"<rect x='{x + 1:.1f}' y='{height - pad - h:.1f}' width='{bar_w - 2:.1f}' "
                      f"height='{h:.1f}' fill='#4f7cff'><title>{_e(money(b.low))} - "
                      f"{_e(money(b.high))}: {b.tasks} tasks</title></rect>")
        shapes.append(f"<text x='{x + bar_w / 2:.1f}' y='{height - pad + 12}' font-size='9' "
                      f"text-anchor='middle'>{_e(money(b.high))}</text>")
    for p, value in d.percentiles.items():
        index = next((i for i, b in enumerate(bins) if b.low < value <= b.high or
                      (b.low == 0 and value <= b.high)), len(bins) - 1)
        x = pad + (index + 0.5) * bar_w
        shapes.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{pad - 10}' y2='{height - pad}' "
                      f"stroke='#b42318' stroke-dasharray='3 2'/><text x='{x + 3:.1f}' "
                      f"y='{pad - 12 + 10 * (p // 50)}' font-size='10' fill='#b42318'>P{p}</text>")
    return (f"<svg id=histogram viewBox='0 0 {width} {height}' width='100%' role=img "
            f"aria-label='histogram of cost per task'>{''.join(shapes)}</svg>")
