import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { barPercent, countBy, countsToShow, totalOf } from '../src/incidents/counts.js';
import { emptyFilter, filterBounds, filterErrors, filterFromParams, filterToParams, incidentsPath } from '../src/incidents/filters.js';
import {
  dayStart,
  dedupText,
  failureText,
  formatConfidence,
  formatDate,
  formatTime,
  formatWhen,
  nextDayStart,
  parseDate,
  parseDateTimeLocal,
  toDateTimeLocal,
  utcOffset,
  viaText,
  type OffsetFn,
} from '../src/incidents/format.js';
import { dayStarts, shownAt, TimelineState, timelineDays } from '../src/incidents/timeline.js';
import type { IncidentSummary } from '../src/incidents/types.js';

/** US Central time with the 2024 DST change (10 March 08:00 UTC) for the day arithmetic. */
const central: OffsetFn = (ms) => (ms >= Date.UTC(2024, 2, 10, 8) && ms < Date.UTC(2024, 10, 3, 7) ? -300 : -360);

function inc(id: number, time: number | null, over: Partial<IncidentSummary> = {}): IncidentSummary {
  return { id, type: 'shooting', time, place: '', lat: 41.8, lon: -87.6, district: 'ENGLEWOOD', status: 'open', confidence: 0.9, sources: 1, ...over };
}

const D = (d: number, h = 12) => Date.UTC(2024, 2, d, h);

describe('intel formatting', () => {
  it('formats and parses times in a given zone', () => {
    assert.equal(formatDate(D(5, 3), utcOffset), '2024-03-05');
    assert.equal(formatDate(D(5, 3), central), '2024-03-04');
    assert.equal(formatTime(D(5, 3), central), '2024-03-04 21:00');
    assert.equal(formatTime(null), '–');
    assert.equal(toDateTimeLocal(D(5, 3), central), '2024-03-04T21:00');
    assert.equal(parseDateTimeLocal('2024-03-04T21:00', central), D(5, 3));
    assert.equal(parseDateTimeLocal('2024-03-04 21:00:30', utcOffset), Date.UTC(2024, 2, 4, 21, 0, 30));
    assert.equal(parseDateTimeLocal('2024-03-04T25:00', utcOffset), null);
    assert.equal(parseDate('2024-03-05', central), Date.UTC(2024, 2, 5, 6));
    assert.equal(parseDate('2024-13-01', utcOffset), null);
    assert.equal(parseDate('5 March', utcOffset), null);
  });

  it('steps days across a DST change', () => {
    const d9 = parseDate('2024-03-09', central)!;
    const d10 = nextDayStart(d9, central);
    const d11 = nextDayStart(d10, central);
    assert.equal(d10, Date.UTC(2024, 2, 10, 6));
    assert.equal(d11, Date.UTC(2024, 2, 11, 5)); // 23-hour day
    assert.equal(dayStart(D(10, 20), central), d10);
  });

  it('writes the time as precise as it is known', () => {
    assert.equal(formatWhen(D(5), 'day', utcOffset), '2024-03-05');
    assert.equal(formatWhen(D(5), 'approx', utcOffset), 'about 2024-03-05');
    assert.equal(formatWhen(D(5), 'exact', utcOffset), '2024-03-05 12:00');
    assert.equal(formatWhen(null, 'exact'), 'unknown');
    assert.equal(formatConfidence(0.725), '0.72');
    assert.equal(formatConfidence(null), '–');
  });

  it('says how dedup matched', () => {
    assert.equal(dedupText({ rule: 'none', article: null, incident: null, score: 0 }), 'new (no earlier article matched)');
    assert.equal(dedupText({ rule: 'title', article: 3, incident: 9, score: 0.934 }), 'similar title (score 0.93): matched article 3, incident 9');
    assert.equal(dedupText({ rule: 'canonical_url', article: 4, incident: null, score: 1 }), 'same canonical URL (score 1.00): matched article 4');
    assert.equal(viaText('none'), 'first report');
    assert.equal(viaText('entity'), 'same date, place and actors');
    assert.equal(viaText('other'), 'other');
  });

  it('names what failed', () => {
    const e = Object.assign(new Error('reason: required'), { status: 400 });
    assert.equal(failureText('Reject item 7', e), 'Reject item 7 failed (400): reason: required');
    assert.equal(failureText('Load the incidents', new Error('no answer in 5000 ms')), 'Load the incidents failed: no answer in 5000 ms');
  });
});

