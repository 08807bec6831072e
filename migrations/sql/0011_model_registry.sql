-- Up Migration
-- What serving needs to know about a failure-prediction model, filled from its manifest by
-- predict-failure when it starts (idempotently). Experiment tracking stays out of this database:
-- the manifest beside the ONNX file is the record of how a model was trained.
CREATE TABLE gpu_models (
  name          text NOT NULL,
  version       text NOT NULL,
  sha256        text NOT NULL,            -- of the ONNX file
  horizon_hours integer NOT NULL,
  threshold     double precision NOT NULL,
  risk_bands    jsonb NOT NULL,           -- {"medium": p, "high": p}
  metrics       jsonb NOT NULL,           -- held-out test metrics of the model and its rule baseline
  dataset       jsonb NOT NULL,           -- what it was trained on: file hash, rows, simulator spec
  trained_at    timestamptz NOT NULL,
  activated_at  timestamptz NOT NULL DEFAULT now(), -- first time a processor served it
  PRIMARY KEY (name, version)
);

-- The model's inputs in order, with what each means; `source` is where serving reads it.
CREATE TABLE gpu_feature_definitions (
  model_name    text NOT NULL,
  model_version text NOT NULL,
  position      integer NOT NULL,
  name          text NOT NULL,
  description   text NOT NULL,
  unit          text NOT NULL,
  source        text NOT NULL,
  reference     double precision,         -- median on healthy training GPUs, for top_features
  PRIMARY KEY (model_name, model_version, name),
  UNIQUE (model_name, model_version, position),
  FOREIGN KEY (model_name, model_version) REFERENCES gpu_models (name, version)
);

-- gpu.predictions.v1 gained risk band, top features and the expected cost of a failure.
ALTER TABLE gpu_predictions
  ADD COLUMN risk_band text NOT NULL DEFAULT 'LOW',
  ADD COLUMN top_features jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN interruption_cost_micros bigint,
  ADD COLUMN expected_cost_micros bigint,
  ADD COLUMN currency text;

-- GPUs at risk now carry the prediction's own expected cost (probability x interruption cost);
-- the allocated cost of the GPU's time stays beside it, in the pricing file's currency.
DROP VIEW gpu_at_risk;
CREATE VIEW gpu_at_risk AS
WITH latest AS (
  SELECT DISTINCT ON (gpu_uuid, model_name) *
    FROM gpu_predictions
   WHERE time > now() - INTERVAL '1 day'
   ORDER BY gpu_uuid, model_name, time DESC
), hourly AS (
  SELECT gpu_uuid, currency, sum(allocated_cost_micros)::double precision / nullif(sum(interval_s), 0) * 3600 AS cost_micros
    FROM gpu_economics
   WHERE time > now() - INTERVAL '1 day'
   GROUP BY gpu_uuid, currency
)
SELECT l.gpu_uuid, l.hostname, l.time, l.model_name, l.model_version, l.horizon_hours, l.probability, l.threshold,
       l.risk_band, l.top_features, l.currency, l.interruption_cost_micros, l.expected_cost_micros,
       h.currency AS allocated_currency, round(h.cost_micros)::bigint AS hourly_allocated_cost_micros
  FROM latest l
  LEFT JOIN hourly h ON h.gpu_uuid = l.gpu_uuid
 WHERE l.probability >= l.threshold;

GRANT INSERT, SELECT, UPDATE ON gpu_models, gpu_feature_definitions TO gpu_writer;
GRANT SELECT ON gpu_models, gpu_feature_definitions, gpu_at_risk TO gpu_analyst;

-- Down Migration
DROP VIEW gpu_at_risk;
CREATE VIEW gpu_at_risk AS
WITH latest AS (
  SELECT DISTINCT ON (gpu_uuid, model_name) *
    FROM gpu_predictions
   WHERE time > now() - INTERVAL '1 day'
   ORDER BY gpu_uuid, model_name, time DESC
), hourly AS (
  SELECT gpu_uuid, currency, sum(allocated_cost_micros)::double precision / nullif(sum(interval_s), 0) * 3600 AS cost_micros
    FROM gpu_economics
   WHERE time > now() - INTERVAL '1 day'
   GROUP BY gpu_uuid, currency
)
SELECT l.gpu_uuid, l.hostname, l.time, l.model_name, l.model_version, l.horizon_hours, l.probability, l.threshold,
       h.currency, round(h.cost_micros)::bigint AS hourly_allocated_cost_micros,
       round(l.probability * h.cost_micros * l.horizon_hours)::bigint AS expected_cost_micros
  FROM latest l
  LEFT JOIN hourly h ON h.gpu_uuid = l.gpu_uuid
 WHERE l.probability >= l.threshold;
GRANT SELECT ON gpu_at_risk TO gpu_analyst;
ALTER TABLE gpu_predictions
  DROP COLUMN currency,
  DROP COLUMN expected_cost_micros,
  DROP COLUMN interruption_cost_micros,
  DROP COLUMN top_features,
  DROP COLUMN risk_band;
DROP TABLE gpu_feature_definitions;
DROP TABLE gpu_models;
