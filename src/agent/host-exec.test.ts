// The --host-exec prefix is split into argv as a POSIX shell splits words, and refused, naming the
// flag, wherever a shell would have done more than split.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InputError } from '../domain/errors.js';
import { splitHostExec } from './host-exec.js';

/** What sh itself makes of `text` as the words of a command (printf prints one word per line). */
function shellWords(text: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\n' ${text}`], { encoding: 'utf8' }).split('\n').slice(0, -1);
}

describe('splitHostExec', () => {
  it.each([
    'nsenter -t 1 -m -u -i -n -p --',
    '  nsenter\t-t 1  --  ',
    `chroot '/srv/my host' --`,
    `chroot "/srv/my host" --`,
    'chroot /srv/my\\ host --',
    `env 'A=it'"'"'s' --`,
    `printf "a\\"b\\\\c\\d" --`,
    `sh -c 'exec "$@"' host-exec`,
    `x "" '' y`,
    `a"b"'c'd`,
    'a\\\nb c',
    `"a\\\nb" c`,
    'ionice -c2 -n7 -- nice -n 10 --',
    'x#y a~b',
  ])('splits %j as sh does', (text) => {
    expect(splitHostExec(text)).toEqual(shellWords(text));
  });

  it.each([
    [`nsenter -t 1 'unterminated`, 'unterminated single quote (character 14'],
    [`nsenter "unterminated`, 'unterminated double quote (character 9'],
    ['nsenter --\\', 'a backslash ends the prefix'],
    ['nsenter -t $PID --', 'a shell would give "$" a meaning (character 12'],
    ['nsenter -t "$PID" --', 'a shell would expand "$" inside double quotes'],
    ['nsenter -t "`pidof init`" --', 'a shell would expand "`" inside double quotes'],
    ['nsenter -t 1 -- | tee log', 'a shell would give "|" a meaning'],
    ['nsenter -t 1 -- > log', 'a shell would give ">" a meaning'],
    ['nsenter; reboot', 'a shell would give ";" a meaning'],
    ['chroot /srv/* --', 'a shell would give "*" a meaning'],
    ['chroot ~/host --', 'a shell would give "~" a meaning'],
    ['nsenter -- # comment', 'a shell would give "#" a meaning'],
  ])('refuses %j, naming the flag', (text, message) => {
    let error: unknown;
    try {
      splitHostExec(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/^field --host-exec: /);
    expect((error as InputError).message).toContain(message);
    expect((error as InputError).hint).toContain('no shell runs it');
  });

  it('takes a newline for a blank (a YAML block scalar ends in one), where sh would end the command', () => {
    expect(splitHostExec('nsenter -t 1\n  -m --\n')).toEqual(['nsenter', '-t', '1', '-m', '--']);
  });

  it('accepts quoted shell syntax as the literal text it is', () => {
    expect(splitHostExec(`sh -c 'exec "$@" | cat' x`)).toEqual(['sh', '-c', 'exec "$@" | cat', 'x']);
    expect(splitHostExec('echo \\$HOME \\|')).toEqual(['echo', '$HOME', '|']);
  });

  it('refuses a prefix without a word', () => {
    for (const text of ['', '   ', '\n\t']) expect(() => splitHostExec(text)).toThrow(/^field --host-exec: the prefix is empty$/);
  });
});
