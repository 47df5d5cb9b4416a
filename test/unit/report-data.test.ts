import { describe, expect, it } from 'vitest';
import { buildReportData, evenSample, warningClass } from '../../shared/report/build.ts';
import { scriptJson } from '../../shared/report/html.ts';
import { sTravelTimeS } from '../../shared/seismo/index.ts';
import { ACCEPTED_AT, knownDrill } from '../helpers/report-fixture.ts';

describe('report data', () => {
  it('classes every eligible subscriber by warning time, as the drill was built', () => {
    const k = knownDrill(600);
    const d = buildReportData(k.input);
    expect(d.classCounts).toEqual(k.expected);
    expect(d.pointsTotal).toBe(600);
    expect(d.points).toHaveLength(600);
    expect(d.totals.missing).toBe(k.expected.missing);
    expect(d.totals.duplicates).toBe(12);
    const beforeS = k.expected['under-5s'] + k.expected['under-15s'] + k.expected['over-15s'];
    expect(d.totals.beforeS).toBe(beforeS);
    expect(d.totals.beforeSShare).toBeCloseTo(beforeS / 600, 4);
    expect(d.deliveryTimes).toBe('receiver');
  });

  it('warning time is S arrival (ak135) minus the first receipt', () => {
    const k = knownDrill(100);
    const d = buildReportData(k.input);
    for (const p of d.points.filter((x) => x.deliveredS !== null)) {
      expect(p.sArrivalS).toBeCloseTo(sTravelTimeS(k.input.record.quake, p), 1);
      expect(p.warningS).toBeCloseTo(p.sArrivalS - (p.deliveredS as number), 1);
    }
  });

  it('counts per channel and per unit add up to the eligible subscribers', () => {
    const d = buildReportData(knownDrill(600).input);
    expect(d.channels.map((c) => c.channel)).toEqual(['kafka', 'webhook']);
    expect(d.channels.reduce((a, c) => a + c.eligible, 0)).toBe(600);
    expect(d.channels.reduce((a, c) => a + c.delivered, 0)).toBe(540);
    expect(d.units.reduce((a, u) => a + u.planned, 0)).toBe(600);
    expect(d.units.every((u) => u.state === 'done' && u.doneS !== null)).toBe(true);
    // nearest first
    for (let i = 1; i < d.units.length; i++) expect(d.units[i].minKm).toBeGreaterThanOrEqual(d.units[i - 1].minKm);
  });

  it('samples evenly when there are more subscribers than points, and keeps the counts of all', () => {
    const k = knownDrill(1000, { maxPoints: 250 });
    const d = buildReportData(k.input);
    expect(d.points).toHaveLength(250);
    expect(d.pointsTotal).toBe(1000);
    expect(d.classCounts).toEqual(k.expected);
    expect(evenSample([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 3, 5]);
  });

  it('without a receiver, delivery times are the work units completion (upper bound)', () => {
    const k = knownDrill(300);
    const d = buildReportData({ ...k.input, receipts: undefined });
    expect(d.deliveryTimes).toBe('unit-done');
    for (const p of d.points) expect(p.deliveredS).toBe(d.units[p.unit].failed === 0 ? d.units[p.unit].doneS : null);
    // The pipeline's own count, not the units' eligible: failed deliveries are not delivered.
    expect(d.totals.delivered).toBe(k.input.record.delivered);
    expect(d.totals.missing).toBe(Math.max(0, (d.totals.eligible ?? 0) - (k.input.record.delivered ?? 0)));
    expect(d.notes.join(' ')).toMatch(/upper bound/);
  });

  it('without a receiver, a unit whose notifications all went to the DLQ delivered nobody', () => {
    const k = knownDrill(300);
    const locks = new Map(
      [...(k.input.locks ?? new Map()).entries()].map(([key, l]) => [
        key,
        { ...l, failed: (l.delivered ?? 0) + (l.failed ?? 0), delivered: 0 },
      ]),
    );
    const record = { ...k.input.record, failed: k.input.record.delivered, delivered: 0 };
    const d = buildReportData({ ...k.input, receipts: undefined, locks, record });
    expect(d.totals.delivered).toBe(0);
    expect(d.totals.missing).toBe(d.totals.eligible);
    expect(d.points.every((p) => p.deliveredS === null)).toBe(true);
  });

  it('from the counters alone (no subscribers read) it draws the plan cells', () => {
    const k = knownDrill(300);
    const d = buildReportData({ ...k.input, subscribers: undefined, receipts: undefined });
    expect(d.points).toHaveLength(0);
    expect(d.totals.eligible).toBeNull();
    expect(d.totals.delivered).toBe(k.input.record.delivered);
    expect(d.cells.length).toBeGreaterThan(0);
    expect(d.cells.every((c) => c.cls !== null)).toBe(true);
  });

  it('intensity bands grow outward: each level inside the one below', () => {
    const d = buildReportData(knownDrill(50).input);
    expect(d.bands.map((b) => b.mmi)).toEqual([...d.bands.map((b) => b.mmi)].sort((a, b) => a - b));
    expect(d.bands.length).toBeGreaterThan(2);
    expect(d.detectionDelayS).toBe(5);
    expect(d.curves[0].hypocentralKm).toBe(94);
    expect(d.curves.every((c) => c.sS > c.pS)).toBe(true);
    expect(d.generatedAt).toBe(ACCEPTED_AT + 60_000);
  });

  it('warning classes have their bounds on the lower side', () => {
    expect(warningClass(null)).toBe('missing');
    expect(warningClass(-0.01)).toBe('after-s');
    expect(warningClass(0)).toBe('under-5s');
    expect(warningClass(5)).toBe('under-15s');
    expect(warningClass(15)).toBe('over-15s');
  });

  it('data inlined in a script element cannot close it', () => {
    const s = scriptJson({ place: '</script><script>alert(1)</script>' });
    expect(s).not.toContain('</script');
    expect(JSON.parse(s)).toEqual({ place: '</script><script>alert(1)</script>' });
  });
});
