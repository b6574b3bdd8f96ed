// The correction form of an extraction: the fields as editable text, and the
// changed ones as the typed values the API takes ("corrections" of approve,
// or one "correct"). A field counts as changed when its text differs from the
// text the original value gives, so an untouched coordinate or time never
// comes back with rounding noise. Pure.

import { localOffset, parseDateTimeLocal, toDateTimeLocal, type OffsetFn } from '../incidents/format.js';
import type { Actor } from '../incidents/types.js';
import type { ExtractedFields } from './types.js';

/** The fields a curator can correct, in the order the form shows them. */
export const FIELD_NAMES = ['type', 'time', 'place', 'district', 'lat', 'lon', 'actors', 'perpetrator_org', 'targets'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

export const FIELD_LABELS: Record<FieldName, string> = {
  type: 'type',
  time: 'time',
  place: 'place',
  district: 'district',
  lat: 'latitude',
  lon: 'longitude',
  actors: 'actors',
  perpetrator_org: 'perpetrator org',
  targets: 'targets',
};

export const ACTOR_ROLES: readonly string[] = ['victim', 'suspect', 'officer', 'witness', 'agency'];

/** Every field as the text its input holds. actors: "role: description" per line; targets: one per line. */
export type FieldForm = Record<FieldName, string>;

export type FieldValue = string | number | null | Actor[] | string[];

function numberText(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '' : String(n);
}

export function actorsText(actors: readonly Actor[] | null | undefined): string {
  return (actors ?? []).map((a) => `${a.role}: ${a.description}`).join('\n');
}

export function formFromFields(f: ExtractedFields, offset: OffsetFn = localOffset): FieldForm {
  return {
    type: f.type ?? '',
    time: toDateTimeLocal(f.time, offset),
    place: f.place ?? '',
    district: f.district ?? '',
    lat: numberText(f.lat),
    lon: numberText(f.lon),
    actors: actorsText(f.actors),
    perpetrator_org: f.perpetrator_org ?? '',
    targets: (f.targets ?? []).join('\n'),
  };
}

/** "role: description" lines -> actors; an unknown role or a line without ":" is an error naming the line. */
export function parseActors(text: string): { actors: Actor[]; errors: string[] } {
  const actors: Actor[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const colon = line.indexOf(':');
    const role = colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase();
    const description = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (!ACTOR_ROLES.includes(role)) {
      errors.push(`actors line ${i + 1}: the role must be one of ${ACTOR_ROLES.join(', ')} ("role: description")`);
    } else if (!description) {
      errors.push(`actors line ${i + 1}: the description is empty`);
    } else {
      actors.push({ role, description });
    }
  });
  return { actors, errors };
}

/** The typed value of one field's text, or the reason it is not valid. */
export function fieldValue(
  field: FieldName,
  text: string,
  offset: OffsetFn = localOffset,
): { value: FieldValue } | { error: string } {
  const t = text.trim();
  switch (field) {
    case 'type':
      return t ? { value: t } : { error: 'type: choose a type' };
    case 'time': {
      if (!t) return { value: null };
      const ms = parseDateTimeLocal(t, offset);
      return ms === null ? { error: `time: "${t}" is not a date and time` } : { value: ms };
    }
    case 'lat':
    case 'lon': {
      if (!t) return { value: null };
      const n = Number(t);
      const limit = field === 'lat' ? 90 : 180;
      if (!Number.isFinite(n) || Math.abs(n) > limit) {
        return { error: `${FIELD_LABELS[field]}: "${t}" is not a number between -${limit} and ${limit}` };
      }
      return { value: n };
    }
    case 'actors': {
      const { actors, errors } = parseActors(text);
      return errors.length ? { error: errors.join('; ') } : { value: actors };
    }
    case 'targets':
      return { value: text.split('\n').map((s) => s.trim()).filter(Boolean) };
    case 'district':
      return { value: t.toUpperCase() };
    default:
      return { value: t };
  }
}

/** The fields whose text differs from the original's. */
export function changedFields(original: ExtractedFields, form: FieldForm, offset: OffsetFn = localOffset): FieldName[] {
  const before = formFromFields(original, offset);
  return FIELD_NAMES.filter((f) => normalise(f, before[f]) !== normalise(f, form[f]));
}

function normalise(field: FieldName, text: string): string {
  const lines = text.split('\n').map((s) => s.trim()).filter(Boolean);
  const joined = lines.join('\n');
  return field === 'district' ? joined.toUpperCase() : joined;
}

/** The changed fields as approve's "corrections" object, and every invalid field's error. */
export function diffCorrections(
  original: ExtractedFields,
  form: FieldForm,
  offset: OffsetFn = localOffset,
): { corrections: Partial<Record<FieldName, FieldValue>>; errors: string[] } {
  const corrections: Partial<Record<FieldName, FieldValue>> = {};
  const errors: string[] = [];
  for (const f of changedFields(original, form, offset)) {
    const r = fieldValue(f, form[f], offset);
    if ('error' in r) errors.push(r.error);
    else corrections[f] = r.value;
  }
  return { corrections, errors };
}
