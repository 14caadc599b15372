/**
 * The classes of text fleetpatch refuses, as one table for every test that feeds strings to a
 * parser or schema: each kind of bad character, and whether free text (multiline) may hold it.
 */
export interface BadCharacter {
  name: string;
  text: string;
  /** True for tab, newline and carriage return: allowed in free text such as an advisory's details. */
  multilineAllows: boolean;
}

export const BAD_CHARACTERS: readonly BadCharacter[] = [
  { name: 'NUL', text: '\u0000', multilineAllows: false },
  { name: 'lone high surrogate', text: '\uD800', multilineAllows: false },
  { name: 'lone low surrogate', text: '\uDC00', multilineAllows: false },
  { name: 'reversed surrogate pair', text: '\uDC00\uD800', multilineAllows: false },
  { name: 'escape', text: '\u001B[31m', multilineAllows: false },
  { name: 'bell', text: '\u0007', multilineAllows: false },
  { name: 'backspace', text: '\u0008', multilineAllows: false },
  { name: 'form feed', text: '\u000C', multilineAllows: false },
  { name: 'DEL', text: '\u007F', multilineAllows: false },
  { name: 'C1 CSI', text: '\u009B', multilineAllows: false },
  { name: 'tab', text: '\t', multilineAllows: true },
  { name: 'newline', text: '\n', multilineAllows: true },
  { name: 'carriage return', text: '\r', multilineAllows: true },
];

/** The characters refused everywhere, even in free text. */
export const ALWAYS_BAD: readonly BadCharacter[] = BAD_CHARACTERS.filter((character) => !character.multilineAllows);

/** Dates PostgreSQL cannot store or that are no dates at all, each written as RFC 3339. */
export const BAD_DATES: readonly string[] = ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '10000-01-01T00:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01T00:00:00Z\u0000'];
