/**
 * The blotter page's script (compiled by `tsc -b` to dist/web/app.js, served at /blotter/app.js).
 *
 * The table is virtual: the scroll area is as tall as every matching row, and only the rows in view (plus a
 * margin) are fetched from /blotter/api/window and drawn. Live changes arrive over Server-Sent Events
 * (/blotter/events) in batches: rows on screen are updated in place at once; when a change may move rows in or
 * out of the window (a new matching order, a sort key that changed), the window is fetched again, at most every
 * REFETCH_MS. Nothing polls the whole table.
 */

export {}; // a module: its names stay out of the page's global scope

interface Row {
  key: string; venue: string; account: string; orderId: string; symbol: string; side: string; type: string; status: string;
  price: string | null; quantity: string | null; filled: string | null; avgPrice: string | null; updatedAt: number; updates: number;
}
interface Counts { total: number; byStatus: Record<string, number>; byVenue: Record<string, number>; liveByVenue: Record<string, number> }
interface WindowAnswer { ready: boolean; matched: number; offset: number; rows: Row[]; counts: Counts }
type Batch = { ready: boolean; counts: Counts } & ({ rows: Row[]; removed: string[] } | { overflow: number });

const STATUSES = ['PENDING_NEW', 'UNTRIGGERED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'CLOSED_UNKNOWN'];
const LIVE = new Set(STATUSES.slice(0, 5));
const ROW_H = 26;
const MARGIN_ROWS = 20;
const REFETCH_MS = 300;

const COLUMNS: { field: keyof Row; title: string; sort?: string; num?: boolean }[] = [
  { field: 'key', title: 'order key', sort: 'key' },
  { field: 'venue', title: 'venue', sort: 'venue' },
  { field: 'account', title: 'account', sort: 'account' },
  { field: 'symbol', title: 'symbol', sort: 'symbol' },
  { field: 'side', title: 'side', sort: 'side' },
  { field: 'type', title: 'type' },
  { field: 'status', title: 'status', sort: 'status' },
  { field: 'price', title: 'price', sort: 'price', num: true },
  { field: 'quantity', title: 'quantity', sort: 'quantity', num: true },
  { field: 'filled', title: 'filled', sort: 'filled', num: true },
  { field: 'avgPrice', title: 'avg price', num: true },
  { field: 'updatedAt', title: 'updated (UTC)', sort: 'updatedAt' },
  { field: 'updates', title: 'upd', num: true },
];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const scroll = $<HTMLDivElement>('scroll');
const spacer = $<HTMLDivElement>('spacer');
const rowsEl = $<HTMLDivElement>('rows');
const detailEl = $<HTMLElement>('detail');
const fVenue = $<HTMLSelectElement>('f-venue');
const fStatus = $<HTMLSelectElement>('f-status');
const fAccount = $<HTMLInputElement>('f-account');
const fSymbol = $<HTMLInputElement>('f-symbol');

const state = {
  sort: 'updatedAt',
  desc: true,
  offset: 0,
  rows: [] as Row[],
  matched: 0,
  selected: undefined as string | undefined,
  fetching: false,
  again: false,
  lastFetch: 0,
  timer: undefined as number | undefined,
};

for (const [value, label] of [['', 'any'], ['live', 'live'], ['terminal', 'terminal'], ...STATUSES.map((s) => [s, s])] as [string, string][]) {
  fStatus.append(new Option(label, value));
}

// URL parameters set the initial filters, so a filtered view can be bookmarked or opened by a test.
const initial = new URLSearchParams(location.search);
fAccount.value = initial.get('account') ?? '';
fSymbol.value = initial.get('symbol') ?? '';
fStatus.value = initial.get('status') ?? '';
const initialVenue = initial.get('venue') ?? '';
if (initialVenue) {
  fVenue.append(new Option(initialVenue, initialVenue));
  fVenue.value = initialVenue;
}

function filters(): URLSearchParams {
  const p = new URLSearchParams();
  if (fVenue.value) p.set('venue', fVenue.value);
  if (fAccount.value.trim()) p.set('account', fAccount.value.trim());
  if (fStatus.value) p.set('status', fStatus.value);
  if (fSymbol.value.trim()) p.set('symbol', fSymbol.value.trim());
  return p;
}

function matchesFilters(r: Row): boolean {
  if (fVenue.value && r.venue !== fVenue.value) return false;
  if (fAccount.value.trim() && r.account !== fAccount.value.trim()) return false;
  const st = fStatus.value;
  if (st === 'live' && !LIVE.has(r.status)) return false;
  if (st === 'terminal' && LIVE.has(r.status)) return false;
  if (st && st !== 'live' && st !== 'terminal' && r.status !== st) return false;
  const sym = fSymbol.value.trim().toLowerCase();
  if (sym && !r.symbol.toLowerCase().includes(sym)) return false;
  return true;
}

function time(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace('T', ' ').slice(0, 23);
}

function cell(r: Row, c: (typeof COLUMNS)[number]): HTMLDivElement {
  const d = document.createElement('div');
  const v = r[c.field];
  d.textContent = c.field === 'updatedAt' ? time(r.updatedAt) : v === null ? '–' : String(v);
  if (c.num) d.className = 'num';
  if (c.field === 'status') d.className = `st st-${r.status}`;
  if (c.field === 'side') d.className = r.side;
  if (c.field === 'key') d.title = r.key;
  return d;
}

function rowElement(r: Row, flash: boolean): HTMLDivElement {
  const el = document.createElement('div');
  el.className = `grid row${r.key === state.selected ? ' sel' : ''}${flash ? ' flash' : ''}`;
  el.dataset.key = r.key;
  el.dataset.status = r.status;
  el.dataset.venue = r.venue;
  for (const c of COLUMNS) el.append(cell(r, c));
  el.addEventListener('click', () => void openDetail(r.key));
  return el;
}

function drawHead(): void {
  const head = $<HTMLDivElement>('head');
  head.replaceChildren(
    ...COLUMNS.map((c) => {
      const d = document.createElement('div');
      const sorted = c.sort === state.sort;
      d.textContent = c.title + (sorted ? (state.desc ? ' ▼' : ' ▲') : '');
      if (sorted) d.className = 'sorted';
      if (c.sort) {
        d.dataset.sort = c.sort;
        d.addEventListener('click', () => {
          if (state.sort === c.sort) state.desc = !state.desc;
          else {
            state.sort = c.sort as string;
            state.desc = c.sort === 'updatedAt';
          }
          drawHead();
          void refetch(true);
        });
      } else d.style.cursor = 'default';
      return d;
    }),
  );
}

function drawRows(flashKeys: Set<string> = new Set()): void {
  spacer.style.height = `${state.matched * ROW_H}px`;
  rowsEl.style.top = `${state.offset * ROW_H}px`;
  rowsEl.replaceChildren(...state.rows.map((r) => rowElement(r, flashKeys.has(r.key))));
  $('matched').textContent = `${state.matched.toLocaleString('en')} matching · rows ${state.rows.length ? state.offset + 1 : 0}–${state.offset + state.rows.length}`;
  if (state.matched === 0) rowsEl.innerHTML = '<div class="empty">No orders match.</div>';
}

function drawCounts(counts: Counts, ready: boolean): void {
  $('total').textContent = `${counts.total.toLocaleString('en')} orders`;
  $('note').textContent = ready ? '' : 'restoring the store from orders.state.v1…';
  const statusBox = $('status-counts');
  const live = STATUSES.filter((s) => LIVE.has(s)).reduce((n, s) => n + (counts.byStatus[s] ?? 0), 0);
  const chips: HTMLButtonElement[] = [];
  const chip = (label: string, n: number, on: boolean, onClick: () => void, id: string) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `chip${on ? ' on' : ''}${n === 0 ? ' zero' : ''}`;
    b.dataset.count = id;
    b.innerHTML = `${label}<b>${n.toLocaleString('en')}</b>`;
    b.addEventListener('click', onClick);
    chips.push(b);
  };
  const toggleStatus = (v: string) => () => {
    fStatus.value = fStatus.value === v ? '' : v;
    void refetch(true);
  };
  chip('live', live, fStatus.value === 'live', toggleStatus('live'), 'status:live');
  for (const s of STATUSES) chip(s, counts.byStatus[s] ?? 0, fStatus.value === s, toggleStatus(s), `status:${s}`);
  statusBox.replaceChildren(...chips);
  chips.length = 0;
  for (const [venue, n] of Object.entries(counts.byVenue)) {
    chip(`${venue} · live ${(counts.liveByVenue[venue] ?? 0).toLocaleString('en')} / all`, n, fVenue.value === venue, () => {
      fVenue.value = fVenue.value === venue ? '' : venue;
      void refetch(true);
    }, `venue:${venue}`);
  }
  $('venue-counts').replaceChildren(...chips);
  // the venue filter offers every venue that has orders (and keeps the one chosen)
  const have = new Set([...fVenue.options].map((o) => o.value));
  for (const v of Object.keys(counts.byVenue)) if (!have.has(v)) fVenue.append(new Option(v, v));
}

