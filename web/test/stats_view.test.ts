import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { budgetClass, endToEndStage, logSplits, validTime } from '../src/stats_view.js';

const stage = (name: string) => ({ stage: name, p50_ms: 1, p95_ms: 2, p99_ms: 3 });

describe('stats view', () => {
  it('latency against the budget: warn past 80 %, over past 100 %', () => {
    assert.equal(budgetClass(4000, 5000), 'ok');
    assert.equal(budgetClass(4001, 5000), 'warn');
    assert.equal(budgetClass(5001, 5000), 'over');
    assert.equal(budgetClass(10, 0), 'ok');
    assert.equal(budgetClass(3500, 5000, 3000), 'warn', 'the server\'s warn_p95_ms when given');
    assert.equal(budgetClass(2999, 5000, 3000), 'ok');
  });

  it('follows end_to_end, else event_to_alert, else the last stage', () => {
    assert.equal(endToEndStage([stage('enrich'), stage('end_to_end'), stage('event_to_alert')])?.stage, 'end_to_end');
    assert.equal(endToEndStage([stage('enrich'), stage('event_to_alert'), stage('windows')])?.stage, 'event_to_alert');
    assert.equal(endToEndStage([stage('enrich'), stage('windows')])?.stage, 'windows');
    assert.equal(endToEndStage([]), undefined);
  });

  it('shows only real times (not a no-events sentinel)', () => {
    assert.ok(validTime('2019-03-01T12:00:00Z'));
    assert.ok(!validTime('-146136543-09-08T08:23:32.096Z'));
    assert.ok(!validTime(null));
  });

  it('ticks the log axis at powers of ten and the budget', () => {
    assert.deepEqual(logSplits(0.1, 7500, 5000), [0.1, 1, 10, 100, 1000, 5000]);
    assert.deepEqual(logSplits(0.5, 60, null), [1, 10]);
  });
});
