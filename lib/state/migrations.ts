/** The schema of `.prj/state.db`, as numbered migrations (PRAGMA user_version counts those applied). */

/** The schema version this build writes (PRAGMA user_version). */
export const SCHEMA_VERSION = 8;

/** Migration `v` takes a database from version `v` to `v + 1`. */
export const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     command TEXT NOT NULL,
     status TEXT NOT NULL,
     args TEXT NOT NULL DEFAULT '{}',
     shared TEXT NOT NULL DEFAULT '{}',
     started_at TEXT NOT NULL,
     finished_at TEXT,
     duration_ms INTEGER,
     error TEXT,
     pid INTEGER,
     pid_start TEXT,
     host TEXT,
     cwd TEXT,
     artifact_dir TEXT,
     worktree TEXT,
     branch TEXT,
     session TEXT,
     model TEXT,
     parent_id TEXT
   );
   CREATE INDEX runs_started ON runs(started_at);
   CREATE INDEX runs_status ON runs(status);
   CREATE TABLE steps (
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     phase TEXT NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     output TEXT,
     data TEXT,
     error TEXT,
     log_path TEXT,
     PRIMARY KEY (run_id, idx)
   );
   CREATE TABLE artifacts (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step_idx INTEGER,
     name TEXT NOT NULL,
     path TEXT NOT NULL,
     size INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE resources (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     path TEXT,
     branch TEXT,
     created_at TEXT NOT NULL,
     removed_at TEXT
   );
   CREATE TABLE worktrees (
     name TEXT PRIMARY KEY,
     path TEXT NOT NULL,
     branch TEXT NOT NULL,
     base TEXT,
     port_slot INTEGER NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     run_id TEXT
   );`,
  // v2: the built-in task queue, and the agent runner's agents and task locks
  `CREATE TABLE tasks (
     id INTEGER PRIMARY KEY,
     title TEXT NOT NULL,
     description TEXT NOT NULL DEFAULT '',
     role TEXT,
     difficulty TEXT NOT NULL DEFAULT 'senior',
     complexity TEXT NOT NULL DEFAULT 'minor',
     status TEXT NOT NULL DEFAULT 'created',
     branch TEXT,
     locked_by TEXT,
     locked_at TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX tasks_status ON tasks(status);
   CREATE TABLE task_events (
     id INTEGER PRIMARY KEY,
     task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
     at TEXT NOT NULL,
     agent_id TEXT,
     kind TEXT NOT NULL,
     detail TEXT
   );
   CREATE TABLE agents (
     agent_id TEXT PRIMARY KEY,
     role TEXT NOT NULL,
     level TEXT NOT NULL,
     source TEXT NOT NULL,
     pid INTEGER,
     pid_start TEXT,
     host TEXT,
     started_at TEXT NOT NULL,
     last_heartbeat TEXT,
     task_id TEXT,
     task_title TEXT,
     phase TEXT NOT NULL DEFAULT 'idle',
     phase_since TEXT NOT NULL,
     stopped_at TEXT
   );
   CREATE TABLE agent_locks (
     agent_id TEXT PRIMARY KEY,
     source TEXT NOT NULL,
     task_id TEXT NOT NULL,
     task TEXT NOT NULL,
     worktree TEXT NOT NULL,
     branch TEXT NOT NULL,
     locked_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     run_id TEXT
   );`,
  // v3: every agent prj launched, and its state over time (prj fleet)
  `CREATE TABLE agent_launches (
     id INTEGER PRIMARY KEY,
     run_id TEXT,
     worktree TEXT,
     worktree_path TEXT NOT NULL,
     branch TEXT,
     session TEXT,
     kind TEXT NOT NULL,
     model TEXT,
     agent_session_id TEXT,
     headless INTEGER NOT NULL DEFAULT 0,
     pid INTEGER,
     pid_start TEXT,
     launched_at TEXT NOT NULL,
     exit_file TEXT,
     exit_code INTEGER,
     result TEXT,
     state TEXT NOT NULL DEFAULT 'working',
     state_since TEXT NOT NULL,
     pane_hash TEXT,
     last_change_at TEXT,
     last_line TEXT,
     notified_state TEXT,
     superseded INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE agent_state_events (
     id INTEGER PRIMARY KEY,
     launch_id INTEGER NOT NULL REFERENCES agent_launches(id) ON DELETE CASCADE,
     at TEXT NOT NULL,
     state TEXT NOT NULL,
     detail TEXT
   );`,
  // v4: agents report their state through hooks (stored per launch, with each change's source),
  // and an agent's own process (pid, start time, process group) is recorded, headless or not
  `ALTER TABLE agent_launches ADD COLUMN launch_dir TEXT;
   ALTER TABLE agent_launches ADD COLUMN state_source TEXT;
   ALTER TABLE agent_launches ADD COLUMN hook_state TEXT;
   ALTER TABLE agent_launches ADD COLUMN hook_at TEXT;
   ALTER TABLE agent_launches ADD COLUMN hook_detail TEXT;
   ALTER TABLE agent_launches ADD COLUMN hook_background INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE agent_launches ADD COLUMN transcript_path TEXT;
   ALTER TABLE agent_state_events ADD COLUMN source TEXT;
   CREATE INDEX agent_launches_worktree ON agent_launches(worktree_path);
   CREATE TABLE agent_hook_events (
     id INTEGER PRIMARY KEY,
     launch_id INTEGER NOT NULL REFERENCES agent_launches(id) ON DELETE CASCADE,
     key TEXT NOT NULL,
     at TEXT NOT NULL,
     event TEXT NOT NULL,
     state TEXT,
     session_id TEXT,
     detail TEXT,
     UNIQUE (launch_id, key)
   );`,
  // v5: the shared files of two worktrees that were notified (prj notifies each once)
  `CREATE TABLE conflict_notices (
     a TEXT NOT NULL,
     b TEXT NOT NULL,
     path TEXT NOT NULL,
     level TEXT NOT NULL,
     notified_at TEXT NOT NULL,
     PRIMARY KEY (a, b, path)
   );`,
  // v6: what agents used and cost, per launch and model (per day for interactive transcripts),
  // and where reading each launch's transcript got to
  `CREATE TABLE agent_usage (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL UNIQUE,
     launch_id INTEGER,
     run_id TEXT,
     task_id TEXT,
     agent_id TEXT,
     worktree TEXT,
     kind TEXT NOT NULL,
     model TEXT,
     session_id TEXT,
     source TEXT NOT NULL,
     at TEXT NOT NULL,
     day TEXT NOT NULL,
     input_tokens INTEGER NOT NULL DEFAULT 0,
     output_tokens INTEGER NOT NULL DEFAULT 0,
     cache_read INTEGER NOT NULL DEFAULT 0,
     cache_write INTEGER NOT NULL DEFAULT 0,
     cost_usd REAL,
     cost_source TEXT,
     session_totals TEXT
   );
   CREATE INDEX agent_usage_day ON agent_usage(day);
   CREATE INDEX agent_usage_launch ON agent_usage(launch_id);
   CREATE INDEX agent_usage_session ON agent_usage(session_id);
   CREATE TABLE usage_cursors (
     launch_id INTEGER NOT NULL,
     path TEXT NOT NULL,
     state TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (launch_id, path)
   );`,
  // v7: launches waiting for a slot under agent.max_agents, in order, each with the prj process that waits
  `CREATE TABLE agent_queue (
     id INTEGER PRIMARY KEY,
     worktree TEXT,
     worktree_path TEXT NOT NULL,
     branch TEXT,
     session TEXT,
     kind TEXT NOT NULL,
     model TEXT,
     headless INTEGER NOT NULL DEFAULT 0,
     run_id TEXT,
     pid INTEGER NOT NULL,
     pid_start TEXT,
     queued_at TEXT NOT NULL,
     state TEXT NOT NULL DEFAULT 'queued'
   );`,
  // v8: whether prj installed the agent's hooks and gave it a prompt (an opening agent works before its hooks say so)
  `ALTER TABLE agent_launches ADD COLUMN hooked INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE agent_launches ADD COLUMN prompted INTEGER NOT NULL DEFAULT 0;`,
];
