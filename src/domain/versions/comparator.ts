/**
 * The one interface every version scheme implements. Detection only ever asks "is a < b?" through
 * this, so adding an ecosystem is adding one sibling file plus one line in `index.ts`.
 */
import type { VersionScheme } from '../types.js';

export type Ordering = -1 | 0 | 1;

export interface VersionComparator {
  readonly scheme: VersionScheme;
  /**
   * Orders two versions exactly as the ecosystem's own tool does.
   * Throws `InputError` for a string the ecosystem's tool would reject outright.
   *
   * @example dpkgComparator.compare('1.0~rc1-1', '1.0-1') // -1
   */
  compare(a: string, b: string): Ordering;
  /** True when the ecosystem's tool accepts the string as a version. */
  isValid(version: string): boolean;
}
