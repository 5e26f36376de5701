-- The day's visitor salt, shared by the instances of one installation
-- without ever being stored in a form anyone can open (internal/analytics/salt,
-- docs/analytics-salt.md). Each instance makes an ephemeral X25519 key pair
-- per day that lives only in its memory and publishes the public half here;
-- an instance that holds the day's salt seals it to each newcomer's public
-- key. A sealed salt opens only with a private key no disk has seen, and
-- the keys are forgotten when the day ends: a copy of the database, a
-- backup or the write-ahead log cannot give the salt back.

-- +goose Up
CREATE TABLE analytics_salt_peers (
    day        TEXT NOT NULL,    -- YYYY-MM-DD, UTC: the day the salt is for
    peer       TEXT NOT NULL,    -- random, made by the instance for the day
    generation BIGINT NOT NULL DEFAULT 0, -- the salt's generation the peer holds or asks for
    public_key @BLOB@ NOT NULL,  -- the peer's ephemeral X25519 public key
    sealed     @BLOB@,           -- the salt sealed to public_key, by sealed_by
    sealed_by  @BLOB@,           -- the sealing peer's ephemeral public key
    seen_at    @TIME@ NOT NULL,  -- the peer's last heartbeat
    PRIMARY KEY (day, peer)
);

-- The instance that makes a generation's salt seals it to itself
-- (sealed_by = public_key), and only one row of a day may say so per
-- generation: when several instances find no holder at once, each tries to
-- mark its row, and the database lets exactly one of them (the others get
-- a unique violation and ask the maker instead). One rule for both
-- databases, with no read-then-write race.
CREATE UNIQUE INDEX analytics_salt_maker ON analytics_salt_peers (day, generation) WHERE sealed_by = public_key;

-- +goose Down
DROP TABLE analytics_salt_peers;