/** Fetches the window around the scroll position; `reset` scrolls back to the top (new filters or sort). */
async function refetch(reset = false, flashKeys?: Set<string>): Promise<void> {
  if (reset) {
    scroll.scrollTop = 0;
    const u = new URL(location.href);
    u.search = filters().toString();
    history.replaceState(null, '', u);
  }
  if (state.fetching) {
    state.again = true;
    return;
  }
  state.fetching = true;
  try {
    const visible = Math.ceil(scroll.clientHeight / ROW_H) + 1;
    const first = Math.max(0, Math.floor(scroll.scrollTop / ROW_H) - MARGIN_ROWS);
    const p = filters();
    p.set('sort', state.sort);
    p.set('dir', state.desc ? 'desc' : 'asc');
    p.set('offset', String(first));
    p.set('limit', String(Math.min(500, visible + 2 * MARGIN_ROWS)));
    const res = await fetch(`/blotter/api/window?${p}`);
    if (!res.ok) throw new Error(`window: HTTP ${res.status}`);
    const w = (await res.json()) as WindowAnswer;
    state.rows = w.rows;
    state.offset = w.offset;
    state.matched = w.matched;
    state.lastFetch = Date.now();
    drawRows(flashKeys);
    drawCounts(w.counts, w.ready);
  } catch (error) {
    $('note').textContent = String(error);
  } finally {
    state.fetching = false;
    if (state.again) {
      state.again = false;
      void refetch();
    }
  }
}

