import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatSchedule, parseSchedule, relativeTime } from '../src/admin/schedule.js';
import {
  canonicalSettings,
  draftFromSettings,
  errorText,
  serverErrorPath,
  settingsFromDraft,
  type TriageDraft,
  validateSettings,
} from '../src/admin/triage.js';
import type { TriageSettings } from '../src/admin/types.js';

const SAVED: TriageSettings = {
  approve: 0.85,
  reject: 0.5,
  categories: { enforcement: { approve: 0.9 }, crime: { approve: 0.85 } },
  incident_types: { shooting: { required_fields: ['place', 'date'] }, arson: { approve: 0.8, reject: 0.3 } },
};

function messages(d: TriageDraft): string[] {
  const r = settingsFromDraft(d);
  assert.equal(r.ok, false, 'the draft is refused');
  return r.ok ? [] : r.errors.map(errorText);
}

describe('triage settings draft', () => {
  it('drafts saved settings: categories by name, a row per known type plus the saved ones', () => {
    const d = draftFromSettings(SAVED, ['shooting', 'homicide']);
    assert.equal(d.approve, '0.85');
    assert.equal(d.reject, '0.5');
    assert.deepEqual(
      d.categories.map((c) => [c.name, c.approve, c.reject]),
      [
        ['crime', '0.85', ''],
        ['enforcement', '0.9', ''],
      ],
    );
    assert.deepEqual(
      d.types.map((t) => [t.name, t.approve, t.reject, t.required.join(',')]),
      [
        ['shooting', '', '', 'place,date'],
        ['homicide', '', '', ''],
        ['arson', '0.8', '0.3', ''],
      ],
    );
  });

  it('round-trips to the exact JSON the server takes, leaving out types without overrides', () => {
    const r = settingsFromDraft(draftFromSettings(SAVED, ['shooting', 'homicide', 'arson']));
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      approve: 0.85,
      reject: 0.5,
      categories: { crime: { approve: 0.85 }, enforcement: { approve: 0.9 } },
      incident_types: { shooting: { required_fields: ['place', 'date'] }, arson: { approve: 0.8, reject: 0.3 } },
    });
    assert.equal(canonicalSettings(r.settings), canonicalSettings(SAVED), 'order does not matter');
  });

  it('turns edits into settings: a new category, a type threshold, a required field', () => {
    const d = draftFromSettings({ approve: 0.85, reject: 0.5 }, ['shooting']);
    d.categories.push({ name: 'unrest', approve: '0.95', reject: '', required: [] });
    d.types[0]!.reject = '0.2';
    d.types[0]!.required.push('coordinates');
    const r = settingsFromDraft(d);
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      approve: 0.85,
      reject: 0.5,
      categories: { unrest: { approve: 0.95 } },
      incident_types: { shooting: { reject: 0.2, required_fields: ['coordinates'] } },
    });
    assert.notEqual(canonicalSettings(r.settings), canonicalSettings({ approve: 0.85, reject: 0.5 }));
  });

  it('keeps an added category without values (an explicit, empty override)', () => {
    const d = draftFromSettings({ approve: 0.8, reject: 0.4 });
    d.categories.push({ name: 'crime', approve: '', reject: '', required: [] });
    const r = settingsFromDraft(d);
    assert.ok(r.ok);
    assert.deepEqual(r.settings.categories, { crime: {} });
  });

  it('refuses numbers outside [0, 1] and text that is no number, by path', () => {
    const d = draftFromSettings(SAVED, ['shooting']);
    d.approve = '1.2';
    d.categories[0]!.reject = 'abc';
    d.types[0]!.approve = '-0.1';
    assert.deepEqual(messages(d), [
      'approve: must be a number in [0, 1]',
      'categories.crime.reject: must be a number in [0, 1]',
      'incident_types.shooting.approve: must be a number in [0, 1]',
    ]);
  });

  it('needs both defaults', () => {
    const d = draftFromSettings(SAVED);
    d.reject = ' ';
    assert.deepEqual(messages(d), ['reject: must be a number in [0, 1]']);
  });

  it('refuses reject above approve, for the defaults and every category x type pairing', () => {
    const d = draftFromSettings({ approve: 0.6, reject: 0.7 });
    assert.deepEqual(messages(d), ['reject: 0.7 is above approve 0.6']);

    const pair = draftFromSettings({ approve: 0.85, reject: 0.5, categories: { crime: { approve: 0.6 } }, incident_types: { arson: { reject: 0.65 } } }, []);
    assert.deepEqual(messages(pair), ['incident_types.arson with categories.crime: resolves to reject 0.65 above approve 0.6']);

    const cat = draftFromSettings({ approve: 0.85, reject: 0.5, categories: { crime: { reject: 0.9 } } });
    assert.deepEqual(messages(cat), ['categories.crime: resolves to reject 0.9 above approve 0.85']);

    const equal = draftFromSettings({ approve: 0.7, reject: 0.7 });
    assert.ok(settingsFromDraft(equal).ok, 'reject == approve is allowed');
  });

  it('refuses bad and duplicate names, unknown and repeated fields', () => {
    const d = draftFromSettings({ approve: 0.8, reject: 0.4 });
    d.categories.push({ name: 'Crime!', approve: '', reject: '', required: [] });
    d.categories.push({ name: 'unrest', approve: '', reject: '', required: [] });
    d.categories.push({ name: 'unrest', approve: '', reject: '', required: [] });
    assert.deepEqual(messages(d), [
      "categories.Crime!: name must be 1-64 lower-case letters, digits, ' ', '_' or '-'",
      'categories.unrest: listed twice',
    ]);
    const s: TriageSettings = { approve: 0.8, reject: 0.4, incident_types: { theft: { required_fields: ['place', 'shoe size', 'place'] } } };
    assert.deepEqual(validateSettings(s).map(errorText), [
      "incident_types.theft.required_fields: unknown field 'shoe size'",
      "incident_types.theft.required_fields: 'place' listed twice",
    ]);
    assert.deepEqual(validateSettings({ approve: 0.8, reject: 0.4, categories: { crime: { required_fields: ['place'] } } }).map(errorText), [
      'categories.crime.required_fields: unknown key',
    ]);
  });

  it('drafts an empty or odd answer without throwing', () => {
    const d = draftFromSettings(null, ['shooting']);
    assert.deepEqual(d, { approve: '', reject: '', categories: [], types: [{ name: 'shooting', approve: '', reject: '', required: [] }] });
    const odd = draftFromSettings({ approve: 0.8, reject: 0.4, incident_types: { theft: { required_fields: 'place' as unknown as string[] } } });
    assert.deepEqual(odd.types[0]!.required, []);
  });

  it("reads the path from the server's 400 text", () => {
    assert.equal(serverErrorPath('settings.categories.crime.approve: must be a number in [0, 1]'), 'categories.crime.approve');
    assert.equal(serverErrorPath('settings.incident_types.arson with categories.crime: resolves to reject 0.7 above approve 0.6'), 'incident_types.arson with categories.crime');
    assert.equal(serverErrorPath('settings: expected an object'), null);
  });
});

