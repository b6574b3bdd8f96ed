import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isSubprotocolSafe, loadToken, takeTokenFromHash, type TokenStorage } from '../src/token.js';

class MemoryStorage implements TokenStorage {
  readonly items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

function fakeLocation(hash: string) {
  const replaced: string[] = [];
  const loc = { hash, pathname: '/', search: '?view=wall' } as Location;
  const hist = { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } as unknown as History;
  return { loc, hist, replaced };
}

describe('token from the URL fragment', () => {
  it('splits the token from the rest of the fragment', () => {
    assert.deepEqual(takeTokenFromHash('#token=abc123'), { token: 'abc123', rest: '' });
    assert.deepEqual(takeTokenFromHash('#token=abc&x=1'), { token: 'abc', rest: '#x=1' });
    assert.deepEqual(takeTokenFromHash('#x=1'), { token: null, rest: '#x=1' });
    assert.deepEqual(takeTokenFromHash(''), { token: null, rest: '' });
    assert.deepEqual(takeTokenFromHash('#token='), { token: null, rest: '' });
  });

  it('stores the token and removes it from the address bar', () => {
    const storage = new MemoryStorage();
    const { loc, hist, replaced } = fakeLocation('#token=s3cret_token');
    assert.equal(loadToken(loc, hist, storage), 's3cret_token');
    assert.deepEqual(replaced, ['/?view=wall']);
    assert.equal(storage.getItem('sentinel.token'), 's3cret_token');
  });

  it('falls back to the stored token and leaves a fragment without a token alone', () => {
    const storage = new MemoryStorage();
    storage.setItem('sentinel.token', 'kept');
    const { loc, hist, replaced } = fakeLocation('#x=1');
    assert.equal(loadToken(loc, hist, storage), 'kept');
    assert.deepEqual(replaced, []);
  });

  it('has no token when neither is there', () => {
    const { loc, hist } = fakeLocation('');
    assert.equal(loadToken(loc, hist, new MemoryStorage()), null);
  });

  it('only sends tokens that are valid subprotocol names', () => {
    assert.ok(isSubprotocolSafe('stk_AbC-12.x~'));
    assert.ok(!isSubprotocolSafe('has space'));
    assert.ok(!isSubprotocolSafe('a,b'));
    assert.ok(!isSubprotocolSafe(''));
  });
});
