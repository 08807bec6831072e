-- Up Migration
-- gpu.samples.v1 gained temperature_slowdown_margin_c (BACKWARD compatible): the degrees left
-- before slowdown as the driver reports them, the only thermal headroom Ada and later boards on
-- drivers 575+ print. The field is the schema's last because a column can only be appended.
ALTER TABLE gpu_samples ADD COLUMN temperature_slowdown_margin_c double precision;

-- Down Migration
ALTER TABLE gpu_samples DROP COLUMN temperature_slowdown_margin_c;
