import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { backoffDelay, LiveStream, type SocketLike, type StreamDeps, streamUrl } from '../src/stream.js';
import type { StreamMessage } from '../src/types.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closedWith: number | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}
  send(d: string) {
    this.sent.push(d);
  }
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

/** Timers that run only when the test advances the clock. */
class FakeClock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const first = this.timers[0];
      if (!first || first.at > end) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
  pending() {
    return this.timers.length;
  }
}

describe('LiveStream', () => {
  let sockets: FakeSocket[];
  let clock: FakeClock;
  let deps: StreamDeps;
  let messages: StreamMessage[];
  let states: string[];
  let unauthorised: string[];
  let seq: number | null;
  let neverOpened: number[];

  beforeEach(() => {
    sockets = [];
    clock = new FakeClock();
    messages = [];
    states = [];
    unauthorised = [];
    neverOpened = [];
    seq = null;
    deps = {
      createSocket: (url, protocols) => {
        const s = new FakeSocket(url, protocols);
        sockets.push(s);
        return s;
      },
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      random: () => 0.5,
      now: () => clock.t,
    };
  });

  function make(token = 'tok_123') {
    return new LiveStream(
      'http://127.0.0.1:8080/',
      token,
      {
        onMessage: (m) => {
          messages.push(m);
          if (m.type === 'snapshot') seq = m.seq;
          if (m.type === 'changes') seq = m.changes[m.changes.length - 1]?.seq ?? seq;
        },
        onState: (s, d) => states.push(d ? `${s}: ${d}` : s),
        onUnauthorized: (r) => unauthorised.push(r),
        sinceSeq: () => seq,
        onNeverOpened: (n) => neverOpened.push(n),
      },
      deps,
      { pingIntervalMs: 1000 },
    );
  }

  it('sends the token as the second subprotocol and connects without ?since first', () => {
    make().start();
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0]!.url, 'ws://127.0.0.1:8080/v1/alerts/stream');
    assert.deepEqual(sockets[0]!.protocols, ['sentinel.v1', 'bearer.tok_123']);
  });

  it('passes messages on, and resumes after a drop with ?since=<last seq>', () => {
    const s = make();
    s.start();
    const first = sockets[0]!;
    first.open();
    first.receive({ type: 'snapshot', seq: 41, alerts: [] });
    first.receive({ type: 'changes', changes: [{ seq: 42, kind: 'new', alert: { alert_id: 'a-1' } }] });
    assert.deepEqual(
      messages.map((m) => m.type),
      ['snapshot', 'changes'],
    );
    assert.ok(states.includes('live'));

    first.drop(1008, 'slow consumer: 4194304 bytes queued');
    assert.equal(sockets.length, 1, 'waits before reconnecting');
    assert.match(states[states.length - 1]!, /^reconnecting: slow consumer: 4194304 bytes queued \(1008\)/);
    clock.advance(backoffDelay(0, 0.5));
    assert.equal(sockets.length, 2);
    assert.equal(sockets[1]!.url, 'ws://127.0.0.1:8080/v1/alerts/stream?since=42');
  });

  it('backs off exponentially while the server is away, and starts over after a message', () => {
    const s = make();
    s.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const sock = sockets[sockets.length - 1]!;
      sock.open(); // opens, then drops before any message
      sock.drop(1006);
      const before = clock.t;
      const n = sockets.length;
      while (sockets.length === n) clock.advance(50);
      delays.push(clock.t - before);
    }
    assert.deepEqual(
      delays,
      [0, 1, 2, 3, 4, 5].map((a) => Math.ceil(backoffDelay(a, 0.5) / 50) * 50),
    );
    const sock = sockets[sockets.length - 1]!;
    sock.open();
    sock.receive({ type: 'snapshot', seq: 1, alerts: [] });
    sock.drop(1006);
    const before = clock.t;
    const n = sockets.length;
    while (sockets.length === n) clock.advance(10);
    assert.equal(clock.t - before, Math.ceil(backoffDelay(0, 0.5) / 10) * 10);
  });

  it('stops on close 4401 and reports the reason', () => {
    make().start();
    sockets[0]!.open();
    sockets[0]!.drop(4401, 'unauthorised: unknown token');
    clock.advance(60000);
    assert.equal(sockets.length, 1, 'no reconnect');
    assert.deepEqual(unauthorised, ['unauthorised: unknown token']);
  });

  it('reports attempts that never open (a handshake refused with HTTP 401 looks like that)', () => {
    make().start();
    for (let i = 0; i < 3; i++) {
      sockets[sockets.length - 1]!.drop(1006);
      clock.advance(10000);
    }
    assert.deepEqual(neverOpened, [3]);
  });

  it('pings, and reopens a connection that stays silent for two intervals', () => {
    make().start();
    const sock = sockets[0]!;
    sock.open();
    clock.advance(1000);
    assert.deepEqual(sock.sent, ['{"op":"ping"}']);
    sock.receive({ type: 'pong' });
    assert.deepEqual(messages, [], 'pongs are not passed on');
    clock.advance(3100);
    assert.equal(sock.closedWith, 4000);
    clock.advance(1000);
    assert.equal(sockets.length, 2);
  });

  it('resync() reconnects at once, with what sinceSeq() says then', () => {
    const s = make();
    s.start();
    sockets[0]!.open();
    sockets[0]!.receive({ type: 'snapshot', seq: 40, alerts: [] });
    seq = null; // the page wants a fresh snapshot
    s.resync('the server restarted');
    assert.equal(sockets[0]!.closedWith, 4000);
    assert.equal(sockets.length, 2);
    assert.equal(sockets[1]!.url, 'ws://127.0.0.1:8080/v1/alerts/stream');
    assert.match(states[states.length - 2]!, /^reconnecting: the server restarted/);
  });

  it('stop() closes the socket and cancels the pending reconnect', () => {
    const s = make();
    s.start();
    sockets[0]!.drop(1006);
    s.stop();
    clock.advance(60000);
    assert.equal(sockets.length, 1);
    assert.equal(clock.pending(), 0);
  });

  it('reports a token the socket constructor refuses instead of looping', () => {
    deps.createSocket = () => {
      throw new SyntaxError("The subprotocol 'bearer.a b' is invalid.");
    };
    make('a b').start();
    assert.equal(unauthorised.length, 1);
    assert.match(unauthorised[0]!, /cannot be sent/);
  });
});

describe('stream helpers', () => {
  it('builds ws/wss URLs relative to the page', () => {
    assert.equal(streamUrl('https://cc.example/sentinel/index.html#x', 7), 'wss://cc.example/sentinel/v1/alerts/stream?since=7');
    assert.equal(streamUrl('http://127.0.0.1:8080/', null), 'ws://127.0.0.1:8080/v1/alerts/stream');
  });

  it('backoff doubles from 250 ms to a 5 s ceiling, jittered within half of it', () => {
    assert.equal(backoffDelay(0, 0), 125);
    assert.equal(backoffDelay(0, 1), 250);
    assert.equal(backoffDelay(3, 1), 2000);
    assert.equal(backoffDelay(10, 1), 5000);
    assert.equal(backoffDelay(50, 0), 2500);
  });
});
