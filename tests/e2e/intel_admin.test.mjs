// The admin page (web/admin.html) in headless Debian Chromium against a real
// `sentinel run` (started by run.sh with intel enabled; it passes the address
// and the admin, analyst and curator tokens). The suite serves its own feed on
// 127.0.0.1 (two synthetic articles: descriptions, no names): an admin adds
// it with the form, fetches it now and watches the job counts move over the
// job stream; pausing shows it paused; a triage edit with reject above approve
// is refused before any request, a valid one saves a new version; an analyst
// sees everything read-only and a forced change is answered 403 in the banner.
// The triage settings found at the start are put back at the end (the other
// suites share the server). One screenshot per test goes to
// $E2E_WORK/screenshots (names start with "admin-").

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { api, startNewsSite, until } from './intel_helpers.mjs';

const BASE = process.env.SENTINEL_URL;
const ADMIN = process.env.SENTINEL_ADMIN_TOKEN;
const ANALYST = process.env.SENTINEL_ANALYST_TOKEN;
const CURATOR = process.env.SENTINEL_CURATOR_TOKEN;
const WORK = process.env.E2E_WORK;
if (!BASE || !ADMIN || !ANALYST || !CURATOR || !WORK) {
  throw new Error('run through tests/e2e/run.sh (SENTINEL_URL, SENTINEL_ADMIN_TOKEN, SENTINEL_ANALYST_TOKEN, SENTINEL_CURATOR_TOKEN, E2E_WORK)');
}
const SHOTS = join(WORK, 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1600, height: 1200 };

// Synthetic local news: places from the city's gazetteer, people as descriptions.
const FILLER =
  ' Officers canvassed the block and asked neighbours with doorbell cameras to share footage. The scene was taped off for several hours while evidence technicians worked. Anyone with information was asked to call the district tip line; callers may remain anonymous.';
const ARTICLES = [
  {
    slug: 'south-shore-shooting',
    title: 'Teenager, 17, wounded by gunfire on East 71st Street',
    text: 'A 17-year-old was shot in the leg on Thursday afternoon in the 2000 block of East 71st Street in South Shore, police said. A man in a dark hoodie fired from a passing car, which sped west.' + FILLER,
  },
  {
    slug: 'pilsen-theft',
    title: 'Delivery van broken into on West 18th Street',
    text: 'A delivery van was broken into on Friday morning in the 1200 block of West 18th Street in Pilsen, police said. Packages worth several hundred dollars were taken while the driver made a stop.' + FILLER,
  },
];

let browser;
let shotNumber = 0;
const pageErrors = [];
let feedServer;
let feedBase;
let feedUrl;
/** The triage settings in force when the suite started; put back at the end. */
let originalSettings = null;

