// The curation and incidents pages in headless Debian Chromium against a real
// `sentinel run` (started by run.sh, which passes its address and the admin,
// analyst and curator tokens). The suite serves its own news feed on
// 127.0.0.1 (synthetic articles: descriptions, no names), registers it,
// fetches it, and drives what the extraction made of it: a curator approves
// an item with a corrected time (it appears on the incident map), rejecting
// needs a reason, the keys j/k/a work, an analyst is told that curation needs
// the curator role, and the timeline plays the incidents back day by day.
// The tests run in order and share the items. One screenshot per test goes to
// $E2E_WORK/screenshots (names start with "intel-").

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
const VIEWPORT = { width: 1600, height: 1000 };
/** The pages show times in the browser's zone; the city's makes the days below the city's days. */
const ZONE = 'America/Chicago';
/** Noon in Chicago (UTC-6 in February) of the days the approved incidents are moved to. */
const noon = (day) => Date.UTC(2020, 1, day, 18);
const DAY_TEXT = (day) => `2020-02-${String(day).padStart(2, '0')}`;
/** Where Chicago's day 2020-02-`day` starts (06:00 UTC). */
const dayStartUtc = (day) => Date.UTC(2020, 1, day, 6);

// Synthetic local news: places from the city's gazetteer, people as descriptions.
// Each text is over 500 characters so no page fetch is needed, and each page is served too in case it is.
const FILLER =
  ' Officers canvassed the block and asked residents with doorbell cameras to share footage. The area was taped off for several hours while evidence technicians worked the scene. Anyone with information was asked to call the district tip line; callers may remain anonymous.';
const ARTICLES = [
  {
    slug: 'englewood-shooting',
    title: 'Man, 34, wounded in shooting on West 63rd Street',
    text: 'A 34-year-old man was shot and wounded on Tuesday night in the 1300 block of West 63rd Street in Englewood, police said. He was taken to a hospital in fair condition and no one is in custody.' + FILLER,
  },
  {
    slug: 'austin-robbery',
    title: 'Woman, 52, robbed at gunpoint on West Chicago Avenue',
    text: 'A 52-year-old woman was robbed at gunpoint on Monday morning in the 5600 block of West Chicago Avenue in Austin, police said. Two men took her purse and phone and fled in a gray sedan.' + FILLER,
  },
  {
    slug: 'rogers-park-arson',
    title: 'Garage set on fire in Rogers Park alley',
    text: 'A garage was set on fire early Sunday in the 1400 block of West Morse Avenue in Rogers Park, fire officials said. Arson investigators are looking for a man seen running from the alley.' + FILLER,
  },
  {
    slug: 'hyde-park-carjacking',
    title: 'Driver, 19, carjacked on East 53rd Street',
    text: 'A 19-year-old driver was carjacked on Saturday evening in the 1500 block of East 53rd Street in Hyde Park, police said. A man with a handgun ordered him out of the car and drove off.' + FILLER,
  },
  {
    slug: 'west-town-burglary',
    title: 'Shop burglarized on West Chicago Avenue in West Town',
    text: 'A clothing shop was burglarized overnight on Wednesday in the 1800 block of West Chicago Avenue in West Town, police said. The burglars broke the front window and took cash from the register.' + FILLER,
  },
];

let browser;
let shotNumber = 0;
const pageErrors = [];
let feedServer;
let feedBase;
/** slug -> the curation item the extraction made of the article. */
const items = new Map();
/** The incidents approved here: slug -> incident id. */
const incidents = new Map();

async function shot(page, name) {
  shotNumber += 1;
  await page.screenshot({ path: join(SHOTS, `intel-${String(shotNumber).padStart(2, '0')}-${name}.png`) });
}

async function openPage(path, token, hash = '') {
  const context = await browser.newContext({ viewport: VIEWPORT, timezoneId: ZONE });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${path}: ${e.message}`));
  page.on('console', (m) => {
    // 401/403 answers are part of what is tested; the browser logs them as failed loads.
    if (m.type() === 'error' && !/status of 40[13]|Failed to load resource/.test(m.text())) pageErrors.push(`${path} console: ${m.text()}`);
  });
  await page.goto(new URL(path, BASE).toString() + `#token=${token}${hash}`);
  return { context, page };
}


