import {
  arrayLiteral, insertMissingStatement, latestPerKey, sameAttributes, upsertStatement, writeDimensionRows, type AttributeValue, type DimensionRow,
  type DimensionTable, type Sighting, type SightingOf,
} from './dimension.js';
import type { Alongside } from './table-writer.js';
import { EXISTS, itemsOfChangedKeys, mergeDimension, WrittenRows, type Merge } from './written-rows.js';

/**
 * What a sample says about its GPU rather than about its reading, with the SQL type of each: columns
 * of gpu_devices (the latest) and gpu_device_configs (each change), not of gpu_samples (0014).
 */
const DEVICE_TYPES: Readonly<Record<string, string>> = {
  serial: 'text', product_name: 'text', hostname: 'text', driver_version: 'text', source: 'text', gpu_index: 'smallint',
  pci_bus_id: 'text', architecture: 'text', cuda_version: 'text', vbios_version: 'text', nvsmi_schema: 'text',
  memory_total_mib: 'real', bar1_total_mib: 'real', temperature_shutdown_c: 'real', temperature_slowdown_c: 'real',
  temperature_max_operating_c: 'real', temperature_memory_max_c: 'real', power_limit_w: 'real', power_limit_default_w: 'real',
  power_limit_min_w: 'real', power_limit_max_w: 'real', clock_graphics_max_mhz: 'real', clock_sm_max_mhz: 'real',
  clock_memory_max_mhz: 'real', pcie_link_gen_max: 'smallint', pcie_link_width_max: 'smallint',
};

/** The sample fields gpu_samples does not hold: they describe the GPU (DEVICE_TYPES). */
export const DEVICE_FIELDS: readonly string[] = Object.keys(DEVICE_TYPES);

const DEVICES: DimensionTable = { name: 'gpu_devices', key: 'gpu_uuid', attributes: DEVICE_FIELDS, types: DEVICE_TYPES };
const UPSERT_SEEN = upsertStatement(DEVICES);
/** A GPU known only from lost samples still gets its row; one already there is left as it is. */
const INSERT_LOST = insertMissingStatement(DEVICES);

/**
 * A configuration row, ON CONFLICT DO NOTHING (a replay adds nothing). A GPU's first row of the
 * batch ($3 judged) only unless the one in effect at its time (the latest from at or before it)
 * says the same, so late data inside a configuration adds nothing; a later row of the batch is a
 * change from the sample before it, whatever the table held: the statement does not see its own
 * rows, so judging it would drop a change back to the configuration in effect before the batch.
 */
const INSERT_CHANGES = `INSERT INTO gpu_device_configs (gpu_uuid, valid_from, ${DEVICE_FIELDS.join(', ')})
SELECT b.gpu_uuid, b.valid_from, ${DEVICE_FIELDS.map((f) => `b.${f}`).join(', ')}
  FROM unnest($1::text[], $2::timestamptz[], $3::boolean[], ${DEVICE_FIELDS.map((f, i) => `$${i + 4}::${DEVICE_TYPES[f]}[]`).join(', ')})
  AS b (gpu_uuid, valid_from, judged, ${DEVICE_FIELDS.join(', ')})
 WHERE NOT b.judged OR NOT EXISTS (
   SELECT FROM (SELECT * FROM gpu_device_configs c WHERE c.gpu_uuid = b.gpu_uuid AND c.valid_from <= b.valid_from
                 ORDER BY c.valid_from DESC LIMIT 1) AS in_effect
    WHERE (${DEVICE_FIELDS.map((f) => `in_effect.${f}`).join(', ')}) IS NOT DISTINCT FROM (${DEVICE_FIELDS.map((f) => `b.${f}`).join(', ')}))
ON CONFLICT (gpu_uuid, valid_from) DO NOTHING`;

type Sample = Record<string, unknown>;

/** Every device field, null: each attributes object starts as a copy, so all share one shape and none grows field by field. */
const NO_ATTRIBUTES: Readonly<Record<string, AttributeValue>> = Object.fromEntries(DEVICE_FIELDS.map((field) => [field, null]));

function attributesOf(sample: Sample): Record<string, AttributeValue> {
  const attributes = { ...NO_ATTRIBUTES };
  for (const field of DEVICE_FIELDS) attributes[field] = (sample[field] as AttributeValue | undefined) ?? null;
  return attributes;
}

const SAMPLE_SIGHTING: SightingOf<Sample> = { key: (s) => s.gpu_uuid as string, time: (s) => s.time as number, attributes: attributesOf };

/** Whether two samples (or a sample and attributes) describe their GPU alike (a field one lacks counts as null). */
const sameDevice = sameAttributes(DEVICE_FIELDS.map((field) => [field, field]));

/**
 * The inventory facts of a batch of samples, one row per GPU in UUID order. A lost sample repeats
 * the identity of the last reading but is not a sighting: a GPU with a real sample in the batch
 * ignores its lost ones, and one known only from lost samples goes to `lost`, which never moves
 * the first or last seen of a row already there.
 */
