// The intel API's admin shapes as the admin page reads them (the contract:
// docs/INTEL_API.md and docs/openapi.json). Feed times are milliseconds since
// the epoch (UTC); job times are RFC 3339 text, as the job stream sends them.

export type FeedStatus = 'active' | 'paused' | 'failing';

export interface Feed {
  id: number;
  url: string;
  title: string;
  schedule_s: number;
  status: FeedStatus | string;
  last_fetch: number | null;
  next_fetch: number;
  last_error: string;
  consecutive_failures: number;
  etag?: string;
  last_modified?: string;
  created?: number;
}

export interface FeedList {
  feeds: Feed[];
}

/** One category's or incident type's overrides; types may also require fields. */
export interface TriageOverride {
  approve?: number;
  reject?: number;
  required_fields?: string[];
}

/** The body of PUT /v1/intel/triage's "settings" (and of GET's). */
export interface TriageSettings {
  approve: number;
  reject: number;
  categories?: Record<string, TriageOverride>;
  incident_types?: Record<string, TriageOverride>;
}

export interface TriageVersion {
  version: number;
  author: string;
  at: number;
  settings: Partial<TriageSettings>;
}

export const QUEUE_NAMES = ['fetch', 'enrich', 'extract'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const COUNT_NAMES = ['queued', 'running', 'done', 'dead', 'retried', 'recovered'] as const;
export type CountName = (typeof COUNT_NAMES)[number];

export type QueueCounts = { queue: string } & Record<CountName, number>;

/** A job as GET /v1/intel/jobs lists it and the stream reports it. */
export interface JobRow {
  id: number;
  queue: string;
  state: string; // queued | running | done | dead
  attempts: number;
  error: string;
  updated: string;
  run_at?: string;
  failure?: string | null;
  worker?: string;
  dedup_key?: string;
  /** The last change the stream reported (absent for jobs from the REST list). */
  change?: string;
}

export interface JobsAnswer {
  queues: QueueCounts[];
  recent: JobRow[];
}

export type JobChange = 'enqueued' | 'claimed' | 'completed' | 'retrying' | 'dead' | 'recovered';

export type JobStreamMessage =
  | { type: 'jobs'; queues: QueueCounts[] }
  | ({ type: 'job'; change: JobChange | string } & JobRow);
