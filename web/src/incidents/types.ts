// The intel API's incident shapes as the pages read them (the contract:
// /v1/intel/incidents in docs/API.md). Times are milliseconds since the epoch (UTC).

export type IncidentStatus = 'open' | 'closed' | 'retracted';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'closed', 'retracted'];

/** The incident types of the extraction taxonomy (docs/EXTRACTION.md), in the order the filters list them. */
export const INCIDENT_TYPES: readonly string[] = [
  'shooting',
  'homicide',
  'assault',
  'sexual_assault',
  'attack',
  'bombing',
  'kidnapping',
  'hijacking',
  'robbery',
  'carjacking',
  'burglary',
  'theft',
  'arson',
  'vandalism',
  'forced_work_stoppage',
  'weapons',
  'drugs',
  'arrest',
];

export type DedupRule = 'none' | 'canonical_url' | 'title' | 'fingerprint' | 'entity';

export interface Actor {
  role: string;
  description: string;
}

export interface IncidentSummary {
  id: number;
  type: string;
  time: number | null;
  place: string;
  lat: number | null;
  lon: number | null;
  district: string;
  status: IncidentStatus | string;
  confidence: number;
  sources: number;
}

export interface IncidentEvent {
  time: number | null;
  kind: string;
  description: string;
}

export interface Charge {
  description: string;
  statute: string;
  count: number;
}

export interface CaseInfo {
  case_number: string;
  court: string;
  charges: Charge[];
  disposition: string;
  disposition_time: number | null;
}

export interface IncidentSource {
  article: number;
  url: string;
  via: DedupRule | string;
  added: number;
}

export interface HistoryEntry {
  at: number;
  actor: string;
  field: string;
  old_value: string;
  new_value: string;
  reason: string;
}

/** GET /v1/intel/incidents/{id}: the summary's fields and the rest. */
export interface Incident extends Omit<IncidentSummary, 'sources'> {
  actors: Actor[];
  events: IncidentEvent[];
  case: CaseInfo | null;
  sources: IncidentSource[];
  history: HistoryEntry[];
}

/** A count per key as the server sends it: [["shooting", 12], ...]. */
export type CountPairs = [string, number][];

export interface IncidentPage {
  items: IncidentSummary[];
  total: number;
  by_type: CountPairs;
  by_district: CountPairs;
}

/** The severity family of a type (docs/EXTRACTION.md's taxonomy): the marker colour. */
export function typeFamily(type: string): 'violent' | 'property' | 'other' {
  switch (type) {
    case 'shooting':
    case 'homicide':
    case 'assault':
    case 'sexual_assault':
    case 'attack':
    case 'bombing':
    case 'kidnapping':
    case 'hijacking':
    case 'robbery':
    case 'carjacking':
      return 'violent';
    case 'burglary':
    case 'theft':
    case 'arson':
    case 'vandalism':
      return 'property';
    default:
      return 'other';
  }
}

export const FAMILY_COLOURS: Record<'violent' | 'property' | 'other', string> = {
  violent: '#e53935',
  property: '#fb8c00',
  other: '#42a5f5',
};
