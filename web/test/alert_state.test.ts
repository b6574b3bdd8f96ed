import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AlertState, compareEntries, makeEntry, mergeAlert } from '../src/alert_state.js';
import { alert } from './fixtures.js';

const ids = (entries: { alert: { alert_id: string } }[]) => entries.map((e) => e.alert.alert_id);

describe('queue order', () => {
  it('orders by priority, then score, then newest received_at, then smaller id', () => {
    const list = [
      alert({ alert_id: 'a-08', priority: 'P3', score: 0.99 }),
      alert({ alert_id: 'a-07', priority: 'P1', score: 0.7, received_at: '2026-03-02T22:00:01.000Z' }),
      alert({ alert_id: 'a-06', priority: 'P1', score: 0.7, received_at: '2026-03-02T22:00:02.000Z' }),
      alert({ alert_id: 'a-05', priority: 'P1', score: 0.8 }),
      alert({ alert_id: 'a-04', priority: 'P0', score: 0.86 }),
      alert({ alert_id: 'a-03', priority: 'P1', score: 0.7, received_at: '2026-03-02T22:00:02.000Z' }),
      alert({ alert_id: 'a-02', priority: 'P2', score: 0.5 }),
    ].map(makeEntry);
    list.sort(compareEntries);
    assert.deepEqual(ids(list), ['a-04', 'a-05', 'a-03', 'a-06', 'a-07', 'a-02', 'a-08']);
  });

  it('compares received_at as instants, not as text (milliseconds, offsets)', () => {
    const a = makeEntry(alert({ alert_id: 'a-1', received_at: '2026-03-02T22:00:01.900Z' }));
    const b = makeEntry(alert({ alert_id: 'a-2', received_at: '2026-03-02T23:00:01.000+01:00' })); // 22:00:01.000Z
    assert.ok(compareEntries(a, b) < 0, 'the later instant comes first');
  });
});

describe('AlertState', () => {
  it('applies a snapshot, then changes in order, skipping replays at or below the last seq', () => {
    const s = new AlertState();
    const r0 = s.applySnapshot(10, [alert({ alert_id: 'a-1' }), alert({ alert_id: 'a-2', priority: 'P0', score: 0.9 })]);
    assert.equal(r0.reset, true);
    assert.equal(s.seq, 10);
    assert.deepEqual(ids(s.sorted().alerts), ['a-2', 'a-1']);

    const r1 = s.applyChanges([
      { seq: 9, kind: 'new', alert: alert({ alert_id: 'a-old' }) }, // already in the snapshot's view
      { seq: 11, kind: 'new', alert: alert({ alert_id: 'a-3', priority: 'P2', score: 0.5 }) },
      { seq: 12, kind: 'update', alert: alert({ alert_id: 'a-1', priority: 'P0', score: 0.95, revision: 2, count: 2 }) },
      { seq: 13, kind: 'evict', alert: alert({ alert_id: 'a-2' }) },
    ]);
    assert.equal(s.seq, 13);
    assert.equal(s.gaps, 0);
    assert.equal(s.get('a-old'), undefined);
    assert.deepEqual([...r1.changed].sort(), ['a-1', 'a-3']);
    assert.deepEqual([...r1.removed], ['a-2']);
    assert.deepEqual(ids(s.sorted().alerts), ['a-1', 'a-3']);
    assert.equal(s.get('a-1')?.alert.count, 2);

    // A resume that re-sends 12..14 applies only 14.
    s.applyChanges([
      { seq: 12, kind: 'update', alert: alert({ alert_id: 'a-1', revision: 2, count: 99 }) },
      { seq: 14, kind: 'ack', alert: alert({ alert_id: 'a-3', priority: 'P2', score: 0.5, acked_at: '2026-03-02T22:01:00.000Z', acked_by: 'e2e' }) },
    ]);
    assert.equal(s.get('a-1')?.alert.count, 2);
    assert.equal(s.get('a-3')?.alert.acked_by, 'e2e');
    assert.equal(s.seq, 14);
  });

  it('recognises changes from a restarted server (a sequence at or below ours)', () => {
    const s = new AlertState();
    assert.equal(s.isFromOtherSequence([{ seq: 1, kind: 'new', alert: alert({ alert_id: 'a-1' }) }]), false, 'before any snapshot');
    s.applySnapshot(40, []);
    assert.equal(s.isFromOtherSequence([{ seq: 41, kind: 'new', alert: alert({ alert_id: 'a-1' }) }]), false);
    assert.equal(s.isFromOtherSequence([{ seq: 3, kind: 'new', alert: alert({ alert_id: 'a-1' }) }]), true);
    assert.equal(s.isFromOtherSequence([]), false);
  });

  it('counts a gap in the sequence', () => {
    const s = new AlertState();
    s.applySnapshot(5, []);
    s.applyChanges([{ seq: 8, kind: 'new', alert: alert({ alert_id: 'a-1' }) }]);
    assert.equal(s.gaps, 1);
    assert.equal(s.seq, 8);
  });

  it('a reset snapshot replaces everything and reports what went', () => {
    const s = new AlertState();
    s.applySnapshot(3, [alert({ alert_id: 'a-1' }), alert({ alert_id: 'a-2' })]);
    const r = s.applySnapshot(900, [alert({ alert_id: 'a-2' }), alert({ alert_id: 'a-9' })]);
    assert.deepEqual([...r.removed], ['a-1']);
    assert.equal(s.size, 2);
    assert.equal(s.seq, 900);
  });

  it('keeps trend-watch items apart from alerts, each in queue order', () => {
    const s = new AlertState();
    s.applySnapshot(1, [
      alert({ alert_id: 'a-1', status: 'trend_watch', priority: 'P3', score: 0.3 }),
      alert({ alert_id: 'a-2', status: 'trend_watch', priority: 'P2', score: 0.45 }),
      alert({ alert_id: 'a-3' }),
    ]);
    const { alerts, trend } = s.sorted();
    assert.deepEqual(ids(alerts), ['a-3']);
    assert.deepEqual(ids(trend), ['a-2', 'a-1']);
    // A trend-watch item that becomes an alert moves lists.
    s.applyChanges([{ seq: 2, kind: 'update', alert: alert({ alert_id: 'a-1', status: 'alert', revision: 2 }) }]);
    // Same priority, score and received_at as a-3: the smaller id first.
    assert.deepEqual(ids(s.sorted().alerts), ['a-1', 'a-3']);
    assert.deepEqual(ids(s.sorted().trend), ['a-2']);
  });

  it('sorted() is cached until something changes', () => {
    const s = new AlertState();
    s.applySnapshot(1, [alert({ alert_id: 'a-1' })]);
    const first = s.sorted();
    assert.equal(s.sorted(), first);
    s.applyChanges([{ seq: 2, kind: 'new', alert: alert({ alert_id: 'a-2' }) }]);
    assert.notEqual(s.sorted(), first);
  });
});

