import type { Quake } from '../quake/types.ts';
import type { Subscriber } from '../segments/types.ts';
import { cancellationText, notificationText } from './text.ts';
import type { Notification, NotifyLevel, ShakingPhase } from './types.ts';

export interface NotificationFacts {
  mmi: number;
  distanceKm: number;
  level: NotifyLevel;
  /** S-wave arrival at the subscriber minus `builtAt`, seconds (negative once it passed). */
  secondsUntilShaking: number;
  /** Epoch ms the notification is built (default: now). */
  builtAt?: number;
}

/** Seconds after the S arrival during which shaking is described as under way (strong motion lasts tens of s). */
export const UNDER_WAY_S = 60;

/** The phase of the shaking at the subscriber when a notification is built (see `ShakingPhase`). */
export function shakingPhase(secondsUntilShaking: number): ShakingPhase {
  if (secondsUntilShaking > 0) return 'warning';
  return secondsUntilShaking >= -UNDER_WAY_S ? 'under-way' : 'after';
}

/**
 * The idempotency key: one alert per (event, subscriber, level), so an upgrade re-alerts with a new id; one
 * cancellation per (event, subscriber).
 */
export function notificationId(eventId: string, subscriberId: string, level: NotifyLevel | 'cancel'): string {
  return `${eventId}:${subscriberId}:${level}`;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

type QuakeFacts = Pick<Quake, 'id' | 'drill' | 'magnitude' | 'place' | 'originTime'>;

/**
 * A version's alert for one subscriber. The text depends on when it is built (`shakingPhase`): a warning with the
 * seconds left before the S wave, shaking under way, or — built later, e.g. by a retry or a redrive — what happened.
 */
export function buildNotification(
  quake: QuakeFacts,
  subscriber: Pick<Subscriber, 'id' | 'locale'>,
  facts: NotificationFacts,
): Notification {
  const mmi = round1(facts.mmi);
  const distanceKm = round1(facts.distanceKm);
  const secondsUntilShaking = round1(facts.secondsUntilShaking);
  const drill = quake.drill === true;
  const phase = shakingPhase(facts.secondsUntilShaking);
  const { text, locale } = notificationText(
    // Text from the unrounded figures: rounding twice (123.46 → 123.5 → 124 km) would misstate them.
    {
      drill,
      level: facts.level,
      magnitude: quake.magnitude,
      place: quake.place,
      mmi,
      distanceKm: facts.distanceKm,
      secondsUntilShaking: facts.secondsUntilShaking,
      phase,
      originTime: quake.originTime,
    },
    subscriber.locale,
  );
  return {
    id: notificationId(quake.id, subscriber.id, facts.level),
    kind: 'alert',
    subscriberId: subscriber.id,
    eventId: quake.id,
    drill,
    level: facts.level,
    mmi,
    distanceKm,
    secondsUntilShaking,
    magnitude: quake.magnitude,
    place: quake.place,
    originTime: quake.originTime,
    text,
    locale,
    phase,
    builtAt: facts.builtAt ?? Date.now(),
  };
}

/**
 * The cancellation of the alerts one subscriber was sent for a retracted event ("the alert of 08:14 UTC for M4.6 was
 * withdrawn by the network"), under its own idempotency key. `level` is the highest level that was sent; `quake` the
 * version alerted last.
 */
export function buildCancellation(
  quake: QuakeFacts,
  subscriber: Pick<Subscriber, 'id' | 'locale'>,
  facts: NotificationFacts,
): Notification {
  const drill = quake.drill === true;
  const { text, locale } = cancellationText(
    { drill, magnitude: quake.magnitude, place: quake.place, originTime: quake.originTime },
    subscriber.locale,
  );
  return {
    id: notificationId(quake.id, subscriber.id, 'cancel'),
    kind: 'cancel',
    subscriberId: subscriber.id,
    eventId: quake.id,
    drill,
    level: facts.level,
    mmi: round1(facts.mmi),
    distanceKm: round1(facts.distanceKm),
    secondsUntilShaking: round1(facts.secondsUntilShaking),
    magnitude: quake.magnitude,
    place: quake.place,
    originTime: quake.originTime,
    text,
    locale,
    phase: shakingPhase(facts.secondsUntilShaking),
    builtAt: facts.builtAt ?? Date.now(),
  };
}

/**
 * A notification's text rebuilt for `now` from its own figures (the redrive when the event record is gone; the
 * Deliverer when a send waited for its provider's rate): the seconds until the S wave move on by the time since it
 * was built (`builtAt`, else `fallbackBuiltAt`), and with them the phase — a countdown, "shaking under way", or what
 * happened. Same id (receivers de-duplicate on it). Epoch ms in, a new Notification out.
 */
export function rebuildForNow(n: Notification, now: number, fallbackBuiltAt = now): Notification {
  const builtAt = n.builtAt ?? fallbackBuiltAt;
  const secondsUntilShaking = round1(n.secondsUntilShaking - (now - builtAt) / 1000);
  const phase = shakingPhase(secondsUntilShaking);
  const { text, locale } =
    n.kind === 'cancel'
      ? cancellationText(n, n.locale)
      : notificationText({ ...n, secondsUntilShaking, phase }, n.locale);
  return { ...n, kind: n.kind ?? 'alert', secondsUntilShaking, phase, text, locale, builtAt: now };
}
