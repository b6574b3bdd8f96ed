// The API's JSON shapes as the page reads them (see web/README.md and the
// server's /v1/openapi.json). Fields the page does not need may be absent.

import type { FeatureCollection } from 'geojson';

export type Priority = 'P0' | 'P1' | 'P2' | 'P3';
export const PRIORITIES: readonly Priority[] = ['P0', 'P1', 'P2', 'P3'];

export type Verdict = 'none' | 'true_positive' | 'false_positive';

export interface ScoreTerms {
  threat_severity: number;
  model_confidence: number;
  corroboration: number;
  temporal_urgency: number;
  spatial_sensitivity: number;
  boost: number;
}

export const TERM_NAMES: readonly (keyof ScoreTerms)[] = [
  'threat_severity',
  'model_confidence',
  'corroboration',
  'temporal_urgency',
  'spatial_sensitivity',
  'boost',
];

/** One alert as GET /v1/alerts and the stream serve it: the pipeline record plus the operator side. */
export interface StoredAlert {
  alert_id: string;
  dedup_key?: string;
  type: string;
  status: string; // "alert" | "trend_watch"
  priority: Priority;
  score: number;
  confidence: number | null;
  verified: boolean;
  terms: ScoreTerms;
  sources: string[];
  event_ids: string[];
  lat: number | null;
  lon: number | null;
  cell?: string | null;
  district: string | null;
  event_time: string;
  emitted_at: string;
  count: number;
  bias_review: boolean;
  category: string;
  revision: number;
  first_seen: string;
  last_seen: string;
  received_at: string;
  updated_at: string;
  ack_due: string | null;
  acked_at: string | null;
  acked_by: string | null;
  ack_late: boolean;
  verdict: Verdict;
  verdict_at: string | null;
  verdict_by: string | null;
  verdict_note: string | null;
  origin?: string | null;
}

export type ChangeKind = 'new' | 'update' | 'ack' | 'feedback' | 'evict';

export interface AlertChange {
  seq: number;
  kind: ChangeKind;
  alert: StoredAlert;
}

export interface QueueStatus {
  backend: string; // "memory" | "redis"
  connected: boolean;
  down_since: string | null;
}

export type StreamMessage =
  | { type: 'snapshot'; seq: number; alerts: StoredAlert[]; reset?: boolean; stream?: string }
  | { type: 'changes'; changes: AlertChange[] }
  | { type: 'status'; queue: QueueStatus }
  | { type: 'pong' }
  | { type: 'error'; error: string };

export interface StageLatency {
  stage: string;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

export interface Stats {
  now: string;
  events: { total: number; rate_per_s: number };
  dead_letters: number;
  late: number;
  duplicates: number;
  suppressed: number;
  alerts: number;
  trend_watch: number;
  unacked: number;
  overdue: number;
  /** The queue's last change sequence number (what the stream's seq counts). */
  last_seq?: number;
  by_priority: Partial<Record<Priority, number>>;
  degraded: boolean;
  consumer_lag: number;
  watermark: string | null;
  latency: { budget_ms: number; warn_p95_ms?: number; stages: StageLatency[] };
  queue: QueueStatus;
}

export interface Site {
  kind: string;
  id?: string;
  name?: string;
  lat: number;
  lon: number;
}

export interface Geofence {
  name: string;
  polygons: [number, number][][];
  circles: { lat: number; lon: number; radius_m: number }[];
}

export interface MapData {
  districts: FeatureCollection | null;
  sites: Site[];
  geofences: Geofence[];
  center: { lat: number; lon: number } | null;
  /** city.bounds: [lat_min, lon_min, lat_max, lon_max], or null for the whole globe. */
  bounds?: [number, number, number, number] | null;
  /** Score weights per term, when the server gives them (priority.weights). */
  weights?: Partial<Record<keyof ScoreTerms, number>>;
}

export interface AuditRecord {
  /** Which signed log holds it: "audit" (the pipeline's) or "access" (operator actions). */
  log?: string;
  seq: number;
  ts: string;
  decision: string;
  ref: string;
  reasons: Record<string, unknown> | null;
}

export interface AuditTrail {
  alert_id: string;
  records: AuditRecord[];
}

export interface WhoAmI {
  name: string;
  role: string;
}
