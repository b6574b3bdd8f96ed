// The triage settings editor's model: the saved settings as a form draft (text
// inputs, checkbox lists), the draft back to the exact JSON that
// PUT /v1/intel/triage takes, and the checks the server makes (ranges,
// reject <= approve for every category x type pairing, names, known fields),
// with the same paths in the messages ("categories.crime.approve: ...").
// Pure.

import type { TriageOverride, TriageSettings } from './types.js';

/** The fields an incident type may require (the server's list, docs/INTEL_API.md). */
export const TRIAGE_FIELDS: readonly string[] = [
  'date',
  'time',
  'place',
  'coordinates',
  'actors',
  'victim',
  'suspect',
  'officer',
  'witness',
  'agency',
  'weapon',
  'charges',
];

/** The categories incident types fall into (docs/EXTRACTION.md); the add box suggests them. */
export const TRIAGE_CATEGORIES: readonly string[] = ['crime', 'enforcement', 'unrest'];

/** One row of the editor: a category or an incident type. Empty text = no override. */
export interface OverrideDraft {
  name: string;
  approve: string;
  reject: string;
  /** Incident types only. */
  required: string[];
}

export interface TriageDraft {
  approve: string;
  reject: string;
  categories: OverrideDraft[];
  types: OverrideDraft[];
}

export interface SettingsError {
  path: string;
  message: string;
}

export type DraftResult = { ok: true; settings: TriageSettings } | { ok: false; errors: SettingsError[] };

export function errorText(e: SettingsError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

const NAME_RE = /^[a-z0-9 _-]{1,64}$/;

function numText(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

function byName(a: OverrideDraft, b: OverrideDraft): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The draft of saved settings. `knownTypes` get a row each (empty when the
 * settings hold nothing for them) so any type can be given thresholds; types
 * the settings name beyond those keep their rows too.
 */
export function draftFromSettings(settings: Partial<TriageSettings> | null | undefined, knownTypes: readonly string[] = []): TriageDraft {
  const s = settings ?? {};
  const categories = Object.entries(s.categories ?? {})
    .map(([name, o]) => ({ name, approve: numText(o?.approve), reject: numText(o?.reject), required: [] }))
    .sort(byName);
  const saved = s.incident_types ?? {};
  const typeNames = [...knownTypes, ...Object.keys(saved).filter((t) => !knownTypes.includes(t)).sort()];
  const types = typeNames.map((name) => {
    const o = saved[name];
    return {
      name,
      approve: numText(o?.approve),
      reject: numText(o?.reject),
      required: Array.isArray(o?.required_fields) ? o.required_fields.filter((f): f is string => typeof f === 'string') : [],
    };
  });
  return { approve: numText(s.approve), reject: numText(s.reject), categories, types };
}

/** A number typed in a box: empty -> undefined (no override), else the number or NaN. */
function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
}

function readThreshold(text: string, path: string, errors: SettingsError[], required: boolean): number | undefined {
  const v = parseNumber(text);
  if (v === undefined) {
    if (required) errors.push({ path, message: 'must be a number in [0, 1]' });
    return undefined;
  }
  if (!(v >= 0 && v <= 1)) errors.push({ path, message: 'must be a number in [0, 1]' });
  return v;
}

/**
 * The settings of a draft, or every problem in it by path. Types with no
 * threshold and no required field are left out (no override); an added
 * category is kept even while empty.
 */
export function settingsFromDraft(draft: TriageDraft): DraftResult {
  const errors: SettingsError[] = [];
  const approve = readThreshold(draft.approve, 'approve', errors, true);
  const reject = readThreshold(draft.reject, 'reject', errors, true);
  const categories: Record<string, TriageOverride> = {};
  const incident_types: Record<string, TriageOverride> = {};
  const rows: [string, OverrideDraft[], Record<string, TriageOverride>][] = [
    ['categories', draft.categories, categories],
    ['incident_types', draft.types, incident_types],
  ];
  for (const [section, list, out] of rows) {
    for (const row of list) {
      const name = row.name.trim();
      const path = `${section}.${name}`;
      if (!NAME_RE.test(name)) {
        errors.push({ path, message: "name must be 1-64 lower-case letters, digits, ' ', '_' or '-'" });
        continue;
      }
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        errors.push({ path, message: 'listed twice' });
        continue;
      }
      const o: TriageOverride = {};
      const a = readThreshold(row.approve, `${path}.approve`, errors, false);
      const r = readThreshold(row.reject, `${path}.reject`, errors, false);
      if (a !== undefined) o.approve = a;
      if (r !== undefined) o.reject = r;
      if (section === 'incident_types') {
        if (row.required.length) o.required_fields = [...row.required];
        if (a === undefined && r === undefined && !row.required.length) continue;
      }
      out[name] = o;
    }
  }
  const settings: TriageSettings = { approve: approve ?? NaN, reject: reject ?? NaN, categories, incident_types };
  if (errors.length) return { ok: false, errors };
  const more = validateSettings(settings);
  return more.length ? { ok: false, errors: more } : { ok: true, settings };
}

