import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { actorsText, changedFields, diffCorrections, fieldValue, formFromFields, parseActors } from '../src/curation/corrections.js';
import type { ExtractedFields } from '../src/curation/types.js';
import { curationPath, keyCommand, moveSelection, pageLabel, pageOffset, reselect } from '../src/curation/query.js';
import { utcOffset } from '../src/incidents/format.js';
import { roleAllows, roleMessage } from '../src/nav.js';

// Synthetic extraction: descriptions, not names.
function fields(over: Partial<ExtractedFields> = {}): ExtractedFields {
  return {
    type: 'shooting',
    time: Date.UTC(2024, 2, 5, 22, 30),
    time_precision: 'exact',
    time_text: 'Tuesday night',
    place: 'W 63rd St',
    qualified: 'CHICAGO: ENGLEWOOD: W 63RD ST',
    lat: 41.7795,
    lon: -87.6441,
    district: 'ENGLEWOOD',
    place_precision: 'street',
    actors: [{ role: 'victim', description: 'man, 34' }],
    perpetrator_org: '',
    targets: [],
    evidence: 'A man, 34, was shot on Tuesday night.',
    ...over,
  };
}

const keyEv = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('curation queue requests and paging', () => {
  it('builds the queue path with state, limit and offset', () => {
    assert.equal(curationPath('open', 50, 0), 'v1/intel/curation?state=open&limit=50&offset=0');
    assert.equal(curationPath('any', 20, 40), 'v1/intel/curation?state=any&limit=20&offset=40');
    assert.equal(curationPath('bogus' as 'open', 0, -3), 'v1/intel/curation?state=open&limit=1&offset=0');
  });

  it('labels and clamps pages', () => {
    assert.equal(pageLabel(0, 50, 120), '1–50 of 120');
    assert.equal(pageLabel(100, 20, 120), '101–120 of 120');
    assert.equal(pageLabel(0, 0, 0), '0 of 0');
    assert.equal(pageOffset(0, 1, 50, 120), 50);
    assert.equal(pageOffset(100, 1, 50, 120), 100);
    assert.equal(pageOffset(50, -2, 50, 120), 0);
    assert.equal(pageOffset(0, 1, 50, 0), 0);
    assert.equal(pageOffset(0, 1, 50, 100), 50);
    assert.equal(pageOffset(50, 1, 50, 100), 50);
  });

  it('reselects the same item, else the one that took its place', () => {
    assert.equal(reselect([1, 2, 3], 2, 1), 2);
    assert.equal(reselect([1, 3, 4], 2, 1), 3); // 2 was decided: the next in line
    assert.equal(reselect([1], 9, 5), 1);
    assert.equal(reselect([], 1, 0), null);
    assert.equal(reselect([5, 6], null, 0), 5);
  });
});

describe('curation keys', () => {
  it('maps j/k/a/r and arrows, not in text fields or with modifiers', () => {
    assert.equal(keyCommand(keyEv('j'), false), 'next');
    assert.equal(keyCommand(keyEv('k'), false), 'prev');
    assert.equal(keyCommand(keyEv('ArrowDown'), false), 'next');
    assert.equal(keyCommand(keyEv('a'), false), 'approve');
    assert.equal(keyCommand(keyEv('r'), false), 'reject');
    assert.equal(keyCommand(keyEv('a'), true), null);
    assert.equal(keyCommand(keyEv('r', { ctrlKey: true }), false), null);
    assert.equal(keyCommand(keyEv('Escape'), true), 'escape');
    assert.equal(keyCommand(keyEv('x'), false), null);
  });

  it('moves the selection within the list', () => {
    assert.equal(moveSelection([4, 5, 6], null, 1), 4);
    assert.equal(moveSelection([4, 5, 6], 4, 1), 5);
    assert.equal(moveSelection([4, 5, 6], 6, 1), 6);
    assert.equal(moveSelection([4, 5, 6], 4, -1), 4);
    assert.equal(moveSelection([4, 5, 6], 99, -1), 4);
    assert.equal(moveSelection([], 1, 1), null);
  });
});

