import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import {
  applyJobMessage,
  applyJobsAnswer,
  emptyBoard,
  JobStream,
  jobsStreamUrl,
  parseJobMessage,
  RECENT_LIMIT,
  streamStateText,
} from '../src/admin/jobs.js';
import type { JobRow, JobStreamMessage, QueueCounts } from '../src/admin/types.js';
import type { SocketLike, StreamDeps } from '../src/stream.js';

function counts(queue: string, over: Partial<QueueCounts> = {}): QueueCounts {
  return { queue, queued: 0, running: 0, done: 0, dead: 0, retried: 0, recovered: 0, ...over };
}

function job(id: number, over: Partial<JobRow> = {}): JobRow {
  return { id, queue: 'extract', state: 'queued', attempts: 0, error: '', updated: `2024-03-05T10:00:${String(id % 60).padStart(2, '0')}.000Z`, ...over };
}

function frame(m: object): string {
  return JSON.stringify(m);
}

describe('job stream messages', () => {
  it('parses counts and job transitions as the server sends them', () => {
    const c = parseJobMessage(frame({ type: 'jobs', queues: [counts('fetch', { queued: 2 }), { queue: 'enrich', done: 'x' }] }));
    assert.deepEqual(c, { type: 'jobs', queues: [counts('fetch', { queued: 2 }), counts('enrich')] });
    const j = parseJobMessage(
      frame({
        type: 'job',
        change: 'completed',
        id: 7,
        queue: 'fetch',
        state: 'done',
        attempts: 1,
        run_at: '2024-03-05T10:00:00Z',
        lease_until: null,
        worker: 'w1',
        error: '',
        failure: null,
        dedup_key: 'feed:3',
        updated: '2024-03-05T10:00:01Z',
      }),
    );
    assert.deepEqual(j, {
      type: 'job',
      id: 7,
      queue: 'fetch',
      state: 'done',
      attempts: 1,
      error: '',
      updated: '2024-03-05T10:00:01Z',
      run_at: '2024-03-05T10:00:00Z',
      worker: 'w1',
      dedup_key: 'feed:3',
      change: 'completed',
    });
  });

  it('ignores frames that are not JSON or not a known message', () => {
    assert.equal(parseJobMessage('not json'), null);
    assert.equal(parseJobMessage(frame({ type: 'pong' })), null);
    assert.equal(parseJobMessage(frame({ type: 'job', change: 'claimed', id: 'x', queue: 'fetch', state: 'running' })), null);
    assert.equal(parseJobMessage(frame({ type: 'jobs', queues: 3 })), null);
    assert.equal(parseJobMessage(frame([1, 2])), null);
  });

  it('applies counts: a queue left out keeps its row, known queues first', () => {
    let b = emptyBoard();
    assert.deepEqual(
      b.queues.map((q) => q.queue),
      ['fetch', 'enrich', 'extract'],
    );
    b = applyJobMessage(b, { type: 'jobs', queues: [counts('extract', { running: 1 }), counts('fetch', { done: 4 })] });
    assert.deepEqual(
      b.queues.map((q) => [q.queue, q.running, q.done]),
      [
        ['fetch', 0, 4],
        ['enrich', 0, 0],
        ['extract', 1, 0],
      ],
    );
  });

  it('applies transitions: a job moves in place, new ones go on top, the list stays bounded', () => {
    let b = emptyBoard();
    const msg = (id: number, change: string, state: string): JobStreamMessage => ({ type: 'job', ...job(id, { state }), change });
    b = applyJobMessage(b, msg(1, 'enqueued', 'queued'));
    b = applyJobMessage(b, msg(2, 'enqueued', 'queued'));
    b = applyJobMessage(b, msg(1, 'claimed', 'running'));
    assert.deepEqual(
      b.recent.map((j) => [j.id, j.state, j.change]),
      [
        [2, 'queued', 'enqueued'],
        [1, 'running', 'claimed'],
      ],
    );
    const before = b;
    b = applyJobMessage(b, msg(1, 'completed', 'done'));
    assert.equal(before.recent[1]!.state, 'running', 'the old board is unchanged');
    for (let i = 3; i < RECENT_LIMIT + 10; i++) b = applyJobMessage(b, msg(i, 'enqueued', 'queued'));
    assert.equal(b.recent.length, RECENT_LIMIT);
    assert.equal(b.recent[0]!.id, RECENT_LIMIT + 9);
  });

  it('a REST answer replaces the list but keeps a newer streamed state of a job', () => {
    let b = emptyBoard();
    b = applyJobMessage(b, { type: 'job', ...job(5, { state: 'done', updated: '2024-03-05T10:00:09Z' }), change: 'completed' });
    b = applyJobsAnswer(b, {
      queues: [counts('fetch', { done: 1 })],
      recent: [job(5, { state: 'running', updated: '2024-03-05T10:00:02Z' }), job(4, { state: 'done' })],
    });
    assert.deepEqual(
      b.recent.map((j) => [j.id, j.state]),
      [
        [5, 'done'],
        [4, 'done'],
      ],
    );
    assert.equal(b.queues[0]!.done, 1);
    b = applyJobsAnswer(b, { queues: [], recent: [job(5, { state: 'dead', updated: '2024-03-05T10:00:20Z' })] });
    assert.equal(b.recent[0]!.state, 'dead', "the list's newer copy wins");
  });

  it('builds the stream URL from the page URL', () => {
    assert.equal(jobsStreamUrl('http://127.0.0.1:8080/admin.html#x'), 'ws://127.0.0.1:8080/v1/intel/jobs/stream');
    assert.equal(jobsStreamUrl('https://ops.example/sentinel/admin.html?a=1'), 'wss://ops.example/sentinel/v1/intel/jobs/stream');
  });

  it('says the connection state', () => {
    assert.equal(streamStateText('live', ''), 'live');
    assert.equal(streamStateText('reconnecting', 'closed (1006); retry in 0.3 s'), 'reconnecting: closed (1006); retry in 0.3 s');
    assert.equal(streamStateText('reconnecting', 'connecting'), 'reconnecting…');
    assert.equal(streamStateText('stopped', ''), 'stopped');
  });
});

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closedWith: number | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}
  send() {}
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(m: object) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

