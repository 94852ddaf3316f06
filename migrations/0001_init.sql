-- shopcrew store, work log, ledger and approvals.
-- Conventions that keep this SQL portable to PostgreSQL: money is BIGINT minor units (fen),
-- times are TEXT in RFC 3339 UTC ("2026-11-24T08:00:00Z", so they sort as text), booleans
-- are BOOLEAN, upserts use ON CONFLICT, and ids come back through RETURNING.

CREATE TABLE shops (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    currency    TEXT NOT NULL DEFAULT 'CNY',
    timezone    TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    -- Facts customer service may quote: the promise on shipping and the returns window.
    ship_within_hours BIGINT NOT NULL DEFAULT 48,
    return_days BIGINT NOT NULL DEFAULT 7,
    created_at  TEXT NOT NULL
);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    sku         TEXT NOT NULL,
    title       TEXT NOT NULL,
    category    TEXT NOT NULL,
    cost_fen    BIGINT NOT NULL CHECK (cost_fen >= 0),
    price_fen   BIGINT NOT NULL CHECK (price_fen >= 0),
    stock       BIGINT NOT NULL DEFAULT 0,
    listed      BOOLEAN NOT NULL DEFAULT TRUE,
    description TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL DEFAULT '',
    UNIQUE (shop_id, sku)
);
CREATE INDEX products_shop_category ON products (shop_id, category);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    city        TEXT NOT NULL DEFAULT '',
    lang        TEXT NOT NULL DEFAULT 'zh',
    tags        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (shop_id, code)
);

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    shop_id      BIGINT NOT NULL REFERENCES shops(id),
    order_no     TEXT NOT NULL,
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    ordered_at   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('paid', 'shipped', 'completed', 'refunded', 'partially_refunded')),
    total_fen    BIGINT NOT NULL CHECK (total_fen >= 0),
    refunded_fen BIGINT NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
    UNIQUE (shop_id, order_no)
);
CREATE INDEX orders_shop_time ON orders (shop_id, ordered_at);

CREATE TABLE order_items (
    id             INTEGER PRIMARY KEY,
    order_id       BIGINT NOT NULL REFERENCES orders(id),
    product_id     BIGINT NOT NULL REFERENCES products(id),
    quantity       BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    unit_cost_fen  BIGINT NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_product ON order_items (product_id);

-- The customer inbox.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    shop_id      BIGINT NOT NULL REFERENCES shops(id),
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    order_id     BIGINT REFERENCES orders(id),
    product_id   BIGINT REFERENCES products(id),
    received_at  TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'escalated')),
    reply        TEXT,
    replied_at   TEXT
);
CREATE INDEX messages_shop_status ON messages (shop_id, status);

CREATE TABLE promotions (
    id            INTEGER PRIMARY KEY,
    shop_id       BIGINT NOT NULL REFERENCES shops(id),
    kind          TEXT NOT NULL CHECK (kind IN ('discount', 'coupon', 'flash_sale')),
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    discount_bp   BIGINT,
    threshold_fen BIGINT,
    value_fen     BIGINT,
    quantity      BIGINT,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'active', 'ended')),
    created_at    TEXT NOT NULL
);

-- The products a promotion prices, with the unit price it gives each one.
CREATE TABLE promotion_products (
    promotion_id    BIGINT NOT NULL REFERENCES promotions(id),
    product_id      BIGINT NOT NULL REFERENCES products(id),
    promo_price_fen BIGINT NOT NULL,
    PRIMARY KEY (promotion_id, product_id)
);

CREATE TABLE ad_campaigns (
    id                 INTEGER PRIMARY KEY,
    shop_id            BIGINT NOT NULL REFERENCES shops(id),
    name               TEXT NOT NULL,
    scope              TEXT NOT NULL,
    daily_budget_fen   BIGINT NOT NULL,
    total_budget_fen   BIGINT NOT NULL,
    bid_fen            BIGINT NOT NULL,
    starts_at          TEXT NOT NULL,
    ends_at            TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('scheduled', 'active', 'paused', 'ended')),
    spend_fen          BIGINT NOT NULL DEFAULT 0,
    impressions        BIGINT NOT NULL DEFAULT 0,
    clicks             BIGINT NOT NULL DEFAULT 0,
    attributed_gmv_fen BIGINT NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL
);

