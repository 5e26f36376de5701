-- Fraud observations (issue 16, docs/fraud-signals.md): the least a
-- checkout, a license activation or check-in, or a package repository
-- request leaves behind so that a periodic job can notice patterns over a
-- window (many networks for one license, many checkouts from one
-- network). A row holds a keyed hash of the request's network (its /24 or
-- /48, under a key derived from the installation secret), never the
-- address; rows go after 31 days (privacy.inventory_fraud_observations).

-- +goose Up
CREATE TABLE fraud_observations (
    id          @ID@,
    kind        TEXT NOT NULL CHECK (kind IN ('checkout', 'activation', 'new_seat', 'check_in', 'repository')),
    network     TEXT NOT NULL DEFAULT '', -- keyed hash of the network prefix
    machine     TEXT NOT NULL DEFAULT '', -- keyed hash of the machine's fingerprint hash
    customer_id BIGINT,
    license_id  BIGINT,
    order_id    BIGINT,
    observed_at @TIME@ NOT NULL
);
CREATE INDEX fraud_observations_kind_at ON fraud_observations (kind, observed_at);
CREATE INDEX fraud_observations_license ON fraud_observations (license_id, observed_at);
CREATE INDEX fraud_observations_customer ON fraud_observations (customer_id);

-- +goose Down
DROP TABLE fraud_observations;