async function shot(page, name) {
  shotNumber += 1;
  await page.screenshot({ path: join(SHOTS, `admin-${String(shotNumber).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Opens the page signed in with `token`; `watch(page)` runs before it loads (to see its first requests). */
async function openAdmin(token, watch = () => {}) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  watch(page);
  page.on('pageerror', (e) => pageErrors.push(`admin.html: ${e.message}`));
  page.on('console', (m) => {
    // 401/403 answers are part of what is tested; the browser logs them as failed loads.
    if (m.type() === 'error' && !/status of 40[013]|Failed to load resource/.test(m.text())) pageErrors.push(`admin.html console: ${m.text()}`);
  });
  await page.goto(new URL('admin.html', BASE).toString() + `#token=${token}`);
  return { context, page };
}


/** The number a job-count cell of the page shows. */
async function shownCount(page, queue, count) {
  const v = await page.locator(`#job-counts tr[data-queue="${queue}"] td[data-count="${count}"]`).getAttribute('data-value');
  return Number(v);
}

async function feedByUrl(url) {
  const r = await api('GET', 'v1/intel/feeds', ADMIN);
  assert.equal(r.status, 200, r.text);
  return r.json.feeds.find((f) => f.url === url) ?? null;
}

const feedRow = (page, id) => page.locator(`#feeds-table tr[data-feed-id="${id}"]`);

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  ({ server: feedServer, base: feedBase } = await startNewsSite('e2e admin news', ARTICLES));
  feedUrl = `${feedBase}feed.xml`;
  const cur = await api('GET', 'v1/intel/triage', ADMIN);
  assert.equal(cur.status, 200, `GET /v1/intel/triage: ${cur.text}`);
  originalSettings = cur.json.settings;
});

after(async () => {
  try {
    if (originalSettings) {
      const put = await api('PUT', 'v1/intel/triage', ADMIN, { settings: originalSettings });
      assert.equal(put.status, 200, `restoring the triage settings: ${put.text}`);
    }
  } finally {
    await browser?.close();
    await new Promise((r) => (feedServer ? feedServer.close(r) : r()));
  }
});

describe('admin page', () => {
  it('an admin adds a feed, fetches it now, and the job counts move live over the stream', async () => {
    const frames = [];
    let jobListLoads = 0;
    const { context, page } = await openAdmin(ADMIN, (p) => {
      p.on('websocket', (ws) => {
        if (!ws.url().endsWith('/v1/intel/jobs/stream')) return;
        ws.on('framereceived', (f) => {
          try {
            frames.push(JSON.parse(String(f.payload)));
          } catch {
            // not JSON
          }
        });
      });
      p.on('request', (r) => {
        if (new URL(r.url()).pathname.endsWith('/v1/intel/jobs')) jobListLoads += 1;
      });
    });
    assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
    assert.match(await page.locator('#role').textContent(), /^admin$/);
    await page.locator('#jobs-conn[data-state="live"]').waitFor();
    assert.equal(await page.locator('#admin-readonly').isVisible(), false, 'an admin gets no read-only note');
    await page.locator('#job-counts tr[data-queue="fetch"]').waitFor();
    // The list is loaded at sign-in and again when the stream opens (to fill what it missed); none after.
    await until('the job list loads twice', async () => jobListLoads >= 2, 10000);
    await page.waitForLoadState('networkidle');
    const fetchDone0 = await shownCount(page, 'fetch', 'done');
    const extractDone0 = (await shownCount(page, 'extract', 'done')) + (await shownCount(page, 'extract', 'dead'));
    const loadsBefore = jobListLoads;

    // A schedule below a minute is refused on the page; the form keeps its values.
    await page.fill('#feed-url', feedUrl);
    await page.fill('#feed-title', 'e2e admin news');
    await page.fill('#feed-every', '0');
    await page.selectOption('#feed-unit', 'minutes');
    await page.click('#feed-add');
    await page.locator('#feed-form-error', { hasText: 'schedule: at least 1 minute' }).waitFor();
    assert.equal(await feedByUrl(feedUrl), null, 'nothing was sent');

    await page.fill('#feed-every', '30');
    await page.click('#feed-add');
    const feed = await until('the feed is added', () => feedByUrl(feedUrl), 10000);
    assert.equal(feed.schedule_s, 1800, '30 minutes');
    assert.equal(feed.title, 'e2e admin news');
    const row = feedRow(page, feed.id);
    await row.waitFor();
    assert.equal(await row.locator('.feed-title').textContent(), 'e2e admin news');
    assert.match(await row.locator('.feed-schedule').textContent(), /every 30 min/);
    assert.equal(await page.locator('#feed-url').inputValue(), '', 'the form is cleared after adding');

    // The same URL again: the server's 409 under the form.
    await page.fill('#feed-url', feedUrl);
    await page.click('#feed-add');
    await page.locator('#feed-form-error', { hasText: '(409)' }).waitFor();
    await page.fill('#feed-url', '');

    await row.locator('.feed-fetch').click();
    await page.locator('.toast', { hasText: 'queued (job' }).waitFor();
    await page.locator(`#feeds-table tr[data-feed-id="${feed.id}"][data-status="active"] .feed-last`).filter({ hasNotText: 'never' }).waitFor({ timeout: 60000 });
    const fetched = await feedByUrl(feedUrl);
    assert.equal(fetched.status, 'active');
    assert.equal(typeof fetched.last_fetch, 'number', 'the feed was fetched');
    assert.equal(fetched.consecutive_failures, 0, fetched.last_error);

    // The counts move on the page without reloading the list: the socket's messages.
    await until('the fetch queue counts a finished job', async () => (await shownCount(page, 'fetch', 'done')) > fetchDone0, 60000);
    await until(
      `the extract queue counts the ${ARTICLES.length} articles`,
      async () => (await shownCount(page, 'extract', 'done')) + (await shownCount(page, 'extract', 'dead')) >= extractDone0 + ARTICLES.length,
      60000,
    );
    await page.locator('#jobs-recent tr[data-state="done"]').first().waitFor();
    assert.equal(jobListLoads, loadsBefore, 'no REST reload of the jobs: the counts came over the socket');
    assert.ok(frames.some((f) => f.type === 'jobs'), 'count messages arrived');
    assert.ok(frames.some((f) => f.type === 'job' && f.queue === 'fetch' && f.change === 'completed'), 'a fetch job completed on the stream');
    // Once the fetch queue is idle the page shows the server's numbers (the last count message follows the last job).
    await until(
      "the page shows the server's fetch counts",
      async () => {
        const server = await api('GET', 'v1/intel/jobs', ADMIN);
        const q = server.json.queues.find((x) => x.queue === 'fetch');
        if (q.queued + q.running > 0) return false;
        return (await shownCount(page, 'fetch', 'done')) === q.done && (await shownCount(page, 'fetch', 'queued')) === 0;
      },
      30000,
    );
    assert.equal(jobListLoads, loadsBefore, 'still no REST reload of the jobs');
    await shot(page, 'feed-fetched');
    await context.close();
  });

  it('pausing a feed shows it paused, resuming shows it active', async () => {
    const feed = await feedByUrl(feedUrl);
    assert.ok(feed, 'the feed of the first test');
    const { context, page } = await openAdmin(ADMIN);
    const row = feedRow(page, feed.id);
    await row.waitFor();
    await row.locator('.feed-toggle[data-action="pause"]').click();
    await page.locator(`#feeds-table tr[data-feed-id="${feed.id}"][data-status="paused"]`).waitFor();
    assert.equal(await row.locator('.status-chip').textContent(), 'paused');
    assert.equal(await row.locator('.feed-toggle').textContent(), 'Resume');
    assert.equal((await feedByUrl(feedUrl)).status, 'paused');
    await shot(page, 'feed-paused');
    await row.locator('.feed-toggle[data-action="resume"]').click();
    await page.locator(`#feeds-table tr[data-feed-id="${feed.id}"][data-status="active"]`).waitFor();
    assert.equal((await feedByUrl(feedUrl)).status, 'active');
    await context.close();
  });

  it('a triage edit with reject above approve is refused on the page; a valid one saves a new version', async () => {
    const before = await api('GET', 'v1/intel/triage', ADMIN);
    const v0 = before.json.version;
    const { context, page } = await openAdmin(ADMIN);
    let puts = 0;
    page.on('request', (r) => {
      if (r.method() === 'PUT') puts += 1;
    });
    await page.locator(`#tr-meta[data-version="${v0}"]`).waitFor();
    assert.match(await page.locator('#tr-meta').textContent(), new RegExp(`^version ${v0} · by `));
    assert.equal(await page.locator('#tr-status').textContent(), 'saved');

    await page.fill('#tr-approve', '0.6');
    await page.fill('#tr-reject', '0.7');
    assert.equal(await page.locator('#tr-status').textContent(), 'unsaved changes');
    await page.click('#tr-save');
    const errors = page.locator('#tr-errors[data-source="client"]');
    await errors.waitFor();
    assert.match(await errors.textContent(), /reject: 0\.7 is above approve 0\.6/);
    assert.ok(await page.locator('#tr-reject.is-invalid').count(), 'the reject box is marked');
    await shot(page, 'triage-refused');
    assert.equal(puts, 0, 'nothing was sent');
    assert.equal((await api('GET', 'v1/intel/triage', ADMIN)).json.version, v0, 'no new version');

    // A valid edit: defaults, a new category, a required field of a type.
    await page.fill('#tr-approve', '0.9');
    await page.fill('#tr-reject', '0.2');
    const hadUnrest = await page.locator('#tr-categories tr[data-category="unrest"]').count();
    if (!hadUnrest) {
      await page.fill('#tr-cat-name', 'unrest');
      await page.click('#tr-cat-add');
    }
    await page.fill('#tr-categories tr[data-category="unrest"] input[data-path="categories.unrest.approve"]', '0.95');
    await page.fill('#tr-categories tr[data-category="unrest"] input[data-path="categories.unrest.reject"]', '0.1');
    const box = page.locator('#tr-types tr[data-type="arson"] input[type="checkbox"][value="coordinates"]');
    if (!(await box.isChecked())) await box.check();
    await page.click('#tr-save');
    await page.locator(`#tr-meta[data-version="${v0 + 1}"]`).waitFor();
    assert.equal(puts, 1);
    assert.equal(await page.locator('#tr-errors').isVisible(), false);
    assert.equal(await page.locator('#tr-status').textContent(), 'saved');
    assert.match(await page.locator('#tr-meta').textContent(), /by e2e-admin/);
    const saved = await api('GET', 'v1/intel/triage', ADMIN);
    assert.equal(saved.json.version, v0 + 1, 'the version increased');
    assert.equal(saved.json.author, 'e2e-admin');
    assert.equal(saved.json.settings.approve, 0.9);
    assert.equal(saved.json.settings.reject, 0.2);
    assert.deepEqual(saved.json.settings.categories.unrest, { approve: 0.95, reject: 0.1 });
    assert.ok(saved.json.settings.incident_types.arson.required_fields.includes('coordinates'));
    // What was not edited is kept as it was.
    for (const [name, o] of Object.entries(before.json.settings.categories ?? {})) {
      if (name !== 'unrest') assert.deepEqual(saved.json.settings.categories[name], o, `category ${name} unchanged`);
    }
    await shot(page, 'triage-saved');
    await context.close();
  });

  it('an analyst sees the page read-only, and a forced change is answered 403 in the banner', async () => {
    const feed = await feedByUrl(feedUrl);
    const { context, page } = await openAdmin(ANALYST);
    const note = page.locator('#admin-readonly');
    await note.waitFor();
    assert.match(await note.textContent(), /Changes here need the admin role/);
    assert.match(await note.textContent(), /e2e-analyst\) has the analyst role/);
    const row = feedRow(page, feed.id);
    await row.waitFor();
    assert.equal(await row.locator('.feed-fetch').isDisabled(), true);
    assert.equal(await row.locator('.feed-toggle').isDisabled(), true);
    assert.equal(await page.locator('#feed-add').isDisabled(), true);
    assert.equal(await page.locator('#feed-url').isDisabled(), true);
    await page.locator('#tr-meta[data-version]').waitFor();
    assert.equal(await page.locator('#tr-save').isDisabled(), true);
    assert.equal(await page.locator('#tr-approve').isDisabled(), true);
    assert.equal(await page.locator('#tr-types input[type="checkbox"]').first().isDisabled(), true);
    await page.locator('#jobs-conn[data-state="live"]').waitFor();
    assert.ok((await page.locator('#jobs-recent tr[data-job-id]').count()) > 0, 'the analyst sees the jobs');
    assert.equal(await page.locator('#banner-error').isVisible(), false);
    await shot(page, 'analyst-read-only');

    // Were a control enabled, the server refuses: its 403 is named in the banner.
    await row.locator('.feed-fetch').evaluate((b) => {
      b.disabled = false;
    });
    await page.evaluate(() => document.body.classList.remove('read-only'));
    await row.locator('.feed-fetch').click();
    const banner = page.locator('#banner-error');
    await banner.waitFor();
    assert.match(await banner.textContent(), new RegExp(`Fetch feed ${feed.id} failed \\(403\\)`));
    await shot(page, 'analyst-403');
    await context.close();
  });

  it('a curator sees it read-only too', async () => {
    const { context, page } = await openAdmin(CURATOR);
    await page.locator('#admin-readonly').waitFor();
    assert.match(await page.locator('#admin-readonly').textContent(), /e2e-curator\) has the curator role/);
    await page.locator('#feeds-table tr[data-feed-id]').first().waitFor();
    assert.equal(await page.locator('#feed-add').isDisabled(), true);
    await context.close();
  });
});

it('no script errors on the admin page', () => {
  assert.deepEqual(pageErrors, []);
});
