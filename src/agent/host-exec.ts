/**
 * The `--host-exec` prefix: the argv a job's commands are started through so they run on the host
 * itself, e.g. `nsenter -t 1 -m -u -i -n -p --` from a container that sees the host's root at
 * `/host`. It is split into words as a POSIX shell would split them (blanks, single and double
 * quotes, backslashes), but no shell ever runs it: anything a shell would expand, redirect or
 * glob is refused rather than passed on as literal text.
 */
import { InputError } from '../domain/errors.js';

/** Characters a shell gives a meaning to outside quotes; inside double quotes only `$` and `` ` `` still expand. */
const SHELL_SPECIAL = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[']);
/** Special only at the start of a word: a comment, a tilde expansion. */
const WORD_START_SPECIAL = new Set(['#', '~']);
const BLANK = /[ \t\n]/;

/**
 * Splits `text` into argv, shell-style. Throws an InputError naming `flag` for quoting it cannot
 * parse (an unterminated quote, a trailing backslash), for shell syntax it would have to run a
 * shell for, and for a prefix without any word.
 *
 * @example splitHostExec('nsenter -t 1 -m -u -i -n -p --') // ['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--']
 * @example splitHostExec(`chroot '/srv/my host' --`) // ['chroot', '/srv/my host', '--']
 */
export function splitHostExec(text: string, flag = '--host-exec'): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const fail = (message: string, at: number): never => {
    throw new InputError(`${message} (character ${at + 1} of ${JSON.stringify(text)})`, { field: flag }, `${flag} is split into words like a shell command, but no shell runs it: quote literal text with '…', and give a program with its arguments, e.g. ${flag} "nsenter -t 1 -m -u -i -n -p --"`);
  };
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (BLANK.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end === -1) fail('unterminated single quote', index);
      word = (word ?? '') + text.slice(index + 1, end);
      index = end;
      continue;
    }
    if (char === '"') {
      let quoted = '';
      let closed = false;
      for (index++; index < text.length; index++) {
        const inner = text[index]!;
        if (inner === '"') {
          closed = true;
          break;
        }
        if (inner === '$' || inner === '`') fail(`a shell would expand ${JSON.stringify(inner)} inside double quotes`, index);
        if (inner === '\\' && index + 1 < text.length && '$`"\\\n'.includes(text[index + 1]!)) {
          index++;
          // A backslash-newline continues the line: both go.
          if (text[index] !== '\n') quoted += text[index];
          continue;
        }
        quoted += inner;
      }
      if (!closed) fail('unterminated double quote', text.lastIndexOf('"'));
      word = (word ?? '') + quoted;
      continue;
    }
    if (char === '\\') {
      if (index + 1 >= text.length) fail('a backslash ends the prefix, escaping nothing', index);
      index++;
      if (text[index] !== '\n') word = (word ?? '') + text[index];
      continue;
    }
    if (SHELL_SPECIAL.has(char) || (word === undefined && WORD_START_SPECIAL.has(char))) fail(`a shell would give ${JSON.stringify(char)} a meaning`, index);
    word = (word ?? '') + char;
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new InputError('the prefix is empty', { field: flag }, `give the program that runs a command on the host, e.g. ${flag} "nsenter -t 1 -m -u -i -n -p --", or leave ${flag} out`);
  return words;
}
