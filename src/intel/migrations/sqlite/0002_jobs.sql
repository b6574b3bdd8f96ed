-- The fetch, enrich and extract job queues (jobs.h). dedup_key NULL = none;
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
