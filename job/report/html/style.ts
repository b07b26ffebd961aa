// The status page's only styling: inline CSS (the page references no stylesheet, font or image).

export const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--size:#0969da;--dur:#8250df}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
h1{margin:0;font-size:30px;line-height:1.2}h2{font-size:19px;margin:28px 0 10px}h3{font-size:15px;margin:0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(175,184,193,.25);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
.banner{border-radius:10px;padding:18px 22px;color:#fff;display:flex;gap:18px;align-items:center}
.banner.ok{background:var(--ok)}.banner.bad{background:var(--bad)}.banner.warn{background:#bf8700}
.banner .icon{font-size:40px;line-height:1;font-weight:700;width:52px;height:52px;border-radius:50%;background:rgba(255,255,255,.2);display:flex;align-items:center;justify-content:center;flex:none}
.banner p{margin:4px 0 0;font-size:14px;opacity:.92}.banner p.why{font-size:17px;font-weight:600;opacity:1}
.meta{color:var(--muted);margin:6px 2px 0;font-size:12.5px}
.warnings{list-style:none;margin:14px 0 0;padding:0}
.warnings li{background:#fff;border:1px solid var(--line);border-left:6px solid var(--warn);border-radius:6px;padding:9px 12px;margin:6px 0;font-size:14.5px}
.warnings li.critical{border-left-color:var(--bad)}.warnings li b{margin-right:6px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:16px}
.tile{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.tile .k{color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}.tile .v{font-size:22px;font-weight:600;margin-top:2px}
.tile .s{color:var(--muted);font-size:12.5px}.tile.bad{border-top:4px solid var(--bad)}.tile.ok{border-top:4px solid var(--ok)}.tile.warn{border-top:4px solid var(--warn)}
.type{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:12px 0}
.type header{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:baseline;margin-bottom:6px}
.type header .f{color:var(--muted)}.type header .f b{color:var(--ink)}
.pill{font-size:12px;font-weight:600;border-radius:10px;padding:1px 8px;color:#fff}.pill.ok{background:var(--ok)}.pill.bad{background:var(--bad)}.pill.none{background:var(--muted)}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:14px}.charts figure{margin:0}.charts figcaption{font-size:12.5px;color:var(--muted)}
svg{width:100%;height:auto;display:block;font-family:inherit}
svg .grid{stroke:#eaeef2}svg .axis,svg .tick{stroke:#8c959f}svg .ylab{font-size:11px;fill:var(--muted);text-anchor:end}svg .xlab{font-size:11px;fill:var(--muted)}
svg .band{fill-opacity:.18;stroke:none}svg .median{fill:none;stroke-width:2;stroke-linejoin:round}svg .whisker{stroke-width:2;stroke-opacity:.5;fill:none}
svg .vlab{font-size:11.5px;font-weight:600;fill:var(--ink);paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}svg .fail{fill:var(--bad)}svg .hit{fill:transparent}svg .hit:hover{fill:rgba(9,105,218,.08)}
svg .stale{fill:rgba(207,34,46,.09)}svg .lane{font-size:12px;fill:var(--ink);text-anchor:end}svg .density{fill:#afb8c1}
svg .vp path{fill:#fff;stroke:var(--ok);stroke-width:2}svg .vp.protected path{fill:var(--ok)}svg .vp text{font-size:10px;fill:var(--ok)}
svg .pitr{fill:var(--size);fill-opacity:.35}svg .none{font-size:12px;fill:var(--muted);font-style:italic}svg .now{stroke:var(--ink);stroke-dasharray:3 3}
.legend{color:var(--muted);font-size:12.5px;margin:4px 0 0}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}th{background:#f6f8fa;font-size:12.5px;color:var(--muted)}
td.num{text-align:right;white-space:nowrap}td.good{color:var(--ok);font-weight:600}td.bad{color:var(--bad);font-weight:600}
.tag{font-size:12px;background:#ddf4ff;color:#0550ae;border-radius:10px;padding:0 7px}
ul.summary{margin:0;padding-left:20px}.muted{color:var(--muted)}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:14px}
@media (max-width:800px){.tiles{grid-template-columns:1fr 1fr}.charts,.cols{grid-template-columns:1fr}}
`;
