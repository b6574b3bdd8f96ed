// The admin page: incident curation's feeds (add, fetch now, pause/resume),
// the triage settings (versioned; edited, checked, saved) and the job queues
// (counts and the newest jobs, live from /v1/intel/jobs/stream). Changes need
// the admin role; an analyst or curator sees everything with the change
// controls disabled and a note saying why. A 403 is named in the banner.

import '../style.css';

import { Api, ApiError } from '../api.js';
import { INCIDENT_TYPES } from '../incidents/types.js';
import { failureText } from '../incidents/format.js';
import { ErrorBanner, PageShell, roleAllows } from '../nav.js';
import type { SocketLike } from '../stream.js';
import { loadToken } from '../token.js';
import type { WhoAmI } from '../types.js';
import { byId, setText, toast } from '../ui/dom.js';
import { FeedsView } from './feeds_view.js';
import { applyJobMessage, applyJobsAnswer, emptyBoard, type JobBoard, JobStream } from './jobs.js';
import { JobsView } from './jobs_view.js';
import { putJson } from './put.js';
import { draftFromSettings } from './triage.js';
import { TriageView } from './triage_view.js';
import type { Feed, FeedList, JobsAnswer, TriageSettings, TriageVersion } from './types.js';

/** Feeds are reloaded this often for their fetch times, besides after every fetch job the stream reports. */
const FEEDS_RELOAD_MS = 30000;

let api: Api | null = null;
/** The session's token (the stream's subprotocol and the PUT need it; Api keeps its own private). */
let token = '';
let me: WhoAmI | null = null;
let generation = 0;
let board: JobBoard = emptyBoard();
let stream: JobStream | null = null;
let feedsTimer: ReturnType<typeof setTimeout> | null = null;
let feedsSoon: ReturnType<typeof setTimeout> | null = null;

const banner = new ErrorBanner(byId('banner-error'));

/**
 * Runs an API call. A status in `answered` is the caller's to show (a form's
 * 400/409); any other failure but 401 (which signs out) is named in the
 * banner. Resolves with the answer or the ApiError of an `answered` status.
 */
async function act<T>(what: string, fn: (a: Api) => Promise<T>, answered: number[] = []): Promise<T | ApiError> {
  if (!api) throw new Error('not signed in');
  const gen = generation;
  try {
    const r = await fn(api);
    if (gen === generation) banner.clear(what);
    return r;
  } catch (e) {
    if (gen !== generation) throw e;
    if (e instanceof ApiError && answered.includes(e.status)) {
      banner.clear(what);
      return e;
    }
    if (!(e instanceof ApiError && e.status === 401)) banner.show(what, failureText(what, e));
    throw e;
  }
}

const feedsView = new FeedsView(byId<HTMLTableElement>('feeds-table'), byId<HTMLFormElement>('feed-form'), byId('feeds-count'), {
  fetchNow: async (f) => {
    const r = await act(`Fetch feed ${f.id}`, (a) => a.post<{ job: number }>(`v1/intel/feeds/${f.id}/fetch`));
    if (!(r instanceof ApiError)) toast(`Fetch of "${f.title || f.url}" queued (job ${r.job})`);
  },
  setStatus: async (f, status) => {
    const r = await act(`${status === 'paused' ? 'Pause' : 'Resume'} feed ${f.id}`, (a) => a.post<Feed>(`v1/intel/feeds/${f.id}/status`, { status }));
    if (r instanceof ApiError) return;
    toast(`Feed "${r.title || r.url}" ${r.status === 'paused' ? 'paused' : 'resumed'}`);
    await loadFeeds();
  },
  add: async (body) => {
    const r = await act('Add a feed', (a) => a.post<Feed>('v1/intel/feeds', body), [400, 409]);
    if (r instanceof ApiError) return `${r.status === 409 ? 'Already a feed' : 'Refused'} (${r.status}): ${r.message}`;
    toast(`Added feed "${r.title || r.url}"; its first fetch is queued`);
    await loadFeeds();
    return null;
  },
});

const triageView = new TriageView(
  {
    meta: byId('tr-meta'),
    approve: byId<HTMLInputElement>('tr-approve'),
    reject: byId<HTMLInputElement>('tr-reject'),
    categories: byId<HTMLTableSectionElement>('tr-categories'),
    catName: byId<HTMLInputElement>('tr-cat-name'),
    catAdd: byId<HTMLButtonElement>('tr-cat-add'),
    types: byId<HTMLTableElement>('tr-types'),
    errors: byId('tr-errors'),
    status: byId('tr-status'),
    save: byId<HTMLButtonElement>('tr-save'),
    revert: byId<HTMLButtonElement>('tr-revert'),
  },
  {
    save: async (settings: TriageSettings) => {
      const r = await act(
        'Save the triage settings',
        (a) =>
          putJson<TriageVersion>(a.url('v1/intel/triage'), token, { settings }, () => {
            // Api's 401 path signs out: let it see the refusal too.
            void a.get<WhoAmI>('v1/whoami').catch(() => undefined);
          }),
        [400],
      );
      if (r instanceof ApiError) return `The server refused the settings (400): ${r.message}`;
      showTriage(r);
      toast(`Saved triage settings version ${r.version}`);
      return null;
    },
    revert: () => void loadTriage(),
  },
);

