/**
 * `quakectl subscribers import|seed|stats` against the local stack, through the real CLI (a config file gives this run
 * its own prefix) and through the functions it calls.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { cellToLatLng } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames, TABLES } from '../../shared/infra/names.ts';
import { cellFor, segmentKey } from '../../shared/segments/index.ts';
import { cliWithConfig, createTablesActive, localClients, uniqueName } from '../helpers/stack.ts';

const clients = localClients();
const prefix = uniqueName('st');
const names = resourceNames(prefix);
const dir = mkdtempSync(join(tmpdir(), 'quakectl-subs-'));
const configFile = join(dir, 'quakectl.config.yaml');

const cli = cliWithConfig(dir, configFile);

beforeAll(async () => {
  writeFileSync(configFile, `profiles:\n  local:\n    type: local\n    prefix: ${prefix}\n`);
  await createTablesActive(clients, names);
});

afterAll(async () => {
  for (const role of TABLES) {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table(role) })).catch(() => {});
  }
  clients.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('subscribers import', () => {
  it('imports the good rows, reports the bad ones by line, exits 1, and is idempotent', () => {
    const file = join(dir, 'subs.csv');
    writeFileSync(
      file,
      [
        'id,lat,lon,minMmi,channel,target,secret,locale',
        'a1,44.43,26.10,3,webhook,https://hooks.example.com/a,k1,ro',
        'a2,45.65,25.60,4,log,ops,,',
        'bad1,44.4,nope,3,log,ops,,',
        'a3,47.01,28.86,5,kafka,push,,ro',
        'bad2,44.4,26.1,3,carrier-pigeon,ops,,',
      ].join('\n'),
    );
    const first = cli('subscribers', 'import', file, '-o', 'json');
    expect(first.code, first.stderr).toBe(1);
    const r1 = JSON.parse(first.stdout);
    expect(r1).toMatchObject({ format: 'csv', rows: 5, inserted: 3, updated: 0, moved: 0 });
    expect(r1.rejected.map((b: { line: number }) => b.line)).toEqual([4, 6]);
    expect(r1.rejected[0].reason).toMatch(/lon: "nope" is not a number/);
    expect(r1.rejected[1].reason).toMatch(/channel\.type/);

    const again = JSON.parse(cli('subscribers', 'import', file, '-o', 'json').stdout);
    expect(again).toMatchObject({ inserted: 0, updated: 3, moved: 0 });

    const table = cli('subscribers', 'import', file);
    expect(table.stdout).toMatch(/rejected rows:/);
    expect(table.stdout).toMatch(/4\W+bad1\W+lon: "nope" is not a number/);
  });

  it('moves a subscriber whose new location is in another cell, exit 0 on a clean NDJSON file', () => {
    const file = join(dir, 'move.ndjson');
    writeFileSync(file, '{"id":"a2","lat":46.77,"lon":23.62,"minMmi":4,"channel":"log","target":"ops"}\n');
    const r = cli('subscribers', 'import', file, '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'ndjson', inserted: 0, moved: 1, rejected: [] });
  });
});

describe('subscribers seed and stats', () => {
  it('seeds reproducibly (re-seeding updates, never duplicates) and stats counts them', () => {
    const seed = ['subscribers', 'seed', '--count', '300', '--center', '45.77,26.76', '--radius-km', '150'];
    const s1 = cli(...seed, '--webhook', 'http://127.0.0.1:19080/hook', '-o', 'json');
    expect(s1.code, s1.stderr).toBe(0);
    expect(JSON.parse(s1.stdout)).toMatchObject({ count: 300, inserted: 300, rejected: 0 });
    const s2 = JSON.parse(cli(...seed, '--webhook', 'http://127.0.0.1:19080/hook', '-o', 'json').stdout);
    expect(s2).toMatchObject({ inserted: 0, updated: 300 });

    const stats = cli('subscribers', 'stats', '-o', 'json');
    expect(stats.code, stats.stderr).toBe(0);
    const st = JSON.parse(stats.stdout);
    expect(st.subscribers).toBe(303);
    expect(st.perCell.reduce((n: number, c: { count: number }) => n + c.count, 0)).toBe(303);
    expect(st.cells).toBeGreaterThan(5);
    expect(st.largest.count).toBeGreaterThan(0);
    expect(cli('subscribers', 'stats').stdout).toMatch(/subscribers 303, cells \d+/);
  });

  it('resegment lays out cells written before shards recorded their areas; stats counts them, --dry-run moves nothing', async () => {
    // Seeding lays shards out compactly: nothing to do.
    expect(JSON.parse(cli('subscribers', 'stats', '-o', 'json').stdout).toLayOut).toBe(0);
    // A cell as the layout before areas: two arrival-order shards of 10, no area (one shard would do).
    const cell = cellFor(46.77, 23.6); // Cluj-Napoca
    const [lat, lon] = cellToLatLng(cell);
    for (let i = 0; i < 20; i++) {
      await clients.ddb.send(
        new PutCommand({
          TableName: names.table('subscribers'),
          Item: {
            segment: segmentKey(cell, i % 2),
            subscriberId: `legacy-${i}`,
            lat: lat + (i % 5) * 0.01,
            lon: lon + Math.floor(i / 5) * 0.01,
            minMmi: 3,
            channel: { type: 'log', target: 'ops' },
            locale: 'en',
          },
        }),
      );
    }
    for (const shard of [0, 1]) {
      await clients.ddb.send(
        new PutCommand({ TableName: names.table('segments'), Item: { cell, shard, count: 10, updatedAt: 1 } }),
      );
    }
    expect(cli('subscribers', 'stats').stdout).toMatch(/1 cells to lay out \(quakectl subscribers resegment\)/);
    const dry = cli('subscribers', 'resegment', '--dry-run', '-o', 'json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ toLayOut: 1, subscribers: 20, dryRun: true });
    expect(JSON.parse(cli('subscribers', 'stats', '-o', 'json').stdout).toLayOut).toBe(1);
    const run = cli('subscribers', 'resegment', '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ toLayOut: 1, cellsChanged: 1, removed: 1 });
    const st = JSON.parse(cli('subscribers', 'stats', '-o', 'json').stdout);
    expect(st.toLayOut).toBe(0);
    expect(st.subscribers).toBe(323);
    expect(cli('subscribers', 'resegment').stdout).toMatch(/0 of \d+ cells to lay out[\s\S]*nothing to do/);
  });

  it('refuses a malformed centre with a usage error', () => {
    const r = cli('subscribers', 'seed', '--count', '1', '--center', 'bucharest', '--radius-km', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--center: expected LAT,LON/);
  });
});

// Last: `stats` above counts every subscriber of this prefix.
describe('subscribers import of a file with a repeated id', () => {
  it('refuses a subscriber id written twice in one file, naming both lines, and writes neither row', () => {
    const file = join(dir, 'dups.csv');
    writeFileSync(
      file,
      [
        'id,lat,lon,minMmi,channel,target',
        'd1,44.43,26.10,3,log,ops',
        'd2,45.65,25.60,4,log,ops',
        'd1,47.01,28.86,5,log,ops',
      ].join('\n'),
    );
    const r = cli('subscribers', 'import', file, '-o', 'json');
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ rows: 3, inserted: 1 });
    expect(report.rejected).toEqual([
      { line: 2, id: 'd1', reason: 'duplicate id "d1": also on line 4' },
      { line: 4, id: 'd1', reason: 'duplicate id "d1": also on line 2' },
    ]);
  });
});
