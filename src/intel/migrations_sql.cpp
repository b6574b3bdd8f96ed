// The SQL of src/intel/migrations/<dialect>/NNNN_name.sql as raw string literals,
// written by src/intel/migrations/embed.py; do not edit by hand.
// (A unit test compares every literal with its file.)
#include "intel/migrations.h"

namespace sentinel::intel {

std::span<const Migration> sqlite_migrations() {
  static const Migration kMigrations[] = {
    {1, "initial", R"sql(-- Feeds, articles, extractions, the curation queue, incidents and triage
-- settings. Times are integer milliseconds since the Unix epoch (UTC).
CREATE TABLE feeds (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  schedule_ms INTEGER NOT NULL,
  etag TEXT NOT NULL DEFAULT '',
  last_modified TEXT NOT NULL DEFAULT '',
  last_fetch_ms INTEGER,
  next_fetch_ms INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'failing')),
  last_error TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL
);
CREATE INDEX feeds_due ON feeds (next_fetch_ms);

-- fingerprint: the unsigned 64-bit content fingerprint stored bit for bit as
-- a signed integer. dedup_*: the verdict shown to the curator.
CREATE TABLE articles (
  id INTEGER PRIMARY KEY,
  canonical_url TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  feed_id INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  language TEXT NOT NULL DEFAULT '',
  published_ms INTEGER,
  fetched_ms INTEGER NOT NULL,
  fingerprint INTEGER NOT NULL,
  dedup_rule TEXT NOT NULL DEFAULT 'none'
    CHECK (dedup_rule IN ('none', 'canonical_url', 'title', 'fingerprint', 'entity')),
  dedup_article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
  dedup_incident_id INTEGER,
  dedup_score REAL NOT NULL DEFAULT 0,
  title_trigram_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_fetched ON articles (fetched_ms, id);
CREATE INDEX articles_feed ON articles (feed_id, fetched_ms, id);

-- The title-similarity index: an inverted index from pg_trgm's trigrams of
-- each title (computed by the store, see sql_store.cpp) to article ids. Each
-- trigram is one token, its UTF-8 bytes in hex; rowid = articles.id. FTS5
-- (contentless, no positions) rather than a (trigram, article_id) B-tree:
-- an insert appends one segment instead of touching a page per trigram.
CREATE VIRTUAL TABLE title_trigrams USING fts5(grams, content = '', columnsize = 0, detail = none);

CREATE TABLE extractions (
  id INTEGER PRIMARY KEY,
  article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  stage TEXT NOT NULL,
  result_json TEXT NOT NULL,
  confidence REAL NOT NULL,
  triage TEXT NOT NULL CHECK (triage IN ('pending', 'approve', 'review', 'reject')),
  triage_reasons TEXT NOT NULL DEFAULT '[]',
  created_ms INTEGER NOT NULL
);
CREATE INDEX extractions_article ON extractions (article_id, id);

CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  occurred_ms INTEGER NOT NULL,
  place TEXT NOT NULL DEFAULT '',
  lat REAL,
  lon REAL,
  district TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'retracted')),
  confidence REAL NOT NULL,
  extraction_id INTEGER REFERENCES extractions (id) ON DELETE SET NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX incidents_time ON incidents (occurred_ms, id);
CREATE INDEX incidents_type ON incidents (type, occurred_ms);
CREATE INDEX incidents_district ON incidents (district, occurred_ms);
CREATE INDEX incidents_status ON incidents (status, occurred_ms);

CREATE TABLE incident_actors (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('victim', 'suspect', 'officer', 'witness', 'agency')),
  description TEXT NOT NULL
);
CREATE INDEX incident_actors_incident ON incident_actors (incident_id, id);