/** A refetch soon, at most one per REFETCH_MS, however many changes ask for it. */
function refetchSoon(flashKeys: Set<string>): void {
  if (state.timer !== undefined) return;
  const wait = Math.max(0, REFETCH_MS - (Date.now() - state.lastFetch));
  state.timer = window.setTimeout(() => {
    state.timer = undefined;
    void refetch(false, flashKeys);
  }, wait);
}

function onBatch(b: Batch): void {
  drawCounts(b.counts, b.ready);
  if ('overflow' in b) return refetchSoon(new Set());
  const onScreen = new Map(state.rows.map((r, i) => [r.key, i]));
  let moved = b.removed.some((k) => onScreen.has(k));
  const flash = new Set<string>();
  for (const r of b.rows) {
    const i = onScreen.get(r.key);
    const match = matchesFilters(r);
    if (i !== undefined) {
      const before = state.rows[i] as Row;
      if (!match || before[state.sort as keyof Row] !== r[state.sort as keyof Row]) moved = true;
      state.rows[i] = r;
      flash.add(r.key);
    } else if (match) moved = true; // a new or newly matching order: where it goes depends on the sort
  }
  if (flash.size > 0) {
    for (const el of rowsEl.querySelectorAll<HTMLDivElement>('.row')) {
      const i = onScreen.get(el.dataset.key ?? '');
      if (i === undefined || !flash.has(el.dataset.key ?? '')) continue;
      el.replaceWith(rowElement(state.rows[i] as Row, true));
    }
  }
  if (moved) refetchSoon(flash);
  if (state.selected && b.rows.some((r) => r.key === state.selected)) void openDetail(state.selected, false);
}

function td(text: string): HTMLTableCellElement {
  const c = document.createElement('td');
  c.textContent = text;
  return c;
}