describe('corrections', () => {
  it('shows the fields as text', () => {
    const form = formFromFields(fields({ targets: ['bus shelter', 'parked car'] }), utcOffset);
    assert.equal(form.time, '2024-03-05T22:30');
    assert.equal(form.lat, '41.7795');
    assert.equal(form.actors, 'victim: man, 34');
    assert.equal(form.targets, 'bus shelter\nparked car');
    assert.equal(formFromFields(fields({ time: null, lat: null }), utcOffset).time, '');
    assert.equal(formFromFields(fields({ time: null, lat: null }), utcOffset).lat, '');
  });

  it('sends nothing for an untouched form', () => {
    const f = fields();
    const form = formFromFields(f, utcOffset);
    assert.deepEqual(changedFields(f, form, utcOffset), []);
    assert.deepEqual(diffCorrections(f, form, utcOffset), { corrections: {}, errors: [] });
  });

  it('sends only the changed fields, typed', () => {
    const f = fields();
    const form = formFromFields(f, utcOffset);
    form.type = 'robbery';
    form.lat = '41.78';
    form.time = '2024-03-04T21:00';
    form.actors = 'victim: man, 34\nsuspect:  woman, 20 ';
    form.district = 'west englewood';
    const { corrections, errors } = diffCorrections(f, form, utcOffset);
    assert.deepEqual(errors, []);
    assert.deepEqual(corrections, {
      type: 'robbery',
      time: Date.UTC(2024, 2, 4, 21, 0),
      district: 'WEST ENGLEWOOD',
      lat: 41.78,
      actors: [
        { role: 'victim', description: 'man, 34' },
        { role: 'suspect', description: 'woman, 20' },
      ],
    });
  });

  it('ignores whitespace and case that change nothing', () => {
    const f = fields();
    const form = formFromFields(f, utcOffset);
    form.actors = '  victim: man, 34  \n\n';
    form.district = 'englewood';
    assert.deepEqual(changedFields(f, form, utcOffset), []);
  });

  it('names every invalid field', () => {
    const f = fields();
    const form = formFromFields(f, utcOffset);
    form.lat = '95';
    form.lon = 'west';
    form.time = '2024-02-30T10:00';
    form.actors = 'bystander: man, 50\nvictim:';
    const { corrections, errors } = diffCorrections(f, form, utcOffset);
    assert.deepEqual(corrections, {});
    assert.equal(errors.length, 4);
    assert.match(errors.join('\n'), /time: "2024-02-30T10:00" is not a date/);
    assert.match(errors.join('\n'), /latitude: "95" is not a number between -90 and 90/);
    assert.match(errors.join('\n'), /longitude: "west"/);
    assert.match(errors.join('\n'), /actors line 1: the role must be one of/);
    assert.match(errors.join('\n'), /actors line 2: the description is empty/);
  });

  it('clears a coordinate or time to null', () => {
    assert.deepEqual(fieldValue('lat', ' '), { value: null });
    assert.deepEqual(fieldValue('time', ''), { value: null });
    assert.deepEqual(fieldValue('targets', 'a\n\n b '), { value: ['a', 'b'] });
    assert.ok('error' in fieldValue('type', ''));
  });

  it('round-trips actors', () => {
    const actors = [
      { role: 'officer', description: 'two officers' },
      { role: 'witness', description: 'neighbour' },
    ];
    assert.deepEqual(parseActors(actorsText(actors)), { actors, errors: [] });
  });
});

describe('roles', () => {
  it('orders analyst < curator < admin', () => {
    assert.equal(roleAllows('analyst', 'curator'), false);
    assert.equal(roleAllows('curator', 'curator'), true);
    assert.equal(roleAllows('admin', 'curator'), true);
    assert.equal(roleAllows('curator', 'analyst'), true);
    assert.equal(roleAllows('guest', 'analyst'), false);
    assert.equal(roleAllows(null, 'analyst'), false);
  });

  it('explains the curator role to an analyst', () => {
    const m = roleMessage('curation', { name: 'desk-7', role: 'analyst' }, 'role analyst may not curate');
    assert.match(m, /^Curation needs the curator role \(or admin\)\./);
    assert.match(m, /This token \(desk-7\) has the analyst role; the server answered 403: role analyst may not curate\./);
    assert.match(m, /you can open Command centre or Incidents\.$/);
    assert.match(roleMessage('curation', null, ''), /This token lacks it; the server answered 403\./);
  });
});
