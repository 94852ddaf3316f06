-- Autopilot: schedules the crew runs on its own, their runs, and the owner's webhooks.
-- Same portable conventions as 0001 (UTC RFC 3339 text times, BOOLEAN, ON CONFLICT).

-- What the crew does on its own, and when. `cron` is read in the shop's time zone. A
-- schedule does one of three things: plans and runs a request (`request`), calls one skill
-- (`skill` with `args`), or writes the owner report (`report` for a `period`).
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    name        TEXT NOT NULL,
    cron        TEXT NOT NULL,
    employee    TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('request', 'skill', 'report')),
    request     TEXT,
    skill       TEXT,
    args        TEXT,
    period      TEXT,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    -- After downtime: run the latest missed time once, or skip to the next one.
    catch_up    TEXT NOT NULL DEFAULT 'once' CHECK (catch_up IN ('once', 'skip')),
    -- The next time it is due; NULL until the scheduler first sees it.
    next_run_at TEXT,
    last_run_at TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (shop_id, name),
    CHECK ((action = 'request' AND request IS NOT NULL)
        OR (action = 'skill' AND skill IS NOT NULL AND args IS NOT NULL)
        OR (action = 'report' AND period IN ('day', 'week')))
);

-- One row per due time of a schedule: the unique key is what keeps a restarted or second
-- scheduler from running the same due time twice. A run still `running` when the process
-- died is taken up again at the next start, under the same idempotency keys.
CREATE TABLE schedule_runs (
    id          INTEGER PRIMARY KEY,
    schedule_id BIGINT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    due_at      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    -- `pending`: it ran, and something it staged waits for the owner; `denied`: the gate said no.
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'pending', 'denied', 'skipped', 'failed', 'abandoned')),
    plan_id     BIGINT,
    summary     TEXT NOT NULL DEFAULT '',
    log_seq     BIGINT,
    UNIQUE (schedule_id, due_at)
);

-- Where the owner is told of reports, approvals waiting and denials. `delivered_seq` is the
-- first work-log entry this hook has not been sent (or given up on) yet: the log is the outbox.
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    shop_id       BIGINT NOT NULL REFERENCES shops(id),
    url           TEXT NOT NULL,
    format        TEXT NOT NULL CHECK (format IN ('json', 'dingtalk', 'wecom')),
    events        TEXT NOT NULL,
    secret        TEXT,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

-- Whether the shop has been given the default schedules (once: removing them is the owner's
-- choice, and they do not come back).
ALTER TABLE shops ADD COLUMN default_schedules BOOLEAN NOT NULL DEFAULT FALSE;