describe('mergeAlert', () => {
  const acked = { acked_at: '2026-03-02T22:01:00.000Z', acked_by: 'analyst-token', ack_late: false };

  it('an ack stays when an older change without it arrives after the ack call answered', () => {
    const afterAck = alert({ alert_id: 'a-1', ...acked });
    const olderUpdate = alert({ alert_id: 'a-1', revision: 2, count: 3 });
    const m = mergeAlert(afterAck, olderUpdate);
    assert.equal(m.acked_at, acked.acked_at);
    assert.equal(m.acked_by, 'analyst-token');
    assert.equal(m.count, 3, 'the record fields come from the newer revision');
  });

  it('an ack answer with an older revision keeps the newer record and takes the ack', () => {
    const current = alert({ alert_id: 'a-1', revision: 3, count: 5, priority: 'P0', score: 0.9 });
    const answer = alert({ alert_id: 'a-1', revision: 2, count: 2, ...acked });
    const m = mergeAlert(current, answer);
    assert.equal(m.revision, 3);
    assert.equal(m.count, 5);
    assert.equal(m.priority, 'P0');
    assert.equal(m.acked_by, 'analyst-token');
  });

  it('the later verdict wins whichever arrives last', () => {
    const tp = alert({ alert_id: 'a-1', verdict: 'true_positive', verdict_at: '2026-03-02T22:02:00.000Z', verdict_by: 'x' });
    const fp = alert({ alert_id: 'a-1', verdict: 'false_positive', verdict_at: '2026-03-02T22:03:00.000Z', verdict_by: 'y', verdict_note: 'test pattern' });
    assert.equal(mergeAlert(tp, fp).verdict, 'false_positive');
    const m = mergeAlert(fp, tp);
    assert.equal(m.verdict, 'false_positive');
    assert.equal(m.verdict_note, 'test pattern');
  });

  it('applyLocal merges the answer of an ack call into the state', () => {
    const s = new AlertState();
    s.applySnapshot(1, [alert({ alert_id: 'a-1', revision: 4 })]);
    const v = s.version;
    s.applyLocal(alert({ alert_id: 'a-1', revision: 4, ...acked }));
    assert.equal(s.get('a-1')?.alert.acked_by, 'analyst-token');
    assert.ok(s.version > v);
  });
});
