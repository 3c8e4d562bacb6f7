/**
 * The blotter's page: markup and styles inline, one script (`/blotter/app.js`). Nothing is loaded from elsewhere,
 * so it works without internet access.
 */
export const BLOTTER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orderstream blotter</title>
<style>
  :root { --bg:#0f1419; --panel:#161c23; --line:#26303a; --text:#d7dde3; --dim:#8593a1; --accent:#4ea1ff;
          --live:#3fb950; --term:#8b949e; --bad:#f85149; --warn:#d29922; --row:26px; }
  * { box-sizing: border-box; }
  body { margin:0; font:13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--text);
         height:100vh; display:flex; flex-direction:column; }
  header { display:flex; align-items:center; gap:16px; padding:8px 14px; border-bottom:1px solid var(--line); background:var(--panel); }
  header h1 { font-size:15px; margin:0; font-weight:600; }
  #conn { font-size:12px; padding:2px 8px; border-radius:10px; background:#30363d; }
  #conn.live { background:#1f6f3a; } #conn.down { background:#8e1c1c; }
  .counts { display:flex; flex-wrap:wrap; gap:6px; padding:8px 14px 0; }
  .chip { border:1px solid var(--line); border-radius:12px; padding:2px 10px; cursor:pointer; background:var(--panel); color:var(--text); font:inherit; }
  .chip b { font-variant-numeric: tabular-nums; margin-left:4px; }
  .chip.on { border-color:var(--accent); color:var(--accent); }
  .chip.zero { opacity:.45; }
  .filters { display:flex; flex-wrap:wrap; gap:10px; align-items:center; padding:8px 14px; border-bottom:1px solid var(--line); }
  .filters label { color:var(--dim); display:flex; gap:6px; align-items:center; }
  select, input { background:#0b0f14; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:3px 6px; font:inherit; }
  #matched { color:var(--dim); margin-left:auto; font-variant-numeric: tabular-nums; }
  main { flex:1; display:flex; min-height:0; }
  #table { flex:1; display:flex; flex-direction:column; min-width:0; }
  .grid { display:grid; min-width:1240px; grid-template-columns: minmax(190px,2fr) 100px 74px minmax(110px,1fr) 44px 62px 140px 92px 84px 84px 92px 176px 40px; }
  .head { position:sticky; top:0; z-index:1; border-bottom:1px solid var(--line); background:var(--panel); user-select:none; }
  .head div { padding:5px 6px; color:var(--dim); cursor:pointer; white-space:nowrap; }
  .head div.sorted { color:var(--accent); }
  #scroll { flex:1; overflow:auto; position:relative; }
  #spacer { position:relative; min-width:1240px; }
  #rows { position:absolute; left:0; right:0; top:0; }
  .row { height:var(--row); border-bottom:1px solid #1b222a; cursor:pointer; }
  .row:hover { background:#1b2430; } .row.sel { background:#1d3350; }
  .row div { padding:4px 6px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; font-variant-numeric: tabular-nums; }
  .row .num { text-align:right; }
  .row.flash { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background:#3b3415; } to { background:transparent; } }
  .st { font-weight:600; }
  .st-NEW, .st-PENDING_NEW, .st-UNTRIGGERED { color:var(--accent); } .st-PARTIALLY_FILLED { color:var(--warn); }
  .st-FILLED { color:var(--live); } .st-CANCELED, .st-EXPIRED { color:var(--term); } .st-REJECTED, .st-CLOSED_UNKNOWN { color:var(--bad); }
  .st-PENDING_CANCEL { color:#c297ff; }
  .BUY { color:var(--live); } .SELL { color:var(--bad); }
  #detail { width:420px; flex:none; border-left:1px solid var(--line); background:var(--panel); overflow:auto; padding:10px 14px; display:none; }
  #detail.open { display:block; }
  #detail h2 { font-size:14px; margin:4px 0 10px; word-break:break-all; }
  #detail h3 { font-size:12px; color:var(--dim); text-transform:uppercase; letter-spacing:.05em; margin:14px 0 6px; }
  #detail table { border-collapse:collapse; width:100%; font-size:12px; }
  #detail td, #detail th { border-bottom:1px solid var(--line); padding:3px 4px; text-align:left; vertical-align:top; }
  #detail td:first-child { color:var(--dim); white-space:nowrap; }
  #detail td { word-break:break-all; }
  #close { float:right; }
  .empty { padding:20px; color:var(--dim); }
  button { background:#21262d; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:3px 10px; cursor:pointer; font:inherit; }
</style>
</head>
<body>
<header>
  <h1>orderstream blotter</h1>
  <span id="conn" data-testid="connection">connecting…</span>
  <span id="total" data-testid="total"></span>
  <span id="note" style="color:var(--dim)"></span>
</header>
<div class="counts" id="status-counts" data-testid="status-counts"></div>
<div class="counts" id="venue-counts" data-testid="venue-counts"></div>
<div class="filters">
  <label>venue <select id="f-venue" data-testid="filter-venue"><option value="">any</option></select></label>
  <label>account <input id="f-account" data-testid="filter-account" size="10" placeholder="any"></label>
  <label>status <select id="f-status" data-testid="filter-status"></select></label>
  <label>symbol <input id="f-symbol" data-testid="filter-symbol" size="12" placeholder="e.g. BTC"></label>
  <button id="f-clear" type="button">clear</button>
  <span id="matched" data-testid="matched"></span>
</div>
<main>
  <section id="table">
    <div id="scroll" data-testid="scroll"><div class="grid head" id="head"></div><div id="spacer"><div id="rows" data-testid="rows"></div></div></div>
  </section>
  <aside id="detail" data-testid="detail"></aside>
</main>
<script type="module" src="/blotter/app.js"></script>
</body>
</html>
`;
