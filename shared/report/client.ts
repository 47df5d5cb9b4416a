/// <reference lib="dom" />
/**
 * Browser side of the report and the console (bundled by `bundle.ts` with esbuild into one inline script). It only
 * draws: the map and the time–distance plot with Observable Plot (`@observablehq/plot`, projections from d3-geo), the
 * tables with plain DOM. Data come from `<script type="application/json" id="quakectl-report">` (the report) or from
 * the console's server-sent events (`/events`).
 *
 * Hooks for tests and readers: every mark carries a class (`sub-<warning class>`, `curve-p`, `curve-s`,
 * `detection-delay`, `blind-zone`, `band`, `cell-…`), and `document.body.dataset.rendered` counts renders.
 */
import * as Plot from '@observablehq/plot';
import type { StatusSnapshot } from '../ops/status/snapshot.ts';
import { statusSections } from '../ops/status/text.ts';
import type { ReportData, WarningClass } from './types.ts';

interface BaseMap {
  type: 'FeatureCollection';
  features: unknown[];
}

interface ReportPayload {
  data: ReportData;
  baseMap: BaseMap;
  blindZone: unknown;
  footprint: unknown;
  /** The S-wave front now (live console only) and its epicentral radius. */
  sFront?: unknown;
  sFrontKm?: number | null;
  /** Epicentral radius the map shows. */
  viewKm: number;
}

export interface ConsoleMessage {
  status: StatusSnapshot | null;
  live: ReportPayload[];
  reports: Array<{ title: string; href: string; at: number }>;
  error?: string;
}

const CLASS_COLOURS: Record<WarningClass, string> = {
  'after-s': '#d62728',
  'under-5s': '#ff7f0e',
  'under-15s': '#e0b000',
  'over-15s': '#2ca02c',
  missing: '#222222',
};

const CLASS_LABELS: Record<WarningClass, string> = {
  'after-s': 'after the S wave',
  'under-5s': '0–5 s warning',
  'under-15s': '5–15 s warning',
  'over-15s': '15 s or more',
  missing: 'not notified',
};

/** USGS ShakeMap's intensity colour scale (MMI I–X). */
const MMI_COLOURS = [
  '#ffffff',
  '#ffffff',
  '#bfccff',
  '#a0e6ff',
  '#80ffff',
  '#7aff93',
  '#ffff00',
  '#ffc800',
  '#ff9100',
  '#ff0000',
  '#c80000',
];
const ROMAN = ['', 'I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X'];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string | null>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

const fmtS = (s: number | null | undefined) => (s == null ? '–' : `${s.toFixed(1)} s`);
const fmtPct = (x: number | null | undefined) => (x == null ? '–' : `${(100 * x).toFixed(1)} %`);
const fmtTime = (ms: number | null | undefined) =>
  ms == null ? '–' : new Date(ms).toISOString().replace('.000Z', 'Z');

function table<T>(
  caption: string,
  cls: string,
  columns: Array<[string, (row: T) => string | number | null | undefined]>,
  rows: T[],
  empty = 'none',
): HTMLElement {
  const t = el('table', { class: cls });
  t.append(el('caption', {}, caption));
  const head = el('tr');
  for (const [h] of columns) head.append(el('th', {}, h));
  t.append(el('thead', {}, head));
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr');
    for (const [, f] of columns) {
      const v = f(r);
      tr.append(el('td', {}, v == null ? '–' : String(v)));
    }
    body.append(tr);
  }
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colspan: String(columns.length) }, empty)));
  t.append(body);
  return t;
}

