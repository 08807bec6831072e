-- Up Migration
-- gpu.samples.v1 gained three fields (BACKWARD compatible): the lost-GPU flag, the edge features
-- and the simulator's ground truth. Columns follow the fields, as in 0002.
ALTER TABLE gpu_samples
  ADD COLUMN gpu_lost        boolean NOT NULL DEFAULT false,
  ADD COLUMN features        jsonb,
  ADD COLUMN simulated_fault jsonb;

-- Down Migration
ALTER TABLE gpu_samples DROP COLUMN simulated_fault, DROP COLUMN features, DROP COLUMN gpu_lost;