describe('feed schedule', () => {
  it('converts the amount and unit to seconds', () => {
    assert.deepEqual(parseSchedule('90', 'minutes'), { ok: true, seconds: 5400 });
    assert.deepEqual(parseSchedule(' 2 ', 'hours'), { ok: true, seconds: 7200 });
    assert.deepEqual(parseSchedule('30', 'days'), { ok: true, seconds: 2592000 });
    assert.deepEqual(parseSchedule('1', 'minutes'), { ok: true, seconds: 60 });
  });

  it('refuses what the server would: below a minute, above 30 days, not a whole number, unknown unit', () => {
    assert.deepEqual(parseSchedule('0', 'minutes'), { ok: false, error: 'schedule: at least 1 minute' });
    assert.deepEqual(parseSchedule('31', 'days'), { ok: false, error: 'schedule: at most 30 days' });
    assert.deepEqual(parseSchedule('721', 'hours'), { ok: false, error: 'schedule: at most 30 days' });
    assert.deepEqual(parseSchedule('1.5', 'hours'), { ok: false, error: 'schedule: expected a whole number' });
    assert.deepEqual(parseSchedule('', 'hours'), { ok: false, error: 'schedule: expected a whole number' });
    assert.deepEqual(parseSchedule('-5', 'hours'), { ok: false, error: 'schedule: expected a whole number' });
    assert.equal(parseSchedule('5', 'weeks').ok, false);
  });

  it('says a schedule in its largest whole unit', () => {
    assert.equal(formatSchedule(3600), '1 h');
    assert.equal(formatSchedule(5400), '90 min');
    assert.equal(formatSchedule(86400 * 2), '2 d');
    assert.equal(formatSchedule(90), '90 s');
    assert.equal(formatSchedule(0), '–');
  });

  it('says how far a time is', () => {
    const now = 1_700_000_000_000;
    assert.equal(relativeTime(now + 300000, now), 'in 5 min');
    assert.equal(relativeTime(now - 3 * 3600000, now), '3 h ago');
    assert.equal(relativeTime(now - 20000, now), '20 s ago');
    assert.equal(relativeTime(now + 200, now), 'now');
    assert.equal(relativeTime(null, now), '');
  });
});