/** Every extraction to the curation queue: no automatic approval or rejection during the suite. */
async function triageEverythingToReview() {
  const cur = await api('GET', 'v1/intel/triage', ADMIN);
  assert.equal(cur.status, 200, `GET /v1/intel/triage: ${cur.text}`);
  const s = structuredClone(cur.json.settings ?? {});
  s.approve = 1;
  s.reject = 0;
  // docs/INTEL_API.md: categories and incident types override the thresholds; types may require fields.
  for (const k of Object.keys(s.categories ?? {})) s.categories[k] = { approve: 1, reject: 0 };
  for (const t of Object.values(s.incident_types ?? {})) {
    t.approve = 1;
    t.reject = 0;
    t.required_fields = [];
  }
  const put = await api('PUT', 'v1/intel/triage', ADMIN, { settings: s });
  assert.equal(put.status, 200, `PUT /v1/intel/triage: ${put.text}`);
}

const row = (page, id) => page.locator(`#cq-list li[data-item-id="${id}"]`);

async function itemOf(slug) {
  const it = items.get(slug);
  assert.ok(it, `the extraction made an item of ${slug}`);
  return it;
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  ({ server: feedServer, base: feedBase } = await startNewsSite('e2e local news', ARTICLES));
  await triageEverythingToReview();
  const feed = await api('POST', 'v1/intel/feeds', ADMIN, { url: `${feedBase}feed.xml`, title: 'e2e local news', schedule_s: 3600 });
  assert.equal(feed.status, 201, `POST /v1/intel/feeds: ${feed.text}`);
  const job = await api('POST', `v1/intel/feeds/${feed.json.id}/fetch`, ADMIN);
  assert.equal(job.status, 202, `POST /v1/intel/feeds/${feed.json.id}/fetch: ${job.text}`);
  await until(`curation items of all ${ARTICLES.length} articles`, async () => {
    const r = await api('GET', 'v1/intel/curation?state=open&limit=200&offset=0', CURATOR);
    assert.equal(r.status, 200, r.text);
    for (const it of r.json.items) {
      const a = ARTICLES.find((x) => it.article.url === `${feedBase}news/${x.slug}`);
      if (a && !items.has(a.slug)) items.set(a.slug, it);
    }
    return items.size === ARTICLES.length;
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (feedServer ? feedServer.close(r) : r()));
});

/** Corrections that move the item to noon of 2020-02-`day` (and give it coordinates when the extraction found none). */
async function setTime(page, it, day) {
  await page.fill('#fld-time', `${DAY_TEXT(day)}T12:00`);
  if (it.extraction.fields.lat === null || it.extraction.fields.lon === null) {
    await page.fill('#fld-lat', '41.8781');
    await page.fill('#fld-lon', '-87.6298');
  }
}

/** Checks through the API that the item is approved, its incident exists at the corrected time, and returns the incident id. */
async function approvedAt(it, day) {
  const r = await until(`item ${it.id} approved`, async () => {
    const x = await api('GET', `v1/intel/curation/${it.id}`, CURATOR);
    return x.json?.state === 'approved' ? x : null;
  }, 10000);
  assert.equal(typeof r.json.incident, 'number', `item ${it.id} names its incident`);
  const kinds = r.json.actions.map((a) => `${a.kind}${a.field ? `:${a.field}` : ''}`);
  assert.ok(kinds.includes('correct:time'), `the time correction is in the item's actions: ${kinds}`);
  assert.ok(kinds.includes('approve'), `the approval is in the item's actions: ${kinds}`);
  const inc = await api('GET', `v1/intel/incidents/${r.json.incident}`, ANALYST);
  assert.equal(inc.status, 200, inc.text);
  assert.equal(inc.json.time, noon(day), 'the incident has the corrected time');
  return r.json.incident;
}