/** The map: base map, intensity bands, footprint, blind zone, cells or subscribers, epicentre. */
export function renderMap(p: ReportPayload, width = 640): Element {
  const d = p.data;
  const q = d.quake;
  const bands = d.bands.map((b) => ({ type: 'Feature', properties: { mmi: b.mmi }, geometry: b.polygon }));
  const marks: Plot.Markish[] = [
    Plot.geo(p.baseMap, { fill: '#f3f1ea', stroke: '#8a8a8a', strokeWidth: 0.6, className: 'basemap' }),
    Plot.geo(bands, {
      fill: (f: { properties: { mmi: number } }) => MMI_COLOURS[f.properties.mmi] ?? '#fff',
      fillOpacity: 0.35,
      stroke: '#777',
      strokeOpacity: 0.4,
      className: 'band',
      title: (f: { properties: { mmi: number } }) => `predicted MMI ${ROMAN[f.properties.mmi]} and above`,
    }),
    Plot.geo(p.baseMap, { fill: 'none', stroke: '#555', strokeWidth: 0.7, className: 'borders' }),
    // Each band's numeral where its outline crosses north of the epicentre (the ring starts at bearing 0).
    Plot.text(d.bands, {
      x: (b: ReportData['bands'][number]) => b.polygon.coordinates[0][0][0],
      y: (b: ReportData['bands'][number]) => b.polygon.coordinates[0][0][1],
      text: (b: ReportData['bands'][number]) => ROMAN[b.mmi],
      dy: 7,
      fontWeight: 'bold',
      fill: '#444',
      className: 'band-label',
    }),
    Plot.geo(p.footprint ? [p.footprint] : [], { stroke: '#333', strokeDasharray: '6,4', className: 'footprint' }),
  ];
  if (d.cells.length && d.points.length === 0) {
    for (const state of ['pending', 'running', 'failed']) {
      const cells = d.cells.filter((c) => c.cls === null && c.state === state);
      marks.push(
        Plot.geo(
          cells.map((c) => ({ type: 'Polygon', coordinates: [c.ring] })),
          {
            fill: state === 'failed' ? '#d62728' : state === 'running' ? '#1f77b4' : '#cccccc',
            fillOpacity: 0.5,
            stroke: '#555',
            strokeWidth: 0.3,
            className: `cell-${state}`,
          },
        ),
      );
    }
    for (const cls of Object.keys(CLASS_COLOURS) as WarningClass[]) {
      const cells = d.cells.filter((c) => c.cls === cls);
      marks.push(
        Plot.geo(
          cells.map((c) => ({ type: 'Polygon', coordinates: [c.ring] })),
          {
            fill: CLASS_COLOURS[cls],
            fillOpacity: 0.6,
            stroke: '#333',
            strokeWidth: 0.3,
            className: `cell-done cell-${cls}`,
          },
        ),
      );
    }
  }
  for (const cls of Object.keys(CLASS_COLOURS) as WarningClass[]) {
    const pts = d.points.filter((x) => x.cls === cls);
    marks.push(
      Plot.dot(pts, {
        x: 'lon',
        y: 'lat',
        r: 2.2,
        fill: cls === 'missing' ? 'none' : CLASS_COLOURS[cls],
        stroke: cls === 'missing' ? CLASS_COLOURS[cls] : 'none',
        strokeWidth: 1,
        className: `sub-${cls}`,
        title: (x: ReportData['points'][number]) =>
          `${x.id}: ${x.hypocentralKm} km, MMI ${x.mmi}, ${x.warningS === null ? 'not notified' : `warning ${x.warningS} s`}`,
      }),
    );
  }
  marks.push(
    Plot.geo(p.blindZone ? [p.blindZone] : [], {
      stroke: '#d62728',
      strokeWidth: 2,
      fill: '#d62728',
      fillOpacity: 0.08,
      className: 'blind-zone',
      title: () => `blind zone: S wave before the first alert (${d.blindZoneKm} km)`,
    }),
    Plot.geo(p.sFront ? [p.sFront] : [], {
      stroke: '#6a1b9a',
      strokeWidth: 2.5,
      strokeDasharray: '8,4',
      className: 's-front',
      title: () => `S-wave front now (${p.sFrontKm} km from the epicentre)`,
    }),
    Plot.dot([q], { x: 'lon', y: 'lat', symbol: 'star', r: 9, fill: 'black', stroke: 'white', className: 'epicentre' }),
  );
  const domain = circleGeometry(q.lon, q.lat, (p.viewKm * 1.08) / 111.195);
  return Plot.plot({
    width,
    height: width,
    projection: { type: 'azimuthal-equidistant', rotate: [-q.lon, -q.lat], domain, inset: 4 },
    marks,
    className: 'quake-map',
  });
}