describe('incident filters', () => {
  it('builds the query of every filter', () => {
    assert.equal(incidentsPath(emptyFilter(), 500, 0, utcOffset), 'v1/intel/incidents?limit=500&offset=0');
    const f = { from: '2024-03-01', to: '2024-03-03', types: ['shooting', 'robbery', 'shooting'], districts: ['WEST TOWN'], statuses: ['open'] };
    assert.equal(
      incidentsPath(f, 500, 0, utcOffset),
      `v1/intel/incidents?from=${Date.UTC(2024, 2, 1)}&to=${Date.UTC(2024, 2, 4) - 1}&type=shooting,robbery&district=WEST%20TOWN&status=open&limit=500&offset=0`,
    );
    assert.deepEqual(filterBounds(f, central), { from: Date.UTC(2024, 2, 1, 6), to: Date.UTC(2024, 2, 4, 6) });
  });

  it('checks the dates', () => {
    assert.deepEqual(filterErrors({ ...emptyFilter(), from: '2024-03-05', to: '2024-03-01' }, utcOffset), ['from is after to']);
    assert.deepEqual(filterErrors({ ...emptyFilter(), from: '03/05/2024' }, utcOffset), ['from: "03/05/2024" is not a date (YYYY-MM-DD)']);
    assert.deepEqual(filterErrors({ ...emptyFilter(), from: '2024-03-05', to: '2024-03-05' }, utcOffset), []);
  });

  it('keeps the filter in the fragment', () => {
    const f = { from: '2024-03-01', to: '', types: ['arson'], districts: ['LOOP', 'NEAR NORTH SIDE'], statuses: [] };
    const p = filterToParams(f);
    assert.equal(p.toString(), 'from=2024-03-01&type=arson&district=LOOP%2CNEAR+NORTH+SIDE');
    assert.deepEqual(filterFromParams(new URLSearchParams(p.toString())), f);
    assert.deepEqual(filterFromParams(new URLSearchParams('token=x&district=loop')).districts, ['LOOP']);
  });
});

describe('timeline', () => {
  it('lists the days of the filter, else of the incidents', () => {
    assert.deepEqual(dayStarts(D(1), D(3), utcOffset), [Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 2), Date.UTC(2024, 2, 3)]);
    assert.deepEqual(dayStarts(D(3), D(1), utcOffset), []);
    const bounds = { from: Date.UTC(2024, 2, 1), to: Date.UTC(2024, 2, 6) };
    assert.equal(timelineDays(bounds, [], utcOffset).length, 5);
    assert.deepEqual(timelineDays({ from: null, to: null }, [D(4), null, D(2)], utcOffset), [Date.UTC(2024, 2, 2), Date.UTC(2024, 2, 3), Date.UTC(2024, 2, 4)]);
    assert.deepEqual(timelineDays({ from: null, to: null }, [null], utcOffset), []);
  });

  it('shows the incidents up to the end of the shown day', () => {
    const items = [inc(1, D(1, 23)), inc(2, D(2, 0)), inc(3, D(3)), inc(4, null)];
    const days = dayStarts(D(1), D(3), utcOffset);
    assert.deepEqual(shownAt(items, days, 0, utcOffset).map((i) => i.id), [1]);
    assert.deepEqual(shownAt(items, days, 1, utcOffset).map((i) => i.id), [1, 2]);
    assert.deepEqual(shownAt(items, days, 2, utcOffset).map((i) => i.id), [1, 2, 3, 4]);
    assert.deepEqual(shownAt(items, [], 0, utcOffset).map((i) => i.id), [1, 2, 3, 4]);
  });

  it('plays from the start, steps a day at a time and stops at the end', () => {
    const t = new TimelineState(3);
    assert.equal(t.index, 2);
    assert.equal(t.atEnd, true);
    assert.equal(t.play(), true);
    assert.equal(t.index, 0);
    assert.equal(t.step(), true);
    assert.equal(t.index, 1);
    assert.equal(t.step(), false);
    assert.equal(t.index, 2);
    assert.equal(t.playing, false);
    assert.equal(t.step(), false);
    assert.equal(t.index, 2);
  });

  it('pauses and seeks', () => {
    const t = new TimelineState(5);
    t.play();
    t.step();
    t.pause();
    assert.equal(t.step(), false);
    assert.equal(t.index, 1);
    assert.equal(t.play(), true); // not at the end: resumes where it is
    assert.equal(t.index, 1);
    t.seek(9);
    assert.equal(t.index, 4);
    assert.equal(t.playing, false);
    t.seek(-2);
    assert.equal(t.index, 0);
    t.reset(1);
    assert.equal(t.play(), false);
  });
});

describe('incident counts', () => {
  it('counts by key, most first then by name', () => {
    const items = [inc(1, 0, { type: 'robbery' }), inc(2, 0), inc(3, 0), inc(4, 0, { type: 'arson', district: '' })];
    assert.deepEqual(countBy(items, (i) => i.type), [
      ['shooting', 2],
      ['arson', 1],
      ['robbery', 1],
    ]);
    assert.deepEqual(countBy(items, (i) => i.district), [
      ['ENGLEWOOD', 3],
      ['(none)', 1],
    ]);
    assert.equal(totalOf([['a', 2], ['b', 3]]), 5);
    assert.equal(barPercent(1, [['a', 4], ['b', 1]]), 25);
    assert.equal(barPercent(0, []), 0);
  });

  it("takes the server's counts for the whole set, its own for a timeline day", () => {
    const server = { by_type: [['robbery', 1], ['shooting', 40]] as [string, number][], by_district: [['LOOP', 41]] as [string, number][] };
    const shown = [inc(1, 0)];
    const all = countsToShow(server, shown, true);
    assert.equal(all.fromServer, true);
    assert.deepEqual(all.byType[0], ['shooting', 40]);
    const day = countsToShow(server, shown, false);
    assert.equal(day.fromServer, false);
    assert.deepEqual(day.byType, [['shooting', 1]]);
    assert.deepEqual(countsToShow(null, shown, true).byDistrict, [['ENGLEWOOD', 1]]);
  });
});
