import type { NumberSpec } from './field-paths.js';
import {
  elementAt, isNoReading, readFlag, readQuantity, textOf, type Reading, type XmlNode,
} from './xml-values.js';

/**
 * Reads the elements of one `<gpu>` (or one MIG device inside it). A text that does not parse
 * becomes null and one warning naming the GPU and the element, so one odd reading never costs
 * the rest of the sample.
 */
export class GpuReader {
  constructor(
    private readonly node: XmlNode,
    private readonly label: string,
    private readonly warnings: string[],
  ) {}

  /** The first place holding a reading decides; places reading N/A or absent fall through. */
  private first<T>(places: readonly string[], read: (text: string) => Reading<T>): T | null {
    for (const path of places) {
      const text = this.text(path);
      if (text === null) continue;
      return this.settle(path, read(text));
    }
    return null;
  }

  /** The element's text, or null when it is absent, holds children, or reads N/A. */
  private text(path: string): string | null {
    const text = textOf(elementAt(this.node, path));
    return text === undefined || isNoReading(text) ? null : text;
  }

  warn(path: string, problem: string): void {
    this.warnings.push(`${this.label}: ${path}: ${problem}`);
  }

  private settle<T>(path: string, reading: Reading<T>): T | null {
    if ('problem' in reading && reading.problem !== undefined) this.warn(path, `${reading.problem}; recorded as null`);
    return reading.value;
  }

  number(spec: NumberSpec): number | null {
    for (const place of spec.from) {
      const parts = typeof place === 'string' ? [place] : place;
      const present = parts.filter((path) => this.text(path) !== null);
      if (present.length === 0) continue;
      let sum = 0;
      for (const path of present) {
        const value = this.settle(path, readQuantity(this.text(path)!, spec.unit, spec.integer));
        if (value === null) return null;
        sum += value;
      }
      return sum;
    }
    return null;
  }

  integer(path: string): number | null {
    return this.first([path], (text) => readQuantity(text, '', true));
  }

  flag(places: readonly string[]): boolean | null {
    return this.first(places, readFlag);
  }

  string(places: readonly string[]): string | null {
    return this.first(places, (text) => ({ value: text }));
  }

  parsed<T>(path: string, read: (text: string) => Reading<T>): T | null {
    return this.first([path], read);
  }

  element(path: string): XmlNode {
    return elementAt(this.node, path);
  }
}