/** A small-circle polygon (used only as the projection's extent; the drawn circles come from the server). */
function circleGeometry(lon: number, lat: number, radiusDeg: number) {
  const ring: number[][] = [];
  const φ0 = (lat * Math.PI) / 180;
  const δ = (radiusDeg * Math.PI) / 180;
  for (let i = 0; i <= 72; i++) {
    const θ = (2 * Math.PI * i) / 72; // clockwise: d3-geo's exterior ring
    const φ = Math.asin(Math.sin(φ0) * Math.cos(δ) + Math.cos(φ0) * Math.sin(δ) * Math.cos(θ));
    const λ = Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ0), Math.cos(δ) - Math.sin(φ0) * Math.sin(φ));
    ring.push([lon + (λ * 180) / Math.PI, (φ * 180) / Math.PI]);
  }
  return { type: 'Polygon', coordinates: [ring] };
}

/** Delivery time after origin against hypocentral distance, with the P and S curves and the detection delay. */
export function renderTimeDistance(d: ReportData, width = 640): Element {
  const depth = Math.max(0, d.quake.depthKm);
  const delivered = d.points.filter((p) => p.deliveredS !== null);
  const sampled = d.pointsTotal > d.points.length;
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: '#ccc' }),
    Plot.line(d.curves, { x: 'hypocentralKm', y: 'pS', stroke: '#1f77b4', strokeWidth: 2, className: 'curve-p' }),
    Plot.line(d.curves, { x: 'hypocentralKm', y: 'sS', stroke: '#d62728', strokeWidth: 2, className: 'curve-s' }),
    Plot.text(d.curves.slice(-1), { x: 'hypocentralKm', y: 'pS', text: () => 'P', dx: 8, fill: '#1f77b4' }),
    Plot.text(d.curves.slice(-1), { x: 'hypocentralKm', y: 'sS', text: () => 'S', dx: 8, fill: '#d62728' }),
  ];
  if (d.detectionDelayS !== null) {
    marks.push(
      Plot.ruleY([d.detectionDelayS], { stroke: '#555', strokeDasharray: '5,4', className: 'detection-delay' }),
      Plot.text([d.detectionDelayS], {
        y: (v: number) => v,
        x: d.curves[0]?.hypocentralKm ?? depth,
        text: () => `detection + acceptance ${d.detectionDelayS} s`,
        textAnchor: 'start',
        dy: -7,
        fill: '#555',
      }),
    );
  }
  if (d.blindZoneKm !== null) {
    marks.push(
      Plot.ruleX([Math.hypot(d.blindZoneKm, depth)], {
        stroke: '#d62728',
        strokeDasharray: '2,3',
        className: 'blind-zone',
      }),
    );
  }
  if (d.deliveryTimes === 'unit-done') {
    const done = d.units.filter((u) => u.doneS !== null);
    marks.push(
      Plot.link(done, {
        x1: (u: ReportData['units'][number]) => Math.hypot(u.minKm, depth),
        x2: (u: ReportData['units'][number]) => Math.hypot(u.maxKm, depth),
        y1: 'doneS',
        y2: 'doneS',
        stroke: '#333',
        strokeWidth: 3,
        className: 'units',
        title: (u: ReportData['units'][number]) => `unit ${u.index} (${u.key}) done at ${u.doneS} s`,
      }),
    );
  }
  // Every delivered point of the sample; with a sample, density contours show where the many are.
  marks.push(
    Plot.dot(delivered, {
      x: 'hypocentralKm',
      y: 'deliveredS',
      r: sampled ? 1.2 : 1.6,
      fillOpacity: sampled ? 0.45 : 1,
      fill: (p: ReportData['points'][number]) => CLASS_COLOURS[p.cls],
      className: 'deliveries',
    }),
  );
  if (sampled && delivered.length > 0) {
    marks.push(
      Plot.density(delivered, {
        x: 'hypocentralKm',
        y: 'deliveredS',
        stroke: '#3b3b8f',
        strokeOpacity: 0.6,
        thresholds: 6,
        className: 'deliveries-density',
      }),
    );
  }
  const yMax = Math.max(
    d.lastDeliveryS ?? 0,
    ...d.units.map((u) => u.doneS ?? 0),
    d.curves.at(-1)?.sS ?? 0,
    (d.detectionDelayS ?? 0) + 1,
  );
  return Plot.plot({
    width,
    height: Math.round(width * 0.62),
    marginLeft: 52,
    x: { label: 'hypocentral distance (km) →', grid: true },
    y: { label: '↑ seconds after origin', domain: [0, yMax * 1.05], grid: true },
    marks,
    className: 'time-distance',
  });
}

