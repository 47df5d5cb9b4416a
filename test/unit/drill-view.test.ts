import { PassThrough } from 'node:stream';
import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';
import { plainProgress, progressElement, toRow } from '../../cli/commands/simulate-view.ts';
import type { EventRecord } from '../../shared/events/types.ts';

const record = (over: Partial<EventRecord>): EventRecord =>
  ({ eventId: 'drill-x', updatedAt: 0, acceptedAt: Date.now() - 2000, ...over }) as EventRecord;

describe('simulate progress', () => {
  it('draws segments done/total, sent, received, rate and elapsed in the ink view', async () => {
    const row = toRow({
      eventId: 'drill-x',
      record: record({
        state: 'running',
        total: 10,
        doneCount: 5,
        delivered: 1200,
        firstDeliveryAt: Date.now() - 1000,
      }),
      elapsedMs: 2000,
      received: 1190,
    });
    const out = renderToString(await progressElement([row]), { columns: 100 });
    expect(out).toContain('drill-x running');
    expect(out).toMatch(/segments █{12}░{12} 5\/10/);
    expect(out).toMatch(/sent 1200 {2}received 1190 {2}\d+\/s {2}2\.\d s/);
  });

  it('prints plain lines only when something changed, and always the final state', () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const p = plainProgress(out);
    const running = record({ state: 'running', total: 4, doneCount: 1, delivered: 10 });
    p.update({ eventId: 'drill-x', record: running, elapsedMs: 100 });
    p.update({ eventId: 'drill-x', record: running, elapsedMs: 200 });
    p.update({ eventId: 'drill-x', record: { ...running, doneCount: 2 }, elapsedMs: 300 });
    p.update({ eventId: 'drill-x', record: { ...running, state: 'complete', doneCount: 4 }, elapsedMs: 400 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^drill-x running: segments 1\/4, sent 10,/);
    expect(lines[1]).toMatch(/^drill-x complete: segments 4\/4/);
  });
});