function inUnit(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= 1;
}

/** The server's checks of a settings object (src/intel/triage.cpp validate), every failure by path. */
export function validateSettings(s: TriageSettings): SettingsError[] {
  const errors: SettingsError[] = [];
  if (!inUnit(s.approve)) errors.push({ path: 'approve', message: 'must be a number in [0, 1]' });
  if (!inUnit(s.reject)) errors.push({ path: 'reject', message: 'must be a number in [0, 1]' });
  if (!errors.length && s.reject > s.approve) errors.push({ path: 'reject', message: `${s.reject} is above approve ${s.approve}` });
  const sections: [string, Record<string, TriageOverride>][] = [
    ['categories', s.categories ?? {}],
    ['incident_types', s.incident_types ?? {}],
  ];
  for (const [section, entries] of sections) {
    for (const [name, o] of Object.entries(entries)) {
      const path = `${section}.${name}`;
      if (!NAME_RE.test(name)) errors.push({ path, message: "name must be 1-64 lower-case letters, digits, ' ', '_' or '-'" });
      if (o.approve !== undefined && !inUnit(o.approve)) errors.push({ path: `${path}.approve`, message: 'must be a number in [0, 1]' });
      if (o.reject !== undefined && !inUnit(o.reject)) errors.push({ path: `${path}.reject`, message: 'must be a number in [0, 1]' });
      if (o.required_fields !== undefined) {
        if (section !== 'incident_types') errors.push({ path: `${path}.required_fields`, message: 'unknown key' });
        const seen = new Set<string>();
        for (const f of o.required_fields) {
          if (!TRIAGE_FIELDS.includes(f)) errors.push({ path: `${path}.required_fields`, message: `unknown field '${f}'` });
          else if (seen.has(f)) errors.push({ path: `${path}.required_fields`, message: `'${f}' listed twice` });
          seen.add(f);
        }
      }
    }
  }
  if (errors.length) return errors;
  // Each threshold resolves on its own (type, else category, else default), so
  // every pairing must keep reject <= approve; one message per failing pairing.
  const cats: [string, TriageOverride | null][] = [['', null], ...Object.entries(s.categories ?? {}).map(([n, o]): [string, TriageOverride] => [`categories.${n}`, o])];
  const types: [string, TriageOverride | null][] = [
    ['', null],
    ...Object.entries(s.incident_types ?? {}).map(([n, o]): [string, TriageOverride] => [`incident_types.${n}`, o]),
  ];
  for (const [catPath, cat] of cats) {
    for (const [typePath, type] of types) {
      let approve = s.approve;
      let reject = s.reject;
      if (cat?.approve !== undefined) approve = cat.approve;
      if (cat?.reject !== undefined) reject = cat.reject;
      if (type?.approve !== undefined) approve = type.approve;
      if (type?.reject !== undefined) reject = type.reject;
      if (reject > approve) {
        const where = typePath === '' ? catPath : catPath === '' ? typePath : `${typePath} with ${catPath}`;
        errors.push({ path: where, message: `resolves to reject ${reject} above approve ${approve}` });
      }
    }
  }
  return errors;
}

/** The order-independent text of settings, to tell whether a draft differs from what is saved. */
export function canonicalSettings(s: Partial<TriageSettings>): string {
  const sortObj = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortObj);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortObj((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  const norm = {
    approve: s.approve,
    reject: s.reject,
    categories: s.categories ?? {},
    incident_types: Object.fromEntries(
      Object.entries(s.incident_types ?? {}).filter(([, o]) => o.approve !== undefined || o.reject !== undefined || (o.required_fields?.length ?? 0) > 0),
    ),
  };
  return JSON.stringify(sortObj(norm));
}

/** The server's 400 text split into the path and the reason: "settings.categories.crime.approve: x" -> path without "settings.". */
export function serverErrorPath(message: string): string | null {
  const m = /^settings\.([^:]+):/.exec(message);
  return m ? m[1]!.trim() : null;
}
