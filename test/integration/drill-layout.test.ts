/**
 * The drill's population on a real table (dynalite): `drillLayoutState` tells the population asked for from another
 * one, `dropSubscriberTables` empties the tables, and `quakectl drill` refuses another population before it deploys
 * anything when the operator named one (exit 2, the message saying how to replace it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DrillLayout, drillLayoutState, dropSubscriberTables } from '../../shared/drill/layout.ts';
import { findScenario } from '../../shared/drill/scenarios.ts';
import { seedStore } from '../../shared/drill/subscribers.ts';
import { resourceNames, TABLES } from '../../shared/infra/names.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import { cliWithConfig, createTablesActive, localClients, uniqueName } from '../helpers/stack.ts';

const clients = localClients();
const prefix = uniqueName('dl');
const names = resourceNames(prefix);
const store = new SubscriberStore(clients.ddb, names);
const dir = mkdtempSync(join(tmpdir(), 'quakectl-drill-layout-'));
const configFile = join(dir, 'quakectl.config.yaml');
const vrancea = findScenario('vrancea-1977');
const layout: DrillLayout = { count: 1500, center: { lat: vrancea.lat, lon: vrancea.lon }, radiusKm: 120, seed: 1 };

const createTables = (roles: readonly (typeof TABLES)[number][]) => createTablesActive(clients, names, roles);
const cli = cliWithConfig(dir, configFile);
const drill = (...args: string[]) => cli('drill', ...args);

beforeAll(async () => {
  writeFileSync(configFile, `profiles:\n  local:\n    type: local\n    prefix: ${prefix}\n`);
  await createTables(TABLES);
});

afterAll(async () => {
  for (const role of TABLES) {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table(role) })).catch(() => {});
  }
  clients.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('the drill population on the table', () => {
  it('tells empty, the population asked for, and another one (size, place, seed) apart', async () => {
    expect(await drillLayoutState(store, layout)).toEqual({ kind: 'empty' });
    await seedStore(store, { ...layout, webhook: 'http://127.0.0.1:19080/hook', assumeNew: true });
    expect(await drillLayoutState(store, layout)).toEqual({ kind: 'same', subscribers: 1500 });
    const hook = 'http://127.0.0.1:19080/hook';
    expect(await drillLayoutState(store, { ...layout, webhook: hook })).toEqual({ kind: 'same', subscribers: 1500 });
    // Signed with another secret: the drill's receiver would refuse every request.
    expect(await drillLayoutState(store, { ...layout, webhook: hook, secret: 'another-secret' })).toMatchObject({
      kind: 'other',
      reason: "subscriber seed-1-0's webhook secret is not the drill's",
    });
    // On another receiver (another --sink-port): the plain drill would notify nobody it listens for.
    expect(await drillLayoutState(store, { ...layout, webhook: 'http://127.0.0.1:19099/hook' })).toMatchObject({
      kind: 'other',
      reason: `subscriber seed-1-0 is on webhook ${hook}, not the drill's webhook http://127.0.0.1:19099/hook`,
    });
    // A prefix of the same layout is another population (a drill of it would leave the rest unplanned for).
    expect(await drillLayoutState(store, { ...layout, count: 1000 })).toMatchObject({
      kind: 'other',
      subscribers: 1500,
      reason: '1500 subscribers, not 1000',
    });
    // The same count and ids around another epicentre or in another radius: the positions differ.
    const istanbul = findScenario('marmara-istanbul');
    const moved = await drillLayoutState(store, { ...layout, center: { lat: istanbul.lat, lon: istanbul.lon } });
    expect(moved).toMatchObject({ kind: 'other', reason: expect.stringMatching(/^subscriber seed-1-0 is at /) });
    expect(await drillLayoutState(store, { ...layout, radiusKm: 80 })).toMatchObject({ kind: 'other' });
    // Another seed: other ids.
    expect(await drillLayoutState(store, { ...layout, seed: 2 })).toMatchObject({
      kind: 'other',
      reason: 'no subscriber seed-2-0',
    });
  });

  it('quakectl drill refuses another population it was asked to seed, before deploying anything (exit 2)', () => {
    const r = drill('--scenario', 'marmara-istanbul', '--subscribers', '1500', '-o', 'json');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /holds 1500 subscribers that are not the population asked for \(1500 subscribers within 80 km of Sea of Marmara/,
    );
    expect(r.stderr).toMatch(/Add --reseed to replace them .* or leave out --subscribers to drill with them/);
    // Another port for the receiver on the population asked for: named in the message, with the flag to leave out.
    const port = drill('--subscribers', '1500', '--radius-km', '120', '--sink-port', '19099', '-o', 'json');
    expect(port.code, port.stderr).toBe(2);
    expect(port.stderr).toMatch(
      /is on webhook http:\/\/127\.0\.0\.1:\d+\/hook, not the drill's webhook http:\/\/127\.0\.0\.1:19099\/drill/,
    );
    expect(port.stderr).toMatch(/leave out --subscribers, --radius-km, --sink-port/);
    const channels = drill('--channels', 'webhook=100', '--radius-km', '120', '-o', 'json');
    expect(channels.code, channels.stderr).toBe(2);
    expect(channels.stderr).toMatch(/50000 subscribers within 120 km of Vrancea.*--channels .* add --reseed/s);
  });

  it('dropSubscriberTables leaves the subscribers and segments tables gone, the others in place', async () => {
    await dropSubscriberTables(clients.dynamodb, names);
    for (const role of ['subscribers', 'segments'] as const) {
      await expect(
        clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table(role) })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
    await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table('events') }));
    // Dropping what is already gone is no error.
    await dropSubscriberTables(clients.dynamodb, names);
    await createTables(['subscribers', 'segments']);
    expect(await drillLayoutState(store, layout)).toEqual({ kind: 'empty' });
  });
});