describe('JobStream', () => {
  let sockets: FakeSocket[];
  let timers: { at: number; fn: () => void; id: number }[];
  let now: number;
  let deps: StreamDeps;
  let log: string[];
  let messages: JobStreamMessage[];

  function advance(ms: number) {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const t = timers[0];
      if (!t || t.at > end) break;
      timers.shift();
      now = t.at;
      t.fn();
    }
    now = end;
  }

  beforeEach(() => {
    sockets = [];
    timers = [];
    now = 0;
    log = [];
    messages = [];
    let next = 1;
    deps = {
      createSocket: (url, protocols) => {
        const s = new FakeSocket(url, protocols);
        sockets.push(s);
        return s;
      },
      setTimeout: (fn, ms) => {
        const id = next++;
        timers.push({ at: now + ms, fn, id });
        return id;
      },
      clearTimeout: (id) => {
        timers = timers.filter((t) => t.id !== id);
      },
      random: () => 0.5,
      now: () => now,
    };
  });

  function make() {
    return new JobStream('http://127.0.0.1:8080/admin.html', 'tok_abc', {
      onMessage: (m) => messages.push(m),
      onState: (s, d) => log.push(d ? `${s}: ${d}` : s),
      onUnauthorized: (r) => log.push(`unauthorised: ${r}`),
      onOpen: () => log.push('open'),
      onNeverOpened: (n) => log.push(`never opened ${n}`),
    }, deps);
  }

  it('sends the token as the second subprotocol and delivers the messages', () => {
    const s = make();
    s.start();
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0]!.url, 'ws://127.0.0.1:8080/v1/intel/jobs/stream');
    assert.deepEqual(sockets[0]!.protocols, ['sentinel.v1', 'bearer.tok_abc']);
    sockets[0]!.open();
    sockets[0]!.receive({ type: 'jobs', queues: [counts('fetch', { queued: 1 })] });
    sockets[0]!.onmessage?.({ data: 'garbage' });
    sockets[0]!.receive({ type: 'job', change: 'enqueued', ...job(3) });
    assert.deepEqual(
      messages.map((m) => m.type),
      ['jobs', 'job'],
    );
    assert.deepEqual(log, ['connecting: connecting', 'live', 'open']);
  });

  it('reconnects with growing backoff, and after a message-bearing open starts over', () => {
    const s = make();
    s.start();
    sockets[0]!.drop(1006);
    // backoffDelay(0, 0.5) = 188 ms, then 375, 750.
    assert.match(log.at(-1)!, /^reconnecting: closed \(1006\); retry in 0\.2 s$/);
    advance(187);
    assert.equal(sockets.length, 1);
    advance(1);
    assert.equal(sockets.length, 2);
    sockets[1]!.drop(1006);
    advance(374);
    assert.equal(sockets.length, 2);
    advance(1);
    assert.equal(sockets.length, 3);
    sockets[2]!.drop(1006);
    assert.ok(log.includes('never opened 3'), 'three refused handshakes are reported');
    advance(750);
    assert.equal(sockets.length, 4);
    sockets[3]!.open();
    sockets[3]!.drop(1001, 'going away');
    assert.match(log.at(-1)!, /^reconnecting: going away \(1001\); retry in 0\.2 s$/);
    advance(188);
    assert.equal(sockets.length, 5);
  });

  it('stops on close 4401 without reconnecting', () => {
    const s = make();
    s.start();
    sockets[0]!.open();
    sockets[0]!.drop(4401, 'token revoked');
    assert.ok(log.includes('unauthorised: token revoked'));
    assert.equal(s.running, false);
    advance(60000);
    assert.equal(sockets.length, 1);
    assert.equal(timers.length, 0);
  });

  it('stop closes the socket and cancels a pending retry', () => {
    const s = make();
    s.start();
    sockets[0]!.drop(1006);
    assert.equal(timers.length, 1);
    s.stop();
    assert.equal(timers.length, 0);
    advance(60000);
    assert.equal(sockets.length, 1);
    s.start();
    sockets[1]!.open();
    s.stop();
    assert.equal(sockets[1]!.closedWith, 1000);
    assert.equal(log.at(-1), 'stopped');
  });

  it('a token the browser cannot send stops the stream', () => {
    deps.createSocket = () => {
      throw new Error('bad subprotocol');
    };
    const s = make();
    s.start();
    assert.equal(log.at(-1), 'unauthorised: the token cannot be sent to the stream (bad subprotocol)');
    assert.equal(s.running, false);
  });
});