const jobsView = new JobsView(byId<HTMLTableElement>('job-counts'), byId<HTMLTableElement>('jobs-recent'), byId('jobs-conn'));

function showTriage(v: TriageVersion): void {
  triageView.show(v, draftFromSettings(v.settings, INCIDENT_TYPES));
}

async function loadFeeds(): Promise<void> {
  if (!api) return;
  const gen = generation;
  try {
    const r = await act('Load the feeds', (a) => a.get<FeedList>('v1/intel/feeds'));
    if (gen !== generation || r instanceof ApiError) return;
    feedsView.render(r.feeds ?? []);
    document.documentElement.dataset.feedsLoaded = String(Date.now());
  } catch {
    // In the banner.
  } finally {
    if (gen === generation) {
      if (feedsTimer !== null) clearTimeout(feedsTimer);
      feedsTimer = setTimeout(() => void loadFeeds(), FEEDS_RELOAD_MS);
    }
  }
}

/** A fetch job finished: its feed's state changed. Several in a burst make one reload. */
function reloadFeedsSoon(): void {
  if (feedsSoon !== null) return;
  feedsSoon = setTimeout(() => {
    feedsSoon = null;
    void loadFeeds();
  }, 300);
}

async function loadTriage(): Promise<void> {
  if (!api) return;
  const gen = generation;
  try {
    const r = await act('Load the triage settings', (a) => a.get<TriageVersion>('v1/intel/triage'));
    if (gen !== generation || r instanceof ApiError) return;
    showTriage(r);
  } catch {
    // In the banner.
  }
}

async function loadJobs(): Promise<void> {
  if (!api) return;
  const gen = generation;
  try {
    const r = await act('Load the jobs', (a) => a.get<JobsAnswer>('v1/intel/jobs'));
    if (gen !== generation || r instanceof ApiError) return;
    board = applyJobsAnswer(board, r);
    jobsView.render(board);
  } catch {
    // In the banner.
  }
}

function startStream(a: Api, bearer: string): void {
  const gen = generation;
  stream = new JobStream(
    document.baseURI,
    bearer,
    {
      onMessage: (msg) => {
        if (gen !== generation) return;
        board = applyJobMessage(board, msg);
        jobsView.render(board);
        if (msg.type === 'job' && msg.queue === 'fetch' && msg.change !== 'enqueued' && msg.change !== 'claimed') reloadFeedsSoon();
      },
      onState: (state, detail) => {
        if (gen === generation) jobsView.setConnection(state, detail);
      },
      onOpen: () => void loadJobs(),
      onUnauthorized: (reason) => {
        if (gen !== generation) return;
        jobsView.setConnection('stopped', `token refused: ${reason}`);
        // A 401 from the REST side signs out; a token still good there keeps the page.
        void a.get<WhoAmI>('v1/whoami').catch(() => undefined);
      },
      onNeverOpened: () => {
        // A handshake refused with HTTP 401 closes without a code: ask the REST side.
        void a.get<WhoAmI>('v1/whoami').catch(() => undefined);
      },
    },
    {
      createSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      random: Math.random,
      now: Date.now,
    },
  );
  stream.start();
}

function setCanChange(can: boolean): void {
  document.body.classList.toggle('read-only', !can);
  const note = byId('admin-readonly');
  if (can) {
    note.hidden = true;
  } else {
    const whom = me ? `This token (${me.name}) has the ${me.role} role` : 'This token lacks it';
    setText(note, `Changes here need the admin role. ${whom}: you can look at feeds, triage settings and jobs, but not change them.`);
    note.hidden = false;
  }
  feedsView.setCanChange(can);
  triageView.setCanChange(can);
}

function reset(): void {
  generation++;
  stream?.stop();
  stream = null;
  api = null;
  me = null;
  token = '';
  if (feedsTimer !== null) clearTimeout(feedsTimer);
  if (feedsSoon !== null) clearTimeout(feedsSoon);
  feedsTimer = feedsSoon = null;
  board = emptyBoard();
  banner.clear();
  byId('admin-readonly').hidden = true;
  feedsView.render([]);
  triageView.clear();
  jobsView.render(board);
  jobsView.setConnection('stopped', '');
}

const shell = new PageShell('admin', {
  onSession: (a, who) => {
    api = a;
    me = who;
    token = loadToken(window.location, window.history, sessionStorage) ?? '';
    // Without a whoami answer the server decides: a refused change shows its 403 in the banner.
    setCanChange(who ? roleAllows(who.role, 'admin') : true);
    void loadFeeds();
    void loadTriage();
    void loadJobs();
    startStream(a, token);
  },
  onSignedOut: reset,
});

byId('feeds-reload').addEventListener('click', () => void loadFeeds());
byId('jobs-reload').addEventListener('click', () => void loadJobs());

jobsView.render(board);
shell.boot();
