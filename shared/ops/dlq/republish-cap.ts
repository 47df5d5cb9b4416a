/**
 * Redrive of a parked CAP publication (`{kind:"cap"}` in the consumer DLQ): the event's record is read again and its
 * whole CAP feed published (shared/notify/cap-publish.ts `publishEventCap`: the same bytes for what was already there,
 * the index rebuilt), into the store the profile names (shared/notify/cap-config.ts). Undefined when the profile
 * publishes no feed.
 */
import { getEvent } from '../../events/store.ts';
import type { Clients } from '../../infra/clients.ts';
import { type Profile, stateDir } from '../../infra/config.ts';
import { readStackState } from '../../infra/stack-state.ts';
import { capSettingsOfProfile, capStoreFor } from '../../notify/cap-config.ts';
import { publishEventCap } from '../../notify/cap-publish.ts';

/** Resolves with what was published; rejects when the event is unknown or the store fails. */
export function capRepublisher(profile: Profile, clients: Clients): ((eventId: string) => Promise<string>) | undefined {
  const settings = capSettingsOfProfile(
    profile,
    profile.type === 'local' ? readStackState(stateDir(profile)) : undefined,
  );
  if (!settings) return undefined;
  const store = capStoreFor(settings.target, () => clients.s3());
  const events = { ddb: clients.ddb, table: clients.config.names.table('events') };
  return async (eventId) => {
    const record = await getEvent(events, eventId);
    if (!record) throw new Error(`event ${eventId} not found in ${events.table}`);
    const r = await publishEventCap(store, record, { ...settings, minMmi: clients.config.fanout.minSubscriberMmi });
    return `republished ${r.names.length} CAP message(s) of ${eventId} to ${r.location} (index: ${r.indexed})`;
  };
}
