/**
 * A 53-bit number standing for an object's values of some fields, in order: what the sink's
 * inventory (WrittenRows) remembers of a row instead of its attributes. Keeping each GPU's 26 device
 * attributes, twice (gpu_devices and gpu_device_configs), and its workload's 11 took 1,259–1,322
 * bytes of heap a GPU (`npm run bench -- sink`), 530–551 with fingerprints: at the 50,000 keys a
 * table remembers, 63–66 MB against 27.
 *
 * Two objects with equal values (=== as sameAttributes compares them, a missing value as null) get
 * the same fingerprint; different values get different ones but for a chance of about 2⁻⁵³ per
 * change. Such a collision costs little: the row is not rewritten until its last_seen falls
 * LAST_SEEN_LAG_MS behind, and then it is written with the new attributes.
 *
 * The mixing is cyrb53's (two 32-bit lanes multiplied by odd constants, folded at the end): a few
 * integer operations per character, so a sample's 26 fields cost well under a microsecond.
 */
const DOUBLE = new Float64Array(1);
const DOUBLE_WORDS = new Uint32Array(DOUBLE.buffer);

/** Type tags, so that null, a number and a string that look alike differ, and so do ("ab", "c") and ("a", "bc"). */
const NULL_TAG = 1;
const INTEGER_TAG = 2;
const DOUBLE_TAG = 3;
const STRING_TAG = 4;

let lane1 = 0;
let lane2 = 0;

function mix(word: number): void {
  lane1 = Math.imul(lane1 ^ word, 2654435761);
  lane2 = Math.imul(lane2 ^ word, 1597334677);
}

/** Mixes one value into the lanes. */
function mixValue(value: unknown): void {
  if (value === null || value === undefined) {
    mix(NULL_TAG);
  } else if (typeof value === 'number') {
    // An integer as itself (0 and -0 alike, as === has them); any other number as its IEEE 754 bits.
    if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
      mix(INTEGER_TAG);
      mix(value | 0);
    } else {
      DOUBLE[0] = value;
      mix(DOUBLE_TAG);
      mix(DOUBLE_WORDS[0]!);
      mix(DOUBLE_WORDS[1]!);
    }
  } else {
    const text = String(value);
    mix(STRING_TAG);
    mix(text.length);
    for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
  }
}

/** Starts a fingerprint. */
function startFingerprint(): void {
  lane1 = 0xdeadbeef;
  lane2 = 0x41c6ce57;
}

/** The fingerprint of the values mixed since startFingerprint. */
function endFingerprint(): number {
  let h1 = Math.imul(lane1 ^ (lane1 >>> 16), 2246822507);
  h1 ^= Math.imul(lane2 ^ (lane2 >>> 13), 3266489909);
  let h2 = Math.imul(lane2 ^ (lane2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The fingerprint of `fields` of an object, in that order, compiled to one property read per field
 * as sameAttributes is. Two lists of the same length give equal fingerprints for equal values, so a
 * workload's `user` and a row's `job_user` compare as one.
 */
export function fingerprintOf(fields: readonly string[]): (o: object) => number {
  const reads = fields.map((field) => `mixValue(o[${JSON.stringify(field)}]);`);
  return new Function('startFingerprint', 'mixValue', 'endFingerprint',
    `return function fingerprint(o) {\nstartFingerprint();\n${reads.join('\n')}\nreturn endFingerprint();\n};`,
  )(startFingerprint, mixValue, endFingerprint) as (o: object) => number;
}