-- List-price changes, for the per-product daily rate limit and the owner's history.
CREATE TABLE price_changes (
    id         INTEGER PRIMARY KEY,
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    from_fen   BIGINT NOT NULL,
    to_fen     BIGINT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX price_changes_product ON price_changes (shop_id, product_id, at);

-- Refunds the crew paid, for the per-day refund cap; the order carries its refunded total.
CREATE TABLE refunds (
    id         INTEGER PRIMARY KEY,
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    order_id   BIGINT NOT NULL REFERENCES orders(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    reason     TEXT NOT NULL,
    day        TEXT NOT NULL,
    employee   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX refunds_shop_day ON refunds (shop_id, day, employee);

-- Store credit given to customers (compensation), paid from the budget.
CREATE TABLE credits (
    id         INTEGER PRIMARY KEY,
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    value_fen  BIGINT NOT NULL CHECK (value_fen > 0),
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Purchase drafts the owner approved (what to reorder, at cost); nothing is bought here.
CREATE TABLE purchase_drafts (
    id             INTEGER PRIMARY KEY,
    shop_id        BIGINT NOT NULL REFERENCES shops(id),
    lines          TEXT NOT NULL,
    total_cost_fen BIGINT NOT NULL,
    created_at     TEXT NOT NULL
);

-- Cases customer service handed to the owner.
CREATE TABLE escalations (
    id          INTEGER PRIMARY KEY,
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    message_id  BIGINT REFERENCES messages(id),
    customer_id BIGINT REFERENCES customers(id),
    summary     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  TEXT NOT NULL
);

-- Files the crew produced (banners, charts, copy), relative to the home directory.
CREATE TABLE assets (
    id         INTEGER PRIMARY KEY,
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Money the crew has committed to spend, per shop-local day. The ledger decides with one
-- conditional UPDATE (`... WHERE spent_fen + amount <= cap`), never read-then-write.
CREATE TABLE budget_days (
    shop_id   BIGINT NOT NULL REFERENCES shops(id),
    day       TEXT NOT NULL,
    spent_fen BIGINT NOT NULL DEFAULT 0 CHECK (spent_fen >= 0),
    PRIMARY KEY (shop_id, day)
);

-- Every money movement, with the work-log entry that records it. A line is written as
-- `reserved` by the gate's conditional update and becomes `committed` with its effect, in the
-- same transaction; a rolled-back step leaves no line and no reservation behind.
CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    day        TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    purpose    TEXT NOT NULL,
    skill      TEXT NOT NULL,
    employee   TEXT NOT NULL,
    idem_key   TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('reserved', 'committed')),
    log_seq    BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX ledger_shop_day ON ledger (shop_id, day);

-- One row per action that took effect, keyed by its idempotency key (a plan task's
-- `plan/<id>/<task>`, an approval's `approval/<id>`, or the caller's own key), written in the
-- effect's transaction: a retried or resumed action finds its row and does not run again.
CREATE TABLE actions (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    idem_key   TEXT NOT NULL,
    log_seq    BIGINT NOT NULL,
    summary    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, idem_key)
);

CREATE TABLE plans (
    id             INTEGER PRIMARY KEY,
    shop_id        BIGINT NOT NULL REFERENCES shops(id),
    source         TEXT NOT NULL,
    request        TEXT NOT NULL,
    plan_json      TEXT NOT NULL,
    -- The policy version (latest policy_changes id, 0 for the file alone) it was planned under.
    policy_version BIGINT NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);

-- The owner's grants, revocations, pauses and resumes, never edited: each row's id is the
-- policy version it starts, and each has its work-log entry.
CREATE TABLE policy_changes (
    id       INTEGER PRIMARY KEY,
    shop_id  BIGINT NOT NULL REFERENCES shops(id),
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('grant', 'revoke', 'pause', 'resume')),
    employee TEXT,
    knob     TEXT,
    value    TEXT,
    until    TEXT,
    log_seq  BIGINT NOT NULL
);
CREATE INDEX policy_changes_shop ON policy_changes (shop_id, id);

-- Every model call: tokens and cost per call, task, employee and day, for the daily AI-spend
-- cap (separate from the business budget). Cost is in millionths of a yuan.
CREATE TABLE model_calls (
    id                INTEGER PRIMARY KEY,
    shop_id           BIGINT NOT NULL REFERENCES shops(id),
    day               TEXT NOT NULL,
    at                TEXT NOT NULL,
    employee          TEXT,
    plan_id           BIGINT,
    task_id           TEXT,
    model             TEXT NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost_micro        BIGINT,
    log_seq           BIGINT NOT NULL
);
CREATE INDEX model_calls_shop_day ON model_calls (shop_id, day);

-- Actions staged for the owner, bound to the exact action by a digest of
-- employee, skill and canonical arguments.
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    shop_id     BIGINT NOT NULL REFERENCES shops(id),
    created_at  TEXT NOT NULL,
    employee    TEXT NOT NULL,
    skill       TEXT NOT NULL,
    args        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    plan_id     BIGINT,
    task_id     TEXT,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'failed', 'expired')),
    expires_at  TEXT NOT NULL,
    decided_at  TEXT,
    note        TEXT
);
CREATE INDEX approvals_shop_status ON approvals (shop_id, status);

-- The work log: one row per step, hash-chained per shop, and the leaves of an RFC 6962
-- Merkle tree whose signed roots are the checkpoints below.
--   leaf_hash  = SHA-256(0x00 || canonical entry bytes)       (RFC 6962 leaf hashing)
--   chain_hash = SHA-256(previous chain_hash || leaf_hash)     (32 zero bytes before entry 1)
CREATE TABLE work_log (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    seq        BIGINT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    plan_id    BIGINT,
    task_id    TEXT,
    employee   TEXT,
    skill      TEXT,
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    amount_fen BIGINT,
    leaf_hash  TEXT NOT NULL,
    chain_hash TEXT NOT NULL,
    PRIMARY KEY (shop_id, seq)
);
CREATE INDEX work_log_employee ON work_log (shop_id, employee);

-- Signed checkpoints: the Merkle root of the first `size` leaf hashes, signed with the home's
-- ed25519 key (keys/log.key). Verify checks every one, so cutting entries off the end of the
-- log, or rewriting it, shows; a copy the owner keeps outside proves the same even if these
-- rows are deleted too.
CREATE TABLE checkpoints (
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    size    BIGINT NOT NULL,
    root    TEXT NOT NULL,
    at      TEXT NOT NULL,
    signed  TEXT NOT NULL,
    PRIMARY KEY (shop_id, size)
);

-- Append-only inside the engine too; `log verify` catches edits made around it.
CREATE TRIGGER work_log_no_update BEFORE UPDATE ON work_log
BEGIN
    SELECT RAISE(ABORT, 'the work log is append-only');
END;
CREATE TRIGGER work_log_no_delete BEFORE DELETE ON work_log
BEGIN
    SELECT RAISE(ABORT, 'the work log is append-only');
END;
