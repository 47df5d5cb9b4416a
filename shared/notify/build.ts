import type { Quake } from '../quake/types.ts';
import type { Subscriber } from '../segments/types.ts';
import { notificationText } from './text.ts';
import type { Notification, NotifyLevel } from './types.ts';

export interface NotificationFacts {
  mmi: number;
  distanceKm: number;
  level: NotifyLevel;
  secondsUntilShaking: number;
}

/** The idempotency key: one notification per (event, subscriber, level), so an upgrade re-alerts with a new id. */
export function notificationId(eventId: string, subscriberId: string, level: NotifyLevel): string {
  return `${eventId}:${subscriberId}:${level}`;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function buildNotification(
  quake: Pick<Quake, 'id' | 'drill' | 'magnitude' | 'place' | 'originTime'>,
  subscriber: Pick<Subscriber, 'id' | 'locale'>,
  facts: NotificationFacts,
): Notification {
  const mmi = round1(facts.mmi);
  const distanceKm = round1(facts.distanceKm);
  const secondsUntilShaking = round1(facts.secondsUntilShaking);
  const drill = quake.drill === true;
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
    },
    subscriber.locale,
  );
  return {
    id: notificationId(quake.id, subscriber.id, facts.level),
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
  };
}
