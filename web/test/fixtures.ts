// A StoredAlert builder for the tests (synthetic data: no people, no real places).

import type { StoredAlert } from '../src/types.js';

export function alert(over: Partial<StoredAlert> & { alert_id: string }): StoredAlert {
  return {
    dedup_key: `sensor/cell/${over.alert_id}`,
    type: 'sensor',
    status: 'alert',
    priority: 'P1',
    score: 0.7,
    confidence: 0.8,
    verified: false,
    terms: {
      threat_severity: 1,
      model_confidence: 0.8,
      corroboration: 0,
      temporal_urgency: 1,
      spatial_sensitivity: 0,
      boost: 0,
    },
    sources: ['sensor'],
    event_ids: ['ev-1'],
    lat: 41.85,
    lon: -87.65,
    cell: '880e2c',
    district: 'NORTH',
    event_time: '2026-03-02T22:00:00.000Z',
    emitted_at: '2026-03-02T22:00:00.100Z',
    count: 1,
    bias_review: false,
    category: 'sensor.gunshot',
    revision: 1,
    first_seen: '2026-03-02T22:00:00.000Z',
    last_seen: '2026-03-02T22:00:00.000Z',
    received_at: '2026-03-02T22:00:01.000Z',
    updated_at: '2026-03-02T22:00:01.000Z',
    ack_due: '2026-03-02T22:05:01.000Z',
    acked_at: null,
    acked_by: null,
    ack_late: false,
    verdict: 'none',
    verdict_at: null,
    verdict_by: null,
    verdict_note: null,
    origin: '',
    ...over,
  };
}
