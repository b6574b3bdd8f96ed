// What the intel browser suites share: REST calls against the server under
// test (SENTINEL_URL), polling with a deadline, and a local news site that
// serves an RSS feed of synthetic articles (descriptions, never names) and
// each article's page.

import assert from 'node:assert/strict';
import http from 'node:http';

/** One REST call; `json` is null when the answer is not JSON. */
export async function api(method, path, token, body) {
  const res = await fetch(new URL(path, process.env.SENTINEL_URL), {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

/** Polls `fn` every 200 ms until it returns something truthy, failing after `timeoutMs`. */
export async function until(what, fn, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function xml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

/**
 * Starts the news site on a free loopback port: /feed.xml (RSS 2.0 titled
 * `title`, one item per article, published an hour apart before now) and
 * /news/<slug>. Resolves to { server, base } (base ends in "/").
 */
export function startNewsSite(title, articles) {
  let base = '';
  const feed = () => {
    const now = Date.now();
    const entries = articles
      .map(
        (a, i) => `<item><title>${xml(a.title)}</title><link>${base}news/${a.slug}</link><guid>${base}news/${a.slug}</guid>
<pubDate>${new Date(now - (i + 1) * 3600000).toUTCString()}</pubDate><description>${xml(a.text)}</description></item>`,
      )
      .join('\n');
    return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>${xml(title)}</title><link>${base}</link><description>synthetic</description>
${entries}
</channel></rss>`;
  };
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      if (req.url === '/feed.xml') {
        res.writeHead(200, { 'Content-Type': 'application/rss+xml; charset=utf-8' });
        res.end(feed());
        return;
      }
      const a = articles.find((x) => req.url === `/news/${x.slug}`);
      if (a) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html><head><title>${xml(a.title)}</title></head><body><article><h1>${xml(a.title)}</h1><p>${xml(a.text)}</p></article></body></html>`);
        return;
      }
      res.writeHead(404);
      res.end();
    });
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${server.address().port}/`;
      resolve({ server, base });
    });
  });
}