function fieldTable(obj: Record<string, unknown>): HTMLTableElement {
  const t = document.createElement('table');
  for (const [k, v] of Object.entries(obj)) {
    const tr = document.createElement('tr');
    const shown = v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    tr.append(td(k), td(/At$/.test(k) && typeof v === 'number' ? `${shown} (${time(v)})` : shown));
    tr.dataset.field = k;
    t.append(tr);
  }
  return t;
}

async function openDetail(key: string, scrollTop = true): Promise<void> {
  state.selected = key;
  for (const el of rowsEl.querySelectorAll<HTMLDivElement>('.row')) el.classList.toggle('sel', el.dataset.key === key);
  const res = await fetch(`/blotter/api/order/${encodeURIComponent(key)}`);
  if (state.selected !== key) return;
  detailEl.classList.add('open');
  if (!res.ok) {
    detailEl.textContent = `${key}: HTTP ${res.status}`;
    return;
  }
  const d = (await res.json()) as { state: { order: Record<string, unknown> } & Record<string, unknown>; history: Record<string, unknown>[] };
  const close = document.createElement('button');
  close.id = 'close';
  close.textContent = 'close';
  close.addEventListener('click', () => {
    state.selected = undefined;
    detailEl.classList.remove('open');
    drawRows();
  });
  const h2 = document.createElement('h2');
  h2.textContent = key;
  const h3a = document.createElement('h3');
  h3a.textContent = 'canonical order (every field)';
  const { order, ...rest } = d.state;
  const h3b = document.createElement('h3');
  h3b.textContent = 'state';
  const h3c = document.createElement('h3');
  h3c.textContent = `history: ${d.history.length} state change(s) folded from orders.canonical.v1 by this instance`;
  const hist = document.createElement('table');
  hist.dataset.testid = 'history';
  const head = document.createElement('tr');
  for (const h of ['state updated', 'status', 'venue status', 'filled', 'avg price', 'source']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  hist.append(head);
  for (const e of d.history) {
    const tr = document.createElement('tr');
    tr.append(
      td(time(e.stateUpdatedAt as number)), td(String(e.status)), td(String(e.venueStatus)), td(String(e.filledQuantity ?? '–')),
      td(String(e.averagePrice ?? '–')), td(String(e.source)),
    );
    hist.append(tr);
  }
  detailEl.replaceChildren(close, h2, h3a, fieldTable(order), h3b, fieldTable(rest), h3c, hist);
  if (scrollTop) detailEl.scrollTop = 0;
}

function connect(): void {
  const conn = $('conn');
  const es = new EventSource('/blotter/events');
  es.addEventListener('open', () => {
    conn.textContent = 'live';
    conn.className = 'live';
  });
  es.addEventListener('error', () => {
    conn.textContent = 'reconnecting…';
    conn.className = 'down';
  });
  es.addEventListener('hello', (e) => {
    const h = JSON.parse((e as MessageEvent<string>).data) as { ready: boolean; counts: Counts };
    conn.textContent = 'live';
    conn.className = 'live';
    drawCounts(h.counts, h.ready);
    void refetch(); // anything missed while disconnected
  });
  es.addEventListener('changes', (e) => onBatch(JSON.parse((e as MessageEvent<string>).data) as Batch));
}

let scrollTimer: number | undefined;
scroll.addEventListener('scroll', () => {
  // fetch when the view leaves the rows we hold (plus a short debounce while scrolling fast)
  const first = Math.floor(scroll.scrollTop / ROW_H);
  const last = first + Math.ceil(scroll.clientHeight / ROW_H);
  if (first >= state.offset && last <= state.offset + state.rows.length) return;
  clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(() => void refetch(), 60);
});
for (const el of [fVenue, fStatus]) el.addEventListener('change', () => void refetch(true));
let typing: number | undefined;
for (const el of [fAccount, fSymbol]) {
  el.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => void refetch(true), 250);
  });
}
$('f-clear').addEventListener('click', () => {
  fVenue.value = '';
  fStatus.value = '';
  fAccount.value = '';
  fSymbol.value = '';
  void refetch(true);
});
window.addEventListener('resize', () => void refetch());

drawHead();
connect();