describe('curation and incidents pages', () => {
  it('a curator approves an item with a corrected time, and it appears on the incident map', async () => {
    const it = await itemOf('englewood-shooting');
    const { context, page } = await openPage('curation.html', CURATOR);
    assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
    assert.match(await page.locator('#role').textContent(), /^curator$/);
    await row(page, it.id).click();
    assert.equal(await page.locator('#article-title').textContent(), it.article.title);
    assert.equal(await page.locator('#article-link').getAttribute('href'), it.article.url);
    assert.match(await page.locator('#article-text').textContent(), /West 63rd Street/);
    assert.equal(await page.locator('#fld-type').inputValue(), it.extraction.fields.type);
    assert.match(await page.locator('#item-triage').textContent(), /triage: review/);
    await setTime(page, it, 4);
    assert.match(await page.locator('#btn-approve').textContent(), /^Approve with \d corrections?$/);
    await page.locator('.fld[data-field="time"].is-changed').waitFor();
    await shot(page, 'curation-corrected');
    await page.click('#btn-approve');
    await row(page, it.id).waitFor({ state: 'detached' });
    const incidentId = await approvedAt(it, 4);
    incidents.set('englewood-shooting', incidentId);
    await context.close();

    const an = await openPage('incidents.html', ANALYST, `&from=${DAY_TEXT(4)}&to=${DAY_TEXT(4)}`);
    const marker = an.page.locator(`#inc-map .incident-marker[data-incident-id="${incidentId}"]`);
    await marker.waitFor();
    assert.equal(await an.page.locator('#inc-map .incident-marker').count(), 1, 'the one incident of that day');
    // The map may still be moving to fit the day's incidents (slow under load):
    // a click that lands before it settles misses the marker, so click again.
    const detail = an.page.locator('#detail-type', { hasText: `#${incidentId}` });
    for (let i = 0; i < 10 && !(await detail.isVisible()); i += 1) {
      await marker.click();
      await detail.waitFor({ timeout: 2000 }).catch(() => {});
    }
    await detail.waitFor();
    assert.equal(await an.page.locator('#detail-sources a').first().getAttribute('href'), it.article.url);
    assert.match(await an.page.locator('#detail-sources').textContent(), /first report/);
    await an.page.waitForTimeout(300); // the map's first draw, for the picture
    await shot(an.page, 'incident-on-map');
    await an.context.close();
  });

  it('rejecting needs a reason', async () => {
    const it = await itemOf('west-town-burglary');
    const { context, page } = await openPage('curation.html', CURATOR);
    await row(page, it.id).click();
    await page.locator('#cq-list').focus();
    await page.keyboard.press('r');
    await page.locator('#reject-box').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'reject-reason', 'r puts the cursor in the reason');
    await page.click('#btn-reject-confirm');
    await page.locator('#reject-error', { hasText: 'A reason is required' }).waitFor();
    await shot(page, 'reject-needs-reason');
    assert.equal((await api('GET', `v1/intel/curation/${it.id}`, CURATOR)).json.state, 'open', 'nothing was sent without a reason');
    // The server refuses one as well.
    const bare = await api('POST', `v1/intel/curation/${it.id}/reject`, CURATOR, {});
    assert.equal(bare.status, 400, `reject without a reason: ${bare.text}`);
    await page.fill('#reject-reason', 'a shop burglary outside the scope of this desk');
    await page.press('#reject-reason', 'Enter');
    await row(page, it.id).waitFor({ state: 'detached' });
    const r = await api('GET', `v1/intel/curation/${it.id}`, CURATOR);
    assert.equal(r.json.state, 'rejected');
    assert.equal(r.json.incident, null);
    const rej = r.json.actions.find((a) => a.kind === 'reject');
    assert.equal(rej?.reason, 'a shop burglary outside the scope of this desk');
    // The rejected list shows it with its history.
    await page.selectOption('#cq-state', 'rejected');
    await row(page, it.id).click();
    await page.locator('#item-history li[data-kind="reject"]', { hasText: 'outside the scope' }).waitFor();
    assert.equal(await page.locator('#btn-approve').count(), 0, 'a decided item has no actions');
    await context.close();
  });

  it('j / k move through the queue and a approves', async () => {
    const { context, page } = await openPage('curation.html', CURATOR);
    const plan = [
      ['austin-robbery', 5],
      ['rogers-park-arson', 6],
      ['hyde-park-carjacking', 6],
    ];
    for (const [slug, day] of plan) {
      const it = await itemOf(slug);
      await row(page, it.id).click();
      const ids = await page.locator('#cq-list li[data-item-id]').evaluateAll((els) => els.map((e) => Number(e.dataset.itemId)));
      const i = ids.indexOf(it.id);
      await page.locator('#cq-list').focus();
      if (i + 1 < ids.length) {
        await page.keyboard.press('j');
        assert.equal(await row(page, ids[i + 1]).getAttribute('aria-selected'), 'true', 'j selects the next item');
        await page.keyboard.press('k');
      } else if (i > 0) {
        await page.keyboard.press('k');
        assert.equal(await row(page, ids[i - 1]).getAttribute('aria-selected'), 'true', 'k selects the previous item');
        await page.keyboard.press('j');
      }
      assert.equal(await row(page, it.id).getAttribute('aria-selected'), 'true');
      assert.equal(await page.locator('#article-title').textContent(), it.article.title);
      await setTime(page, it, day);
      await page.keyboard.press('Escape'); // leaves the field: the keys are the page's again
      await page.keyboard.press('a');
      await row(page, it.id).waitFor({ state: 'detached' });
      incidents.set(slug, await approvedAt(it, day));
    }
    await shot(page, 'keyboard-approvals');
    await context.close();
  });

  it('an analyst opening curation is told it needs the curator role', async () => {
    const direct = await api('GET', 'v1/intel/curation?state=open', ANALYST);
    assert.equal(direct.status, 403, `the API refuses the analyst: ${direct.text}`);
    const { context, page } = await openPage('curation.html', ANALYST);
    const msg = page.locator('#role-message');
    await msg.waitFor();
    const text = await msg.textContent();
    assert.match(text, /Curation needs the curator role/);
    assert.match(text, /e2e-analyst\) has the analyst role/);
    assert.match(text, /403/);
    assert.equal(await page.locator('main#curation').isVisible(), false);
    assert.equal(await page.locator('#cq-list li[data-item-id]').count(), 0);
    assert.equal(await page.locator('#banner-error').isVisible(), false, 'a role refusal is not an error banner');
    await shot(page, 'analyst-role-message');
    await context.close();
  });

  it('the timeline plays the incidents back day by day', async () => {
    const expected = [
      [DAY_TEXT(4), 1],
      [DAY_TEXT(5), 2],
      [DAY_TEXT(6), 4],
    ];
    const { context, page } = await openPage('incidents.html', ANALYST, `&from=${DAY_TEXT(4)}&to=${DAY_TEXT(6)}`);
    await page.locator('#timeline[data-markers="4"]').waitFor();
    for (const id of incidents.values()) await page.locator(`#inc-map .incident-marker[data-incident-id="${id}"]`).waitFor();
    // Counts at the end are the server's for the whole filter.
    const list = await api('GET', `v1/intel/incidents?from=${dayStartUtc(4)}&to=${dayStartUtc(7) - 1}&limit=500&offset=0`, ANALYST);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.total, 4);
    for (const [type, n] of list.json.by_type) {
      assert.equal(await page.locator(`#count-type tr[data-key="${type}"]`).getAttribute('data-count'), String(n), `count of ${type}`);
    }
    // Record every day the timeline shows, with the markers drawn on it.
    await page.evaluate(() => {
      const tl = document.getElementById('timeline');
      window.__days = [];
      new MutationObserver(() => {
        const last = window.__days[window.__days.length - 1];
        const cur = [tl.dataset.day, Number(tl.dataset.markers)];
        if (!last || last[0] !== cur[0] || last[1] !== cur[1]) window.__days.push(cur);
      }).observe(tl, { attributes: true, attributeFilter: ['data-day', 'data-markers'] });
    });
    await page.click('#tl-play');
    await page.locator('#timeline[data-index="1"]').waitFor();
    await shot(page, 'timeline-playing');
    await page.locator('#timeline[data-playing="false"][data-index="2"]').waitFor({ timeout: 10000 });
    assert.deepEqual(await page.evaluate(() => window.__days), expected, 'one day at a time, markers up to the day shown');
    assert.match(await page.locator('#counts-caption').textContent(), /^all 4 incidents/);
    // The slider shows any day.
    await page.locator('#tl-slider').evaluate((el) => {
      el.value = '1';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.locator('#timeline[data-index="1"][data-markers="2"]').waitFor();
    assert.match(await page.locator('#counts-caption').textContent(), new RegExp(`^up to ${DAY_TEXT(5)}: 2 of 4`));
    await shot(page, 'timeline-day-2');
    await context.close();
  });

  it('the filters narrow the map by type and the fragment keeps them', async () => {
    const { context, page } = await openPage('incidents.html', ANALYST, `&from=${DAY_TEXT(4)}&to=${DAY_TEXT(6)}`);
    await page.locator('#timeline[data-markers="4"]').waitFor();
    const shooting = await api('GET', `v1/intel/incidents/${incidents.get('englewood-shooting')}`, ANALYST);
    const type = shooting.json.type;
    await page.click('#f-type summary');
    await page.check(`#f-type input[value="${type}"]`);
    await page.click('#f-apply');
    const expected = (await api('GET', `v1/intel/incidents?from=${dayStartUtc(4)}&to=${dayStartUtc(7) - 1}&type=${type}`, ANALYST)).json.total;
    await page.locator(`#timeline[data-markers="${expected}"]`).waitFor();
    assert.ok(new URL(page.url()).hash.includes(`type=${type}`), `the filter is in the address: ${page.url()}`);
    assert.ok(!page.url().includes('token='), 'never the token');
    await shot(page, 'filtered');
    await context.close();
  });
});

it('no script errors on the intel pages', () => {
  assert.deepEqual(pageErrors, []);
});