function legend(): HTMLElement {
  const box = el('div', { class: 'legend' });
  for (const cls of Object.keys(CLASS_COLOURS) as WarningClass[]) {
    const sw = el('span', {
      class: 'swatch',
      style: `background:${cls === 'missing' ? 'transparent' : CLASS_COLOURS[cls]};border-color:${CLASS_COLOURS[cls]}`,
    });
    box.append(el('span', { class: 'legend-item' }, sw, CLASS_LABELS[cls]));
  }
  return box;
}

function summary(d: ReportData): HTMLElement {
  const q = d.quake;
  const t = d.totals;
  const dl = el('dl', { class: 'summary' });
  const add = (k: string, v: string) => dl.append(el('dt', {}, k), el('dd', {}, v));
  add('event', `${d.eventId} (reported by ${d.sources.length ? d.sources.join(', ') : q.source})`);
  if (d.retraction)
    add('retracted', `by ${d.retraction.source} at ${fmtTime(d.retraction.updatedAt)}: ${d.retraction.reason}`);
  add('origin', `${fmtTime(q.originTime)}, ${q.lat.toFixed(3)}°, ${q.lon.toFixed(3)}°, ${q.depthKm} km deep`);
  add('state', `${d.state}${d.revision ? `, revision ${d.revision}` : ''}, strategy ${d.strategy ?? '–'}`);
  add('footprint', `${d.radiusKm ?? '–'} km to MMI ${d.minMmi ?? '–'} (${d.intensityModel})`);
  add(
    'eligible',
    t.eligible === null ? `${t.countedEligible} (counted)` : `${t.eligible} (counted ${t.countedEligible})`,
  );
  add(
    'delivered',
    `${t.delivered}${t.missing !== null ? `, missing ${t.missing}` : ''}, failed ${t.countedFailed}${t.duplicates !== null ? `, duplicates ${t.duplicates}` : ''}`,
  );
  add('before the S wave', t.beforeSShare === null ? '–' : `${fmtPct(t.beforeSShare)} (${t.beforeS} of ${t.eligible})`);
  add(
    'after origin',
    `accepted ${fmtS(d.detectionDelayS)}, first alert ${fmtS(d.firstDeliveryS)}, last ${fmtS(d.lastDeliveryS)}`,
  );
  add('blind zone', d.blindZoneKm === null ? '–' : `${d.blindZoneKm} km (S wave before the first alert)`);
  add(
    'delivery times',
    d.deliveryTimes === 'receiver' ? 'measured at the local receiver' : 'work-unit completion (locks), upper bound',
  );
  return dl;
}

