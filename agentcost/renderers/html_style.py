"""The HTML pages' inline CSS (light, dark and print) and their one inline script: sorting the
task table by a heading, and unpacking the embedded CSV for download. No network."""

from __future__ import annotations

# Series colours, in the order series are drawn (readable on white and on the dark background).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948",
           "#9c755f")
GREY = "#8c959f"

STYLE = """
:root{--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--faint:#eaeef2;--head:#f6f8fa;
--bar:#4e79a7;--flag:#b42318;--flagbg:#fdecea;--warn:#9a6700;--grid:#d8dee4;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#30363d;--faint:#21262d;--head:#161b22;--bar:#6e9bd1;--flag:#ff7b72;--flagbg:#3b1d1d;
--warn:#d29922;--grid:#30363d}}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:16px;
color:var(--fg);background:var(--bg)}
.wrap{max-width:1120px;margin:0 auto}
header{border-bottom:1px solid var(--line);margin-bottom:12px;padding-bottom:8px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:16px;margin:26px 0 8px}
h3{font-size:14px;margin:14px 0 6px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0;
color:var(--muted);font-size:13px}dl.meta dt{font-weight:600}dl.meta dd{margin:0;
overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 10px;color:var(--muted)}
.card b{display:block;font-size:18px;color:var(--fg);font-variant-numeric:tabular-nums}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 24px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--faint);text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}th{background:var(--head)}
td{overflow-wrap:anywhere}
table.sortable th{cursor:pointer}
tr.flag td{color:var(--flag);background:var(--flagbg)}td.mark{font-weight:600}
.warn h2,h2.warn{color:var(--warn)}
.scroll{overflow-x:auto}.note{color:var(--muted);font-size:12px;margin:4px 0}
ul{margin:4px 0;padding-left:20px}
figure{margin:0}figcaption{color:var(--muted);font-size:12px;margin-top:2px}
.chart{overflow-x:auto}.chart svg{display:block;width:100%;min-width:600px;height:auto}
svg text{fill:var(--muted);font:11px system-ui,sans-serif}
svg .axis{stroke:var(--line)}svg .gridline{stroke:var(--grid);stroke-dasharray:2 3}
svg .pct{stroke:var(--flag)}svg text.pct{fill:var(--flag);stroke:none}
svg .bar{fill:var(--bar)}svg text.count{fill:var(--fg)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:4px 0;padding:0;
list-style:none}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;
border-radius:2px}
.bars{display:grid;grid-template-columns:minmax(5em,max-content) minmax(60px,1fr) max-content;
gap:3px 8px;align-items:center;font-size:13px}
.bars .label{overflow-wrap:anywhere}.bars svg{width:100%;height:14px;display:block}
.bars .v{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
a.download{display:inline-block;margin:6px 0;padding:4px 10px;border:1px solid var(--line);
border-radius:6px;color:inherit;text-decoration:none}
@media (max-width:600px){body{padding:8px}th,td{padding:3px 4px}h1{font-size:18px}
.cards{grid-template-columns:repeat(auto-fit,minmax(105px,1fr))}.card{padding:4px 8px}
.card b{font-size:15px}}
@media print{body{padding:0;color:#000;background:#fff}.chart{overflow:visible}
.chart svg{min-width:0}a.download,.noprint{display:none}.scroll{overflow:visible}
figure,table,.bars,.cards{break-inside:avoid}h2{break-after:avoid}}
"""

SCRIPT = """
(function(){
  function key(cell){var v=cell.getAttribute('data-v');
    return v===null?cell.textContent:(v===''||isNaN(+v)?v:+v);}
  function sort(table,col,desc){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
      if(x===y)return 0;if(x==='')return 1;if(y==='')return -1;
      if(x<y)return desc?1:-1;return desc?-1:1;});
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
  var link=document.getElementById('csv-download'),packed=document.getElementById('csv-data');
  if(link&&packed){link.addEventListener('click',function(ev){
    if(link.getAttribute('href')!=='#')return;ev.preventDefault();
    if(typeof DecompressionStream==='undefined'){link.textContent=
      'this browser cannot unpack the CSV: use agentcost report -f csv';return;}
    var bytes=Uint8Array.from(atob(packed.textContent.trim()),function(c){
      return c.charCodeAt(0);});
    var stream=new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    new Response(stream).blob().then(function(blob){
      link.href=URL.createObjectURL(new Blob([blob],{type:'text/csv'}));link.click();});});}
})();
"""
