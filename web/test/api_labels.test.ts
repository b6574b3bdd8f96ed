import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { Api, ApiError, errorText } from '../src/api.js';
import { alertLabel, districtName, escapeHtml, placeLabel, reasonsText, verdictTag } from '../src/labels.js';

describe('Api', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('sends the bearer token and parses JSON', async () => {
    let seen: { url: string; init: RequestInit } | null = null;
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      seen = { url, init };
      return new Response('{"name":"e2e","role":"analyst"}', { status: 200 });
    }) as typeof fetch;
    const api = new Api('http://127.0.0.1:9/cc/', 'tok', () => assert.fail('no 401 here'));
    assert.deepEqual(await api.get('v1/whoami'), { name: 'e2e', role: 'analyst' });
    assert.equal(seen!.url, 'http://127.0.0.1:9/cc/v1/whoami');
    assert.equal((seen!.init.headers as Record<string, string>).Authorization, 'Bearer tok');
  });

  it('calls onUnauthorized on 401 and throws the server message', async () => {
    globalThis.fetch = (async () => new Response('{"error":"unknown token"}', { status: 401 })) as typeof fetch;
    const seen: string[] = [];
    const api = new Api('http://127.0.0.1:9/', 'bad', (m) => seen.push(m));
    await assert.rejects(api.post('v1/alerts/a-1/ack'), (e: unknown) => e instanceof ApiError && e.status === 401);
    assert.deepEqual(seen, ['unknown token']);
  });

  it('throws other errors with their text and JSON-encodes bodies', async () => {
    let body: unknown;
    globalThis.fetch = (async (_u: string, init: RequestInit) => {
      body = init.body;
      return new Response('{"error":"note: over 1000 bytes"}', { status: 400 });
    }) as typeof fetch;
    const api = new Api('http://127.0.0.1:9/', 't', () => assert.fail('no 401 here'));
    await assert.rejects(api.post('v1/alerts/a-1/feedback', { verdict: 'false_positive' }), /note: over 1000 bytes/);
    assert.equal(body, '{"verdict":"false_positive"}');
  });

  it('errorText falls back to the body, then the status', () => {
    assert.equal(errorText(404, 'Not Found', '{"error":"no alert a-1"}'), 'no alert a-1');
    assert.equal(errorText(502, 'Bad Gateway', 'upstream down'), 'upstream down');
    assert.equal(errorText(500, 'Internal Server Error', ''), '500 Internal Server Error');
  });
});

describe('labels', () => {
  it('name districts by name, then community, then the first text property', () => {
    assert.equal(districtName({ name: 'Central', community: 'X' }), 'Central');
    assert.equal(districtName({ community: 'DOUGLAS', area: '0' }), 'DOUGLAS');
    assert.equal(districtName({ id: 4, label: 'Ward 4' }), 'Ward 4');
    assert.equal(districtName(null), '');
  });

  it('alert labels, places, verdicts', () => {
    assert.equal(alertLabel({ type: 'sensor', category: 'sensor.gunshot' }), 'sensor.gunshot');
    assert.equal(alertLabel({ type: 'geofence', category: 'schools-150m' }), 'geofence · schools-150m');
    assert.equal(alertLabel({ type: 'spike', category: 'cad.call.theft' }), 'spike · cad.call.theft');
    assert.equal(alertLabel({ type: 'spike', category: 'spike' }), 'spike');
    assert.equal(placeLabel({ district: null, lat: 41.85, lon: -87.65 }), '41.8500, -87.6500');
    assert.equal(placeLabel({ district: null, lat: null, lon: null }), 'no place');
    assert.equal(verdictTag('true_positive'), 'TP');
    assert.equal(verdictTag('none'), '');
  });

  it('escapes HTML for tooltips and prints audit reasons compactly', () => {
    assert.equal(escapeHtml(`<b>"x" & 'y'</b>`), '&#60;b&#62;&#34;x&#34; &#38; &#39;y&#39;&#60;/b&#62;');
    assert.equal(reasonsText({ score: 0.760283, gate: 'none', count: 2, terms: { boost: 0 } }), 'score=0.7603  gate=none  count=2  terms={"boost":0}');
  });
});
