/**
 * What xml2js (explicitArray: false, trim: true) gives for one element: its text, an object of
 * its children (attributes under `$`, text beside children under `_`), a list when the element
 * repeats, or nothing when it is absent.
 */
export type XmlNode = string | { [name: string]: XmlNode } | XmlNode[] | undefined;

/**
 * Texts nvidia-smi prints instead of a reading. They all mean "no reading": a null, never a 0.
 * An empty element means the same.
 */
const NO_READING: ReadonlySet<string> = new Set([
  '',
  'N/A',
  '[N/A]',
  'Unknown',
  'Unknown Error',
  '[Unknown Error]',
  'Not Supported',
  '[Not Supported]',
  'Requested functionality has been deprecated',
  'Insufficient Permissions',
  '[Insufficient Permissions]',
]);

const TRUE_WORDS: ReadonlySet<string> = new Set(['Active', 'Enabled', 'Yes']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['Not Active', 'Disabled', 'No']);

/** A repeated element where one is expected reads as its first occurrence. */
function single(node: XmlNode): XmlNode {
  return Array.isArray(node) ? node[0] : node;
}

/** The element at a slash-separated path below `node`, e.g. `temperature/gpu_temp`. */
export function elementAt(node: XmlNode, path: string): XmlNode {
  let current = single(node);
  for (const name of path.split('/')) {
    if (current === undefined || typeof current === 'string' || Array.isArray(current)) return undefined;
    current = single(current[name]);
  }
  return current;
}

/** Every occurrence of an element that may appear once (an object), many times (a list) or not at all. */
export function occurrences(node: XmlNode): XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

/**
 * The trimmed text of a leaf element; undefined for an absent element or one that holds children.
 * Trimmed here because xml2js's `trim` leaves a whitespace-only element (`<processes>\n</processes>`) as it is.
 */
export function textOf(node: XmlNode): string | undefined {
  const value = single(node);
  if (typeof value === 'string') return value.trim();
  if (value !== undefined && !Array.isArray(value) && typeof value._ === 'string') return value._.trim();
  return undefined;
}

export function isNoReading(text: string): boolean {
  return NO_READING.has(text);
}

/** The result of reading one text: a value, no reading, or a text that does not parse (with why). */
export type Reading<T> = { value: T } | { value: null; problem?: string };

/**
 * "67.48 W", "16x", "81920 MiB", "12345 KB/s" → the number, when the text carries exactly the
 * expected unit: a reading in another unit (a driver switching to GiB) is refused, not misread.
 */
export function readQuantity(text: string, unit: string, integer: boolean): Reading<number> {
  const match = /^([-+]?\d+(?:\.\d+)?)\s*(.*)$/.exec(text);
  if (match === null) return { value: null, problem: `"${text}" is not a number` };
  if (match[2] !== unit) {
    return { value: null, problem: `"${text}" is not in ${unit === '' ? 'plain numbers' : unit}` };
  }
  const value = Number(match[1]);
  if (integer && !Number.isSafeInteger(value)) return { value: null, problem: `"${text}" is not a whole number` };
  return { value };
}

export function readFlag(text: string): Reading<boolean> {
  if (TRUE_WORDS.has(text)) return { value: true };
  if (FALSE_WORDS.has(text)) return { value: false };
  return { value: null, problem: `"${text}" is neither of ${[...TRUE_WORDS, ...FALSE_WORDS].join('/')}` };
}

/** "P0" → 0 … "P15" → 15. */
export function readPerformanceState(text: string): Reading<number> {
  const match = /^P(\d{1,2})$/.exec(text);
  if (match === null) return { value: null, problem: `"${text}" is not a P-state (P0 to P15)` };
  return { value: Number(match[1]) };
}
