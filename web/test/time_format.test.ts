import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { clock, formatAge, formatCount, formatMs, formatSla, slaState } from '../src/time_format.js';

const due = Date.parse('2026-03-02T22:01:00.000Z');
const open = { acked_at: null, ack_late: false };

describe('SLA countdown', () => {
  it('counts down in whole seconds, rounding up', () => {
    assert.deepEqual(formatSla(slaState(open, due, due - 60000)), { text: '1:00', cls: 'sla-due' });
    assert.deepEqual(formatSla(slaState(open, due, due - 59001)), { text: '1:00', cls: 'sla-due' });
    assert.deepEqual(formatSla(slaState(open, due, due - 59000)), { text: '0:59', cls: 'sla-due' });
    assert.deepEqual(formatSla(slaState(open, due, due - 15000)), { text: '0:15', cls: 'sla-soon' });
    assert.deepEqual(formatSla(slaState(open, due, due - 300000)), { text: '5:00', cls: 'sla-due' });
  });

  it('reads 0:00 at the due instant and "overdue +m:ss" after it', () => {
    assert.equal(formatSla(slaState(open, due, due)).text, '0:00');
    assert.deepEqual(formatSla(slaState(open, due, due + 1)), { text: 'overdue +0:00', cls: 'sla-overdue' });
    assert.equal(formatSla(slaState(open, due, due + 65999)).text, 'overdue +1:05');
    assert.equal(formatSla(slaState(open, due, due + 3723000)).text, 'overdue +1:02:03');
  });

  it('says acked / acked late once acknowledged, whatever the clock', () => {
    const acked = { acked_at: '2026-03-02T22:00:30.000Z', ack_late: false };
    const late = { acked_at: '2026-03-02T22:02:00.000Z', ack_late: true };
    assert.deepEqual(formatSla(slaState(acked, due, due + 999999)), { text: 'acked', cls: 'sla-acked' });
    assert.deepEqual(formatSla(slaState(late, due, due)), { text: 'acked late', cls: 'sla-late' });
  });

  it('has no countdown without a due time (P3, trend watch)', () => {
    assert.deepEqual(formatSla(slaState(open, null, due)), { text: 'no SLA', cls: 'sla-none' });
  });
});

describe('formats', () => {
  it('clock', () => {
    assert.equal(clock(0), '0:00');
    assert.equal(clock(61), '1:01');
    assert.equal(clock(3600), '1:00:00');
    assert.equal(clock(90061), '1d 1:01:01');
    assert.equal(clock(-5), '0:00');
  });

  it('age', () => {
    assert.equal(formatAge(-2000), '0s');
    assert.equal(formatAge(59999), '59s');
    assert.equal(formatAge(60000), '1m');
    assert.equal(formatAge(3 * 3600000 + 2 * 60000), '3h 02m');
    assert.equal(formatAge(50 * 3600000), '2d 2h');
    assert.equal(formatAge(NaN), '–');
  });

  it('latency and counts', () => {
    assert.equal(formatMs(0.4213), '0.42');
    assert.equal(formatMs(12.34), '12.3');
    assert.equal(formatMs(480.4), '480');
    assert.equal(formatMs(12345), '12.3 s');
    assert.equal(formatMs(null), '–');
    assert.equal(formatCount(1234567), '1\u2009234\u2009567');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(-1000), '-1\u2009000');
  });

});