export function sightings(samples: readonly Sample[]): { seen: DimensionRow[]; lost: DimensionRow[] } {
  const seen = latestPerKey(samples.filter((s) => s.gpu_lost !== true), SAMPLE_SIGHTING);
  const seenGpus = new Set(seen.map((row) => row.key));
  const lost = latestPerKey(samples.filter((s) => s.gpu_lost === true && !seenGpus.has(s.gpu_uuid as string)), SAMPLE_SIGHTING);
  return { seen, lost };
}

/**
 * The configurations a batch of samples shows, in (GPU, time) order: each GPU's first real sample,
 * and each later one that describes the GPU otherwise than the sample before it. Whether the first
 * is new is the database's to say (INSERT_CHANGES).
 */
export function configChanges(samples: readonly Sample[]): Sighting[] {
  const real = samples.filter((s) => s.gpu_lost !== true).sort((a, b) => {
    const [ka, kb] = [a.gpu_uuid as string, b.gpu_uuid as string];
    return ka < kb ? -1 : ka > kb ? 1 : (a.time as number) - (b.time as number);
  });
  const changes: Sighting[] = [];
  for (let i = 0; i < real.length; i++) {
    const sample = real[i]!;
    const before = real[i - 1];
    if (before !== undefined && before.gpu_uuid === sample.gpu_uuid && sameDevice(before, sample)) continue;
    changes.push({ key: sample.gpu_uuid as string, time: sample.time as number, attributes: attributesOf(sample) });
  }
  return changes;
}

/**
 * A configuration confirmed in effect at `wrote.to` (inserted, or found in effect there): the one
 * known extends its span; another starts a span of its own; an earlier confirmation adds nothing.
 */
const mergeConfig: Merge = (known, wrote) => {
  if (known === undefined) return wrote;
  if (wrote.to < known.to) return known;
  return known.fingerprint === wrote.fingerprint ? { ...known, to: wrote.to } : wrote;
};

/**
 * The configuration changes the database still has to judge: a GPU's first one in the batch is
 * left out when this sink confirmed that same configuration in effect over a span reaching its time
 * (within LAST_SEEN_LAG_MS of that span's end); a change within the batch always goes.
 */
function unconfirmed(changes: readonly Sighting[], configs: WrittenRows): Sighting[] {
  return changes.filter((change, i) => changes[i - 1]?.key === change.key || !configs.covers(change.key, change.attributes, change.time, change.time));
}

/**
 * Brings gpu_devices and gpu_device_configs up to date with each batch of samples, in the batch's
 * transaction, leaving out rows and checks that would change nothing this sink knows of (WrittenRows).
 */
export function deviceInventory(): Alongside {
  const devices = new WrittenRows(DEVICE_FIELDS, mergeDimension);
  const configs = new WrittenRows(DEVICE_FIELDS, mergeConfig);
  /** A sample that neither row would record: a lost one of a GPU with a row, a real one as both rows hold it. */
  const held = (sample: Sample): boolean => {
    const key = sample.gpu_uuid as string;
    if (sample.gpu_lost === true) return devices.has(key);
    // Both tables remember the device fields in one order, so one fingerprint of the sample serves both.
    const fingerprint = devices.fingerprint(sample);
    return devices.holds(key, sample.time as number, fingerprint) && configs.holds(key, sample.time as number, fingerprint);
  };
  return async (client, batch) => {
    const samples = itemsOfChangedKeys(batch, (sample) => sample.gpu_uuid as string, held);
    const { seen, lost } = sightings(samples);
    const seenNow = devices.unwritten(seen);
    const lostNow = lost.filter((row) => !devices.has(row.key));
    await writeDimensionRows(client, DEVICES, UPSERT_SEEN, seenNow);
    await writeDimensionRows(client, DEVICES, INSERT_LOST, lostNow);
    const changes = unconfirmed(configChanges(samples), configs);
    if (changes.length > 0) {
      await client.query(INSERT_CHANGES, [
        arrayLiteral(changes.map((c) => c.key)), arrayLiteral(changes.map((c) => new Date(c.time).toISOString())),
        // Each GPU's first change here is judged; where the batch's first was left out (confirmed in effect), the next one differs from it and goes in unless another sink recorded it.
        arrayLiteral(changes.map((c, i) => String(changes[i - 1]?.key !== c.key))),
        ...DEVICE_FIELDS.map((f) => arrayLiteral(changes.map((c) => c.attributes[f]))),
      ]);
    }
    return () => {
      devices.rememberRows(seenNow);
      for (const row of lostNow) devices.remember(row.key, EXISTS);
      // Every one, in time order: a configuration the batch left and came back to starts a span of its own.
      for (const change of changes) configs.remember(change.key, { attributes: change.attributes, from: change.time, to: change.time });
    };
  };
}
