import { describe, expect, it } from 'vitest';
import {
  buildCancellation,
  buildNotification,
  DRILL_BANNER,
  notificationText,
  shakingPhase,
  textLocale,
  UNDER_WAY_S,
} from '../../shared/notify/index.ts';

const quake = {
  id: 'us7000abcd',
  drill: false,
  magnitude: 6.84,
  place: 'Vrancea, Romania',
  originTime: 1_700_000_000_000,
};
const facts = { mmi: 5.67, distanceKm: 123.456, level: 'take-action' as const, secondsUntilShaking: 24.46 };

describe('buildNotification', () => {
  it('keys by event, subscriber and level and rounds to one decimal', () => {
    const n = buildNotification(quake, { id: 'sub-1', locale: 'en' }, facts);
    expect(n.id).toBe('us7000abcd:sub-1:take-action');
    expect(n).toMatchObject({
      subscriberId: 'sub-1',
      eventId: 'us7000abcd',
      drill: false,
      level: 'take-action',
      mmi: 5.7,
      distanceKm: 123.5,
      secondsUntilShaking: 24.5,
      magnitude: 6.84,
      place: 'Vrancea, Romania',
      originTime: quake.originTime,
      locale: 'en',
    });
    expect(n.text).toContain('M6.8');
    expect(n.text).toContain('123 km');
    expect(n.text).toContain('24 s');
    expect(n.text).toContain('Drop, cover and hold on');
  });

  it('marks drills, and only drills, in the subscriber language', () => {
    const real = buildNotification(quake, { id: 'a', locale: 'en' }, facts);
    const drill = buildNotification({ ...quake, drill: true }, { id: 'a', locale: 'en' }, facts);
    const drillRo = buildNotification({ ...quake, drill: true }, { id: 'b', locale: 'ro-RO' }, facts);
    const realRo = buildNotification(quake, { id: 'b', locale: 'ro' }, facts);
    expect(drill.drill).toBe(true);
    expect(drill.text.startsWith('DRILL — THIS IS A TEST')).toBe(true);
    expect(drillRo.text.startsWith('EXERCIȚIU — ACESTA ESTE UN TEST')).toBe(true);
    for (const n of [real, realRo]) {
      expect(n.drill).toBe(false);
      for (const banner of Object.values(DRILL_BANNER)) expect(n.text).not.toContain(banner);
      expect(n.text).not.toMatch(/drill|exerci/i);
    }
  });

  it('writes Romanian with comma-below diacritics and decimal commas', () => {
    const n = buildNotification(quake, { id: 'b', locale: 'ro' }, facts);
    expect(n.locale).toBe('ro');
    expect(n.text).toContain('Cutremur M6,8 (Vrancea, Romania), la 123 km.');
    expect(n.text).toContain('intensitate 5,7');
    expect(n.text).toContain('țineți-vă');
    expect(n.text).not.toMatch(/[şţŞŢ]/); // cedilla look-alikes
    const aware = buildNotification(quake, { id: 'b', locale: 'ro' }, { ...facts, level: 'be-aware', mmi: 3.2 });
    expect(aware.text).toContain('Mișcări ușoare');
  });

  it('says shaking may have begun once the S wave has passed', () => {
    const en = notificationText({ ...facts, drill: false, magnitude: 5, place: '', secondsUntilShaking: -3 }, 'en');
    expect(en.text).toContain('may already be under way');
    const ro = notificationText({ ...facts, drill: false, magnitude: 5, place: '', secondsUntilShaking: -3 }, 'ro');
    expect(ro.text).toContain('pot fi deja în curs');
  });

  it('falls back to English for languages without texts', () => {
    expect(textLocale('de-DE')).toBe('en');
    expect(textLocale('RO')).toBe('ro');
    expect(buildNotification(quake, { id: 'x', locale: 'fr' }, facts).locale).toBe('en');
  });
});

describe('time-aware texts and cancellations', () => {
  const origin = Date.UTC(2026, 10, 30, 8, 14, 27);
  const q = { id: 'us7000abcd', drill: false, magnitude: 4.6, place: 'Vrancea, Romania', originTime: origin };
  const f = { mmi: 5.4, distanceKm: 61.2, level: 'take-action' as const };

  it('names the phase from the seconds left: warning, under way up to a minute after the S wave, then after', () => {
    expect(shakingPhase(12)).toBe('warning');
    expect(shakingPhase(0)).toBe('under-way');
    expect(shakingPhase(-UNDER_WAY_S)).toBe('under-way');
    expect(shakingPhase(-UNDER_WAY_S - 0.1)).toBe('after');
  });

  it('built hours after the S wave, an alert says what happened, never "shaking in N s"', () => {
    const n = buildNotification(q, { id: 's1', locale: 'en' }, { ...f, secondsUntilShaking: -3 * 3600 });
    expect(n).toMatchObject({ kind: 'alert', phase: 'after', id: 'us7000abcd:s1:take-action' });
    expect(n.text).toBe(
      'Earthquake M4.6 (Vrancea, Romania) at 08:14 UTC, 61 km from you. Predicted shaking at your location: strong ' +
        '(intensity 5.4). The shaking has passed; expect aftershocks and check for damage.',
    );
    const ro = buildNotification(q, { id: 's1', locale: 'ro' }, { ...f, secondsUntilShaking: -3 * 3600 });
    expect(ro.text).toMatch(/^Cutremur M4,6 \(Vrancea, Romania\) la 08:14 UTC, la 61 km de dumneavoastră\./);
    expect(ro.text).toMatch(/Mișcarea a trecut/);
  });

  it('a cancellation names the withdrawn alert by its time and magnitude, under its own key; a drill keeps its banner', () => {
    const c = buildCancellation(q, { id: 's2', locale: 'en' }, { ...f, secondsUntilShaking: -30 });
    expect(c).toMatchObject({ kind: 'cancel', id: 'us7000abcd:s2:cancel', level: 'take-action' });
    expect(c.text).toBe(
      'CANCELLED: the alert of 08:14 UTC for M4.6 (Vrancea, Romania) was withdrawn by the seismic network. ' +
        'No earthquake is expected from it.',
    );
    const drill = buildCancellation(
      { ...q, drill: true },
      { id: 's2', locale: 'ro' },
      { ...f, secondsUntilShaking: 5 },
    );
    expect(drill.text).toMatch(/^EXERCIȚIU — ACESTA ESTE UN TEST: ANULAT: alerta de la 08:14 UTC pentru M4,6/);
  });
});
