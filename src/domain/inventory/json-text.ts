/**
 * Reads JSON inventory text, turning a syntax error into an `InputError` that names the line, and a
 * decoded string that is not well-formed text into one that names the JSON path.
 */
import { InputError } from '../errors.js';
import { printableText } from '../well-formed-text.js';
import { checkJsonText } from './well-formed-inventory.js';

/**
 * @example parseJsonText('{"a": 1}', 'bom.json') // { a: 1 }
 */
export function parseJsonText(text: string, fileName: string): unknown {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    return throwWithLine(message, text, fileName);
  }
  checkJsonText(document, fileName);
  return document;
}

function throwWithLine(message: string, text: string, fileName: string): never {
  // V8 reports a character offset ("at position 42"), newer versions also "(line 3 column 5)".
  const lineMatch = /line (\d+) column/.exec(message);
  const positionMatch = /at position (\d+)/.exec(message);
  let line: number | undefined;
  if (lineMatch) line = Number(lineMatch[1]);
  else if (positionMatch) line = lineOfOffset(text, Number(positionMatch[1]));
  // V8 quotes the text around the error, halves of surrogate pairs included: escape what is unprintable.
  throw new InputError(`not valid JSON: ${printableText(message)}`, line === undefined ? { file: fileName } : { file: fileName, line });
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) line++;
  return line;
}