CREATE TABLE incident_events (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  occurred_ms INTEGER,
  kind TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_cases (
  incident_id INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  case_number TEXT NOT NULL,
  court TEXT NOT NULL,
  disposition TEXT NOT NULL,
  disposition_ms INTEGER
);

CREATE TABLE incident_charges (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incident_cases (incident_id) ON DELETE CASCADE,
  description TEXT NOT NULL,
  statute TEXT NOT NULL,
  count INTEGER NOT NULL
);
CREATE INDEX incident_charges_incident ON incident_charges (incident_id, id);

-- via: 'none' for an original source, else the dedup rule that matched.
CREATE TABLE incident_sources (
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  via TEXT NOT NULL CHECK (via IN ('none', 'canonical_url', 'title', 'fingerprint', 'entity')),
  added_ms INTEGER NOT NULL,
  PRIMARY KEY (incident_id, article_id)
);

CREATE TABLE incident_history (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

CREATE TABLE curation_items (
  id INTEGER PRIMARY KEY,
  extraction_id INTEGER NOT NULL UNIQUE REFERENCES extractions (id) ON DELETE CASCADE,
  article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('open', 'approved', 'rejected')),
  confidence REAL NOT NULL,
  created_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  decided_by TEXT NOT NULL DEFAULT '',
  incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE INDEX curation_items_state ON curation_items (state, created_ms, id);

CREATE TABLE curation_actions (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES curation_items (id) ON DELETE CASCADE,
  action TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'correct')),
  reason TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX curation_actions_item ON curation_actions (item_id, id);

CREATE TABLE triage_settings (
  version INTEGER PRIMARY KEY,
  settings_json TEXT NOT NULL,
  author TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
)sql"},
    {2, "jobs", R"sql(-- The fetch, enrich and extract job queues (jobs.h). dedup_key NULL = none;
-- at most one queued or running job per (queue, dedup_key).
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a purged job id must not fence a new job
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedup_key TEXT,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  run_at_ms INTEGER NOT NULL,
  worker TEXT NOT NULL DEFAULT '',
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_failure TEXT CHECK (last_failure IN ('transient', 'permanent')),
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (queue, state, run_at_ms, id);
CREATE INDEX jobs_lease ON jobs (state, lease_until_ms);
CREATE INDEX jobs_updated ON jobs (state, updated_ms);
CREATE UNIQUE INDEX jobs_dedup ON jobs (queue, dedup_key)
  WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running');
)sql"},
  };
  return kMigrations;
}

