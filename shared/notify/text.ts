/**
 * Notification text per locale. English and Romanian (with its diacritics: ș ț ă â î, comma-below forms U+0219/U+021B
 * as the Romanian standard SR 13011 requires, not the cedilla look-alikes). A drill always starts with its banner;
 * a real event never carries it.
 */
import type { NotifyLevel, ShakingPhase } from './types.ts';

export const TEXT_LOCALES = ['en', 'ro'] as const;
export type TextLocale = (typeof TEXT_LOCALES)[number];

export const DRILL_BANNER: Record<TextLocale, string> = {
  en: 'DRILL — THIS IS A TEST',
  ro: 'EXERCIȚIU — ACESTA ESTE UN TEST',
};

export interface TextFacts {
  drill: boolean;
  level: NotifyLevel;
  magnitude: number;
  place: string;
  mmi: number;
  distanceKm: number;
  secondsUntilShaking: number;
  /** Default: from `secondsUntilShaking` (> 0 warning, else under way). */
  phase?: ShakingPhase;
  /** Epoch ms; named in the `after` text. */
  originTime?: number;
}

export interface CancellationFacts {
  drill: boolean;
  magnitude: number;
  place: string;
  /** Epoch ms of the withdrawn event's origin: the alert is named by it. */
  originTime: number;
}

/** "08:14 UTC": the origin's clock time, which names an alert in both languages. */
function clockUtc(epochMs: number | undefined): string {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return '';
  return `${new Date(epochMs).toISOString().slice(11, 16)} UTC`;
}

/** The language part of a BCP 47 tag when we have texts for it, else English. */
export function textLocale(locale: string | undefined): TextLocale {
  const lang = (locale ?? 'en').toLowerCase().split(/[-_]/)[0];
  return (TEXT_LOCALES as readonly string[]).includes(lang) ? (lang as TextLocale) : 'en';
}

function num(x: number, digits: number, locale: TextLocale): string {
  const s = x.toFixed(digits);
  return locale === 'ro' ? s.replace('.', ',') : s;
}

const TEMPLATES: Record<TextLocale, (f: TextFacts) => string> = {
  en: (f) => {
    if (f.phase === 'after') {
      const at = clockUtc(f.originTime);
      const strength = f.level === 'take-action' ? 'strong' : 'light';
      return (
        `Earthquake M${num(f.magnitude, 1, 'en')}${f.place ? ` (${f.place})` : ''}${at ? ` at ${at}` : ''}, ` +
        `${Math.round(f.distanceKm)} km from you. Predicted shaking at your location: ${strength} (intensity ${num(f.mmi, 1, 'en')}). ` +
        `The shaking has passed; expect aftershocks${f.level === 'take-action' ? ' and check for damage' : ''}.`
      );
    }
    const quake = `Earthquake M${num(f.magnitude, 1, 'en')}${f.place ? ` (${f.place})` : ''}, ${Math.round(f.distanceKm)} km away.`;
    const strength = f.level === 'take-action' ? 'Strong shaking' : 'Light shaking';
    const when =
      f.secondsUntilShaking > 0
        ? `${strength} expected in ${Math.round(f.secondsUntilShaking)} s (intensity ${num(f.mmi, 1, 'en')}).`
        : `${strength} may already be under way (intensity ${num(f.mmi, 1, 'en')}).`;
    const act = f.level === 'take-action' ? 'Drop, cover and hold on.' : 'Stay calm and be ready to take cover.';
    return `${quake} ${when} ${act}`;
  },
  ro: (f) => {
    if (f.phase === 'after') {
      const at = clockUtc(f.originTime);
      const strength = f.level === 'take-action' ? 'puternice' : 'ușoare';
      return (
        `Cutremur M${num(f.magnitude, 1, 'ro')}${f.place ? ` (${f.place})` : ''}${at ? ` la ${at}` : ''}, ` +
        `la ${Math.round(f.distanceKm)} km de dumneavoastră. Mișcări estimate în zona dumneavoastră: ${strength} (intensitate ${num(f.mmi, 1, 'ro')}). ` +
        `Mișcarea a trecut; sunt posibile replici${f.level === 'take-action' ? ', verificați eventualele avarii' : ''}.`
      );
    }
    const quake = `Cutremur M${num(f.magnitude, 1, 'ro')}${f.place ? ` (${f.place})` : ''}, la ${Math.round(f.distanceKm)} km.`;
    const strength = f.level === 'take-action' ? 'Mișcări puternice' : 'Mișcări ușoare';
    const when =
      f.secondsUntilShaking > 0
        ? `${strength} ale solului în ${Math.round(f.secondsUntilShaking)} s (intensitate ${num(f.mmi, 1, 'ro')}).`
        : `${strength} ale solului pot fi deja în curs (intensitate ${num(f.mmi, 1, 'ro')}).`;
    const act =
      f.level === 'take-action'
        ? 'Aplecați-vă, adăpostiți-vă și țineți-vă bine.'
        : 'Păstrați-vă calmul și fiți gata să vă adăpostiți.';
    return `${quake} ${when} ${act}`;
  },
};

export function notificationText(facts: TextFacts, locale: string | undefined): { text: string; locale: TextLocale } {
  const loc = textLocale(locale);
  const body = TEMPLATES[loc](facts);
  return { text: facts.drill ? `${DRILL_BANNER[loc]}: ${body}` : body, locale: loc };
}

const CANCELLATIONS: Record<TextLocale, (f: CancellationFacts) => string> = {
  en: (f) =>
    `CANCELLED: the alert of ${clockUtc(f.originTime)} for M${num(f.magnitude, 1, 'en')}` +
    `${f.place ? ` (${f.place})` : ''} was withdrawn by the seismic network. No earthquake is expected from it.`,
  ro: (f) =>
    `ANULAT: alerta de la ${clockUtc(f.originTime)} pentru M${num(f.magnitude, 1, 'ro')}` +
    `${f.place ? ` (${f.place})` : ''} a fost retrasă de rețeaua seismică. Nu este așteptat niciun cutremur.`,
};

/** Text of a cancellation (the event was retracted by its network); a drill keeps its banner. */
export function cancellationText(
  facts: CancellationFacts,
  locale: string | undefined,
): { text: string; locale: TextLocale } {
  const loc = textLocale(locale);
  const body = CANCELLATIONS[loc](facts);
  return { text: facts.drill ? `${DRILL_BANNER[loc]}: ${body}` : body, locale: loc };
}
