import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { describe, expect, it } from 'vitest';
import { Dashboard } from '../../cli/views/dashboard.ts';
import { StatusView } from '../../cli/views/status-view.ts';
import type { StatusSnapshot } from '../../shared/ops/status/snapshot.ts';
import { statusText } from '../../shared/ops/status/text.ts';

const snapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  at: Date.parse('2026-11-26T11:00:00Z'),
  profile: 'local',
  local: true,
  services: [
    { service: 'kafka', healthy: true, latencyMs: 12 },
    { service: 'sqs', healthy: false, latencyMs: 4000, detail: 'no answer within 4000 ms' },
  ],
  functions: [
    {
      role: 'consumer',
      function: 'quakectl-consumer',
      deployed: true,
      state: 'Active',
      reserved: 6,
      provisioned: null,
    },
    { role: 'autoscaler', function: 'quakectl-autoscaler', deployed: false, reserved: null, provisioned: null },
  ],
  lag: {
    group: 'uuid-1',
    topic: 'quakes.events',
    total: 7,
    partitions: [
      { partition: 0, committed: '3', high: '10', lag: 7 },
      { partition: 1, committed: null, high: '0', lag: 0 },
    ],
  },
  dlqs: [{ queue: 'quakectl-delivery-dlq', kind: 'delivery', depth: 3, exists: true }],
  events: [
    {
      eventId: 'us7000abcd',
      state: 'running',
      magnitude: 6.2,
      place: 'Vrancea',
      drill: true,
      total: 40,
      done: 12,
      pending: 28,
      delivered: 5000,
      failed: 0,
    },
  ],
  drills: [
    {
      eventId: 'drill-1',
      state: 'complete',
      magnitude: 7.4,
      place: 'Vrancea',
      drill: true,
      total: 10,
      done: 10,
      pending: 0,
      delivered: 48000,
      failed: 2,
      firstLatencyMs: 5800,
      lastLatencyMs: 89600,
    },
  ],
  missing: [],
  unpublished: [],
  notes: [],
  ...over,
});

describe('status view', () => {
  it('shows every section of the snapshot', () => {
    const { lastFrame } = render(h(StatusView, { snapshot: snapshot() }));
    const f = lastFrame() ?? '';
    expect(f).toContain('quakectl status · profile local · 11:00:00 UTC');
    expect(f).toMatch(/sqs\s+DOWN 4000 ms \(no answer within 4000 ms\)/);
    expect(f).toMatch(/consumer\s+Active\s+reserved 6 provisioned -/);
    expect(f).toMatch(/autoscaler\s+not deployed/);
    expect(f).toContain('quakes.events group uuid-1: total 7 (p0:7 p1:0)');
    expect(f).toMatch(/delivery\s+3\s+quakectl-delivery-dlq/);
    expect(f).toContain('us7000abcd M6.2 Vrancea DRILL: running, segments 12/40, delivered 5000');
    expect(f).toContain('drill-1 M7.4 Vrancea: delivered 48000, failed 2, first alert 5.8 s, last 89.6 s');
  });

  it('plain text carries the same facts', () => {
    const t = statusText(snapshot({ notes: ['lag: no mapping'] }));
    expect(t).toContain('segments 12/40');
    expect(t).toContain('first alert 5.8 s');
    expect(t).toContain('notes:\n  lag: no mapping');
  });
});

describe('what is missing and what was never published', () => {
  it('names the missing resources by kind and the command that creates them, first', () => {
    const t = statusText(
      snapshot({
        missing: [
          { kind: 'table', name: 'quakectl-events' },
          { kind: 'table', name: 'quakectl-locks' },
          { kind: 'topic', name: 'quakes.events' },
          { kind: 'queue', name: 'quakectl-worker-dlq' },
        ],
        fix: 'quakectl deploy',
      }),
    );
    expect(t.split('\n').slice(1, 6)).toEqual([
      '',
      'not deployed (4; fix: quakectl deploy):',
      '  tables: quakectl-events, quakectl-locks',
      '  topic: quakes.events',
      '  queue: quakectl-worker-dlq',
    ]);
    expect(t).not.toMatch(/Requested resource not found|does not host this topic-partition/);
  });

  it('lists unpublished events with their ids', () => {
    const t = statusText(
      snapshot({
        unpublished: [
          {
            eventId: 'us7000zzzz',
            magnitude: 5.1,
            place: 'Crete',
            drill: false,
            acceptedAt: Date.parse('2026-11-26T10:59:00Z'),
          },
        ],
      }),
    );
    expect(t).toContain(
      'unpublished events (1): accepted, never acknowledged by Kafka:\n  us7000zzzz M5.1 Crete, accepted 2026-11-26T10:59:00.000Z',
    );
    const { lastFrame } = render(
      h(StatusView, { snapshot: snapshot({ unpublished: [{ eventId: 'e1', drill: true }] }) }),
    );
    expect(lastFrame()).toContain('e1 M? DRILL');
  });
});

describe('dashboard', () => {
  const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

  it('refreshes on its interval and quits on q', async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return snapshot({ events: [], at: Date.parse('2026-11-26T11:00:00Z') + loads * 1000 });
    };
    const app = render(h(Dashboard, { load, intervalMs: 50 }));
    for (let waited = 0; !app.lastFrame()?.includes('11:00:01 UTC') && waited < 5000; waited += 20) await tick(20);
    expect(app.lastFrame()).toContain('11:00:01 UTC');
    for (let waited = 0; loads < 3 && waited < 5000; waited += 20) await tick(20);
    expect(loads).toBeGreaterThanOrEqual(3);
    expect(app.lastFrame()).toContain('q or Ctrl-C quits');
    app.stdin.write('q');
    await tick(50);
    const after = loads;
    await tick(200);
    // Quitting unmounted the app: its timer stopped.
    expect(loads).toBe(after);
  });

  it('shows a failed refresh and keeps the last picture', async () => {
    let n = 0;
    const load = async () => {
      n++;
      if (n === 2) throw new Error('kafka gone');
      return snapshot();
    };
    const app = render(h(Dashboard, { load, intervalMs: 40 }));
    // Wait for the failed second refresh to be drawn (a fixed 60 ms was too short on a loaded machine).
    const shown = () =>
      app.frames.some((f) => f.includes('refresh failed: kafka gone') && f.includes('segments 12/40'));
    for (let waited = 0; !shown() && waited < 5000; waited += 20) await tick(20);
    expect(shown()).toBe(true);
    app.unmount();
  });
});