function tables(d: ReportData): HTMLElement {
  const box = el('section', { class: 'tables' });
  box.append(
    table(
      'Per channel',
      'channels',
      [
        ['channel', (r) => r.channel],
        ['eligible', (r) => r.eligible],
        ['delivered', (r) => r.delivered],
        ['missing', (r) => r.missing],
        ['first', (r) => fmtS(r.firstS)],
        ['last', (r) => fmtS(r.lastS)],
        ['before S', (r) => fmtPct(r.beforeSShare)],
      ],
      d.channels,
    ),
    collapsible(
      d.units.length > 30,
      `${d.units.length} work units`,
      table(
        'Per work unit (nearest first)',
        'units',
        [
          ['#', (r) => r.index],
          ['unit', (r) => r.key],
          ['segments', (r) => r.segments],
          ['km', (r) => `${r.minKm}–${r.maxKm}`],
          ['planned', (r) => r.planned],
          ['eligible', (r) => r.eligible],
          ['delivered', (r) => r.delivered],
          ['failed', (r) => r.failed],
          ['state', (r) => r.state],
          ['attempts', (r) => r.attempts],
          ['first', (r) => fmtS(r.firstS)],
          ['last', (r) => fmtS(r.lastS)],
          ['done', (r) => fmtS(r.doneS)],
          ['before S', (r) => fmtPct(r.beforeSShare)],
        ],
        d.units,
      ),
    ),
    table(
      'Versions and sources',
      'versions',
      [
        ['role', (r) => r.role],
        ['updated', (r) => fmtTime(r.updatedAt)],
        ['magnitude', (r) => `${r.magnitude} ${r.magType}`],
        ['hypocentre', (r) => `${r.lat.toFixed(3)}, ${r.lon.toFixed(3)}, ${r.depthKm} km`],
        ['status', (r) => r.status],
        ['source ids', (r) => `${r.source}: ${r.sourceIds.join(', ')}`],
      ],
      d.versions,
    ),
    table(
      'Dead-letter queues (this event)',
      'dlq',
      [
        ['queue', (r) => r.queue],
        ['message', (r) => r.message],
        ['reason', (r) => r.reason],
        ['messages', (r) => r.messages],
        ['notifications', (r) => r.notifications],
        ['first', (r) => fmtTime(r.firstSentAt)],
        ['last', (r) => fmtTime(r.lastSentAt)],
      ],
      d.dlq,
      'nothing in a DLQ for this event',
    ),
    d.cold
      ? table(
          'Execution environments during the event',
          'cold',
          [
            ['function', (r) => r.function],
            ['invocations', (r) => r.invocations],
            ['cold starts', (r) => r.cold],
            ['max init', (r) => (r.maxInitMs === null ? '–' : `${Math.round(r.maxInitMs)} ms`)],
          ],
          d.cold,
        )
      : el('p', { class: 'note' }, 'cold starts: not known (function logs not readable)'),
  );
  return box;
}

function collapsible(collapse: boolean, summaryText: string, content: HTMLElement): HTMLElement {
  if (!collapse) return content;
  return el('details', {}, el('summary', {}, summaryText), content);
}

/** The whole report into `root`. */
export function renderReport(root: HTMLElement, p: ReportPayload): void {
  const d = p.data;
  root.replaceChildren(
    el(
      'header',
      {},
      el('h1', {}, `${d.drill ? 'DRILL ' : ''}M${d.quake.magnitude} ${d.quake.place}`),
      el('p', { class: 'sub' }, `quakectl event report, generated ${fmtTime(d.generatedAt)}`),
    ),
    summary(d),
    el(
      'div',
      { class: 'figures' },
      el('figure', { class: 'map' }, renderMap(p), el('figcaption', {}, mapCaption(d)), legend()),
      el(
        'figure',
        { class: 'plot' },
        renderTimeDistance(d),
        el(
          'figcaption',
          {},
          `Delivery after origin vs hypocentral distance (${d.deliveryTimes === 'receiver' ? 'first receipt per subscriber' : 'work-unit completion'}${d.pointsTotal > d.points.length ? `, an even ${d.points.length}-point sample of ${d.pointsTotal} with density contours` : ''}). A point below the S curve was warned before the shaking.`,
        ),
      ),
    ),
    tables(d),
    ...d.notes.map((n) => el('p', { class: 'note' }, n)),
  );
}

