// The intel API's curation shapes as the page reads them (the contract:
// /v1/intel/curation in docs/API.md). Times are milliseconds since the epoch (UTC).

import type { Actor, DedupRule, Incident } from '../incidents/types.js';

export type ItemState = 'open' | 'approved' | 'rejected';
export type StateFilter = ItemState | 'any';
export const STATE_FILTERS: readonly StateFilter[] = ['open', 'approved', 'rejected', 'any'];

export interface Dedup {
  rule: DedupRule | string;
  article: number | null;
  incident: number | null;
  score: number;
}

export interface Article {
  id: number;
  title: string;
  url: string;
  canonical_url: string;
  text: string;
  published: number | null;
  feed: number | null;
  dedup: Dedup;
}

export interface ExtractedFields {
  type: string;
  time: number | null;
  time_precision: string;
  time_text: string;
  place: string;
  qualified: string;
  lat: number | null;
  lon: number | null;
  district: string;
  place_precision: string;
  actors: Actor[];
  perpetrator_org: string;
  targets: string[];
  evidence: string;
}

export interface Triage {
  outcome: 'approve' | 'review' | 'reject' | 'pending' | string;
  reasons: string[];
}

export interface Extraction {
  id: number;
  provider: string;
  stage: string;
  confidence: number;
  triage: Triage;
  fields: ExtractedFields;
}

export interface ItemAction {
  kind: 'approve' | 'reject' | 'correct' | string;
  reason: string;
  field: string;
  old_value: string;
  new_value: string;
  actor: string;
  at: number;
}

export interface CurationItem {
  id: number;
  state: ItemState;
  confidence: number;
  created: number;
  decided: number | null;
  decided_by: string;
  incident: number | null;
  article: Article;
  extraction: Extraction;
  actions: ItemAction[];
}

export interface CurationPage {
  items: CurationItem[];
  total: number;
}

export interface ApproveAnswer {
  item: CurationItem;
  incident: Incident;
}

export interface ItemAnswer {
  item: CurationItem;
}