std::span<const Migration> postgres_migrations() {
  static const Migration kMigrations[] = {
    {1, "initial", R"sql(-- Feeds, articles, extractions, the curation queue, incidents and triage
-- settings. Times are integer milliseconds since the Unix epoch (UTC).
-- pg_trgm serves title similarity (installed into public; the store's
-- search_path always includes public).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

CREATE TABLE feeds (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  url TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  schedule_ms BIGINT NOT NULL,
  etag TEXT NOT NULL DEFAULT '',
  last_modified TEXT NOT NULL DEFAULT '',
  last_fetch_ms BIGINT,
  next_fetch_ms BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'failing')),
  last_error TEXT NOT NULL DEFAULT '',
  consecutive_failures BIGINT NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL
);
CREATE INDEX feeds_due ON feeds (next_fetch_ms);

-- fingerprint: the unsigned 64-bit content fingerprint stored bit for bit as
-- a signed integer. dedup_*: the verdict shown to the curator.
CREATE TABLE articles (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  canonical_url TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  feed_id BIGINT REFERENCES feeds (id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  language TEXT NOT NULL DEFAULT '',
  published_ms BIGINT,
  fetched_ms BIGINT NOT NULL,
  fingerprint BIGINT NOT NULL,
  dedup_rule TEXT NOT NULL DEFAULT 'none'
    CHECK (dedup_rule IN ('none', 'canonical_url', 'title', 'fingerprint', 'entity')),
  dedup_article_id BIGINT REFERENCES articles (id) ON DELETE SET NULL,
  dedup_incident_id BIGINT,
  dedup_score DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX articles_fetched ON articles (fetched_ms, id);
CREATE INDEX articles_feed ON articles (feed_id, fetched_ms, id);

-- The title-similarity index: pg_trgm's `%` operator and similarity().
CREATE INDEX articles_title_trgm ON articles USING gin (title gin_trgm_ops);

CREATE TABLE extractions (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  stage TEXT NOT NULL,
  result_json TEXT NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  triage TEXT NOT NULL CHECK (triage IN ('pending', 'approve', 'review', 'reject')),
  triage_reasons TEXT NOT NULL DEFAULT '[]',
  created_ms BIGINT NOT NULL
);
CREATE INDEX extractions_article ON extractions (article_id, id);

CREATE TABLE incidents (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  type TEXT NOT NULL,
  occurred_ms BIGINT NOT NULL,
  place TEXT NOT NULL DEFAULT '',
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION,
  district TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'retracted')),
  confidence DOUBLE PRECISION NOT NULL,
  extraction_id BIGINT REFERENCES extractions (id) ON DELETE SET NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX incidents_time ON incidents (occurred_ms, id);
CREATE INDEX incidents_type ON incidents (type, occurred_ms);
CREATE INDEX incidents_district ON incidents (district, occurred_ms);
CREATE INDEX incidents_status ON incidents (status, occurred_ms);

CREATE TABLE incident_actors (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('victim', 'suspect', 'officer', 'witness', 'agency')),
  description TEXT NOT NULL
);
CREATE INDEX incident_actors_incident ON incident_actors (incident_id, id);

CREATE TABLE incident_events (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  occurred_ms BIGINT,
  kind TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_cases (
  incident_id BIGINT PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  case_number TEXT NOT NULL,
  court TEXT NOT NULL,
  disposition TEXT NOT NULL,
  disposition_ms BIGINT
);

CREATE TABLE incident_charges (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  incident_id BIGINT NOT NULL REFERENCES incident_cases (incident_id) ON DELETE CASCADE,
  description TEXT NOT NULL,
  statute TEXT NOT NULL,
  count BIGINT NOT NULL
);
CREATE INDEX incident_charges_incident ON incident_charges (incident_id, id);

-- via: 'none' for an original source, else the dedup rule that matched.
CREATE TABLE incident_sources (
  incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  via TEXT NOT NULL CHECK (via IN ('none', 'canonical_url', 'title', 'fingerprint', 'entity')),
  added_ms BIGINT NOT NULL,
  PRIMARY KEY (incident_id, article_id)
);

CREATE TABLE incident_history (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

CREATE TABLE curation_items (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  extraction_id BIGINT NOT NULL UNIQUE REFERENCES extractions (id) ON DELETE CASCADE,
  article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('open', 'approved', 'rejected')),
  confidence DOUBLE PRECISION NOT NULL,
  created_ms BIGINT NOT NULL,
  decided_ms BIGINT,
  decided_by TEXT NOT NULL DEFAULT '',
  incident_id BIGINT REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE INDEX curation_items_state ON curation_items (state, created_ms, id);

CREATE TABLE curation_actions (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  item_id BIGINT NOT NULL REFERENCES curation_items (id) ON DELETE CASCADE,
  action TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'correct')),
  reason TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX curation_actions_item ON curation_actions (item_id, id);

CREATE TABLE triage_settings (
  version BIGINT PRIMARY KEY,
  settings_json TEXT NOT NULL,
  author TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
)sql"},
    {2, "jobs", R"sql(-- The fetch, enrich and extract job queues (jobs.h). dedup_key NULL = none;
-- at most one queued or running job per (queue, dedup_key).
CREATE TABLE jobs (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedup_key TEXT,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  attempts BIGINT NOT NULL DEFAULT 0,
  run_at_ms BIGINT NOT NULL,
  worker TEXT NOT NULL DEFAULT '',
  lease_until_ms BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_failure TEXT CHECK (last_failure IN ('transient', 'permanent')),
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (queue, state, run_at_ms, id);
CREATE INDEX jobs_lease ON jobs (state, lease_until_ms);
CREATE INDEX jobs_updated ON jobs (state, updated_ms);
CREATE UNIQUE INDEX jobs_dedup ON jobs (queue, dedup_key)
  WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running');
)sql"},
  };
  return kMigrations;
}

}  // namespace sentinel::intel