function mapCaption(d: ReportData): string {
  const shown = d.points.length;
  const sample =
    d.pointsTotal > shown
      ? `${shown} of ${d.pointsTotal} eligible subscribers (even sample by distance)`
      : `${shown} eligible subscribers`;
  return d.points.length || !d.cells.length
    ? `${sample}, coloured by warning time (S arrival − delivery). Bands: predicted MMI. Red circle: blind zone.`
    : `${d.cells.length} plan cells, coloured by warning time at their nearest point when their unit finished.`;
}

function renderStatus(s: StatusSnapshot): HTMLElement {
  const box = el('section', { class: 'status' });
  box.append(el('p', { class: 'sub' }, `profile ${s.profile}, ${fmtTime(s.at)}`));
  for (const sec of statusSections(s)) {
    const ul = el('ul');
    for (const l of sec.lines) ul.append(el('li', { class: `lvl-${l.level ?? 'ok'}` }, l.text));
    box.append(el('div', { class: 'status-section' }, el('h3', {}, sec.title), ul));
  }
  return box;
}

/** One console frame: status, the live event maps, links to reports. */
export function renderConsole(root: HTMLElement, m: ConsoleMessage): void {
  const live = el('section', { class: 'live' });
  for (const p of m.live) {
    const d = p.data;
    live.append(
      el(
        'div',
        { class: 'live-event', 'data-event-id': d.eventId, 'data-delivered': String(d.totals.countedDelivered) },
        el('h2', {}, `${d.drill ? 'DRILL ' : ''}M${d.quake.magnitude} ${d.quake.place}: ${d.state}`),
        el(
          'p',
          { class: 'progress' },
          `units ${d.units.filter((u) => u.state === 'done').length}/${d.units.length}, delivered ${d.totals.countedDelivered}, failed ${d.totals.countedFailed}, first alert ${fmtS(d.firstDeliveryS)} after origin${p.sFrontKm ? `, S wave now ${p.sFrontKm} km out` : ''}`,
        ),
        renderMap(p, 520),
      ),
    );
  }
  if (m.live.length === 0) live.append(el('p', { class: 'note' }, 'no event in progress'));
  const links = el('ul', { class: 'reports' });
  for (const r of m.reports) links.append(el('li', {}, el('a', { href: r.href }, r.title), ` ${fmtTime(r.at)}`));
  root.replaceChildren(
    el(
      'header',
      {},
      el('h1', {}, 'quakectl console'),
      el('p', { class: 'sub' }, 'read-only; every action stays in the CLI'),
    ),
    m.error ? el('p', { class: 'error' }, m.error) : '',
    el('div', { class: 'console-grid' }, m.status ? renderStatus(m.status) : el('p', {}, 'status unavailable'), live),
    el('section', {}, el('h2', {}, 'Reports'), m.reports.length ? links : el('p', { class: 'note' }, 'none yet')),
  );
}

function bump(): void {
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const embedded = document.getElementById('quakectl-report');
  if (embedded?.textContent) {
    renderReport(root, JSON.parse(embedded.textContent) as ReportPayload);
    bump();
    return;
  }
  const token = new URLSearchParams(location.search).get('token');
  const source = new EventSource(`events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  source.onmessage = (ev) => {
    renderConsole(root, JSON.parse(ev.data) as ConsoleMessage);
    bump();
  };
}

start();
