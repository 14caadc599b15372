/**
 * The condition language of a Prometheus gate, the subset of Argo Rollouts' (expr-lang) that
 * analysis templates use, over `result`: an instant vector's sample values (`result[0] >= 0.95`,
 * `len(result) == 0`) or a scalar (`result == 1`). Unlike Argo, a vector of one sample also reads
 * as that sample where a number is expected (`result == 0`), rather than never being equal.
 *
 * Grammar, loosest binding first:
 *   or := and (('||' | 'or') and)*          and := not (('&&' | 'and') not)*
 *   not := ('!' | 'not') not | comparison   comparison := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)?
 *   sum := product (('+' | '-') product)*   product := sign (('*' | '/') sign)*
 *   sign := '-' sign | postfix              postfix := primary ('[' or ']')*
 *   primary := number | true | false | result | ('len' | 'isNaN' | 'isInf') '(' or ')' | '(' or ')'
 *
 * A recursive-descent parser with a static type check, so `policy check` names the column of a
 * mistake; evaluation walks the tree (no eval). Comparisons with NaN are false, as in Go.
 */

export interface ConditionProblem {
  message: string;
  /** 1-based column in the condition's text. */
  column: number;
}

/** Raised by `evaluate`: `noData` when the condition indexed an empty vector (the query found nothing). */
export class ConditionEvaluationError extends Error {
  override readonly name = 'ConditionEvaluationError';
  constructor(
    message: string,
    readonly noData: boolean,
  ) {
    super(message);
  }
}

/** What a condition reads: a vector's sample values in the order Prometheus sent them, or a scalar. */
export type ConditionInput = number | readonly number[];

type Comparison = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Arithmetic = '+' | '-' | '*' | '/';
type FunctionName = 'len' | 'isNaN' | 'isInf';

type ConditionNode =
  | { type: 'number'; value: number; at: number }
  | { type: 'boolean'; value: boolean; at: number }
  | { type: 'result'; at: number }
  | { type: 'index'; target: ConditionNode; index: ConditionNode; at: number }
  | { type: 'call'; name: FunctionName; argument: ConditionNode; at: number }
  | { type: 'not'; operand: ConditionNode; at: number }
  | { type: 'negate'; operand: ConditionNode; at: number }
  | { type: 'logical'; operator: '&&' | '||'; left: ConditionNode; right: ConditionNode; at: number }
  | { type: 'compare'; operator: Comparison; left: ConditionNode; right: ConditionNode; at: number }
  | { type: 'arithmetic'; operator: Arithmetic; left: ConditionNode; right: ConditionNode; at: number };

/** Static types: `result` is a vector or a scalar, known only when the query answers. */
type StaticType = 'number' | 'boolean' | 'result';

interface Token {
  kind: 'number' | 'word' | 'operator' | 'end';
  text: string;
  at: number;
}

const FUNCTIONS: readonly FunctionName[] = ['len', 'isNaN', 'isInf'];
const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '(', ')', '[', ']'];
const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!' };

class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** A parsed, type-checked condition. */
export class Condition {
  private constructor(
    readonly text: string,
    private readonly root: ConditionNode,
  ) {}

  /**
   * @throws Error naming the problem and its column when the text is not a condition (see conditionProblem)
   * @example Condition.parse('result[0] < 0.05').evaluate([0.01]) // true
   */
  static parse(text: string): Condition {
    try {
      return new Condition(text, compile(text));
    } catch (error) {
      if (error instanceof ConditionSyntaxError) throw new Error(`condition ${JSON.stringify(text)}: ${error.message} (column ${error.at + 1})`);
      throw error;
    }
  }

  /** @throws ConditionEvaluationError when the result does not have the shape the condition reads */
  evaluate(result: ConditionInput): boolean {
    return evaluate(this.root, result) as boolean;
  }
}

/**
 * Why a text is not a condition, with the column; undefined when it is one. For `policy check`.
 *
 * @example conditionProblem('result[0] = 1') // { message: 'use == to compare', column: 11 }
 */
export function conditionProblem(text: string): ConditionProblem | undefined {
  try {
    compile(text);
    return undefined;
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { message: error.message, column: error.at + 1 };
    throw error;
  }
}

/** The tree of a condition that parses and is true or false; throws ConditionSyntaxError otherwise. */
function compile(text: string): ConditionNode {
  const root = parse(text);
  const type = typeOf(root);
  if (type !== 'boolean') throw new ConditionSyntaxError(`the condition is a ${type === 'result' ? 'result' : 'number'}, not true or false: compare it, e.g. ${text.trim()} > 0`, start(root));
  return root;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    if (number) {
      if (/^[A-Za-z_]/.test(rest.slice(number[0].length))) throw new ConditionSyntaxError(`${JSON.stringify(rest.slice(0, number[0].length + 1))} is not a number`, at);
      tokens.push({ kind: 'number', text: number[0], at });
      at += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      const operator = WORD_OPERATORS[word[0]];
      tokens.push(operator ? { kind: 'operator', text: operator, at } : { kind: 'word', text: word[0], at });
      at += word[0].length;
      continue;
    }
    const operator = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (operator) {
      tokens.push({ kind: 'operator', text: operator, at });
      at += operator.length;
      continue;
    }
    if (rest.startsWith('=')) throw new ConditionSyntaxError('use == to compare', at);
    if (rest.startsWith('&') || rest.startsWith('|')) throw new ConditionSyntaxError(`use ${rest[0]}${rest[0]} for ${rest[0] === '&' ? 'and' : 'or'}`, at);
    throw new ConditionSyntaxError(`unexpected ${JSON.stringify(rest[0])}`, at);
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

function parse(text: string): ConditionNode {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position]!;
  const accept = (operator: string) => {
    const token = peek();
    if (token.kind !== 'operator' || token.text !== operator) return false;
    position++;
    return true;
  };
  const expect = (operator: string, opened: Token) => {
    if (!accept(operator)) throw new ConditionSyntaxError(`expected ${JSON.stringify(operator)} to close the ${JSON.stringify(opened.text)} at column ${opened.at + 1}${describe(peek())}`, peek().at);
  };

  const or = (): ConditionNode => {
    let left = and();
    for (let token = peek(); accept('||'); token = peek()) left = { type: 'logical', operator: '||', left, right: and(), at: token.at };
    return left;
  };
  const and = (): ConditionNode => {
    let left = not();
    for (let token = peek(); accept('&&'); token = peek()) left = { type: 'logical', operator: '&&', left, right: not(), at: token.at };
    return left;
  };
  const not = (): ConditionNode => {
    const token = peek();
    return accept('!') ? { type: 'not', operand: not(), at: token.at } : comparison();
  };
  const comparison = (): ConditionNode => {
    const left = sum();
    const token = peek();
    const operator = (['==', '!=', '<=', '>=', '<', '>'] as const).find((candidate) => accept(candidate));
    if (!operator) return left;
    const node: ConditionNode = { type: 'compare', operator, left, right: sum(), at: token.at };
    const next = peek();
    if (next.kind === 'operator' && ['==', '!=', '<=', '>=', '<', '>'].includes(next.text)) throw new ConditionSyntaxError('comparisons do not chain: join them with &&, e.g. result[0] >= 0 && result[0] < 5', next.at);
    return node;
  };
  const sum = (): ConditionNode => {
    let left = product();
    for (let token = peek(); token.kind === 'operator' && (token.text === '+' || token.text === '-'); token = peek()) {
      position++;
      left = { type: 'arithmetic', operator: token.text as Arithmetic, left, right: product(), at: token.at };
    }
    return left;
  };
  const product = (): ConditionNode => {
    let left = sign();
    for (let token = peek(); token.kind === 'operator' && (token.text === '*' || token.text === '/'); token = peek()) {
      position++;
      left = { type: 'arithmetic', operator: token.text as Arithmetic, left, right: sign(), at: token.at };
    }
    return left;
  };
  const sign = (): ConditionNode => {
    const token = peek();
    return accept('-') ? { type: 'negate', operand: sign(), at: token.at } : postfix();
  };
  const postfix = (): ConditionNode => {
    let node = primary();
    for (let token = peek(); accept('['); token = peek()) {
      node = { type: 'index', target: node, index: or(), at: token.at };
      expect(']', token);
    }
    return node;
  };
  const primary = (): ConditionNode => {
    const token = peek();
    if (token.kind === 'number') {
      position++;
      return { type: 'number', value: Number(token.text), at: token.at };
    }
    if (token.kind === 'word') {
      position++;
      if (token.text === 'true' || token.text === 'false') return { type: 'boolean', value: token.text === 'true', at: token.at };
      if (token.text === 'result') return { type: 'result', at: token.at };
      const name = FUNCTIONS.find((candidate) => candidate === token.text);
      if (name) {
        const open = peek();
        if (!accept('(')) throw new ConditionSyntaxError(`${name} is a function: ${name}(result)`, open.at);
        const argument = or();
        expect(')', open);
        return { type: 'call', name, argument, at: token.at };
      }
      throw new ConditionSyntaxError(`unknown name ${JSON.stringify(token.text)}: a condition reads result, numbers, true, false, len(), isNaN() and isInf()`, token.at);
    }
    if (accept('(')) {
      const inner = or();
      expect(')', token);
      return inner;
    }
    throw new ConditionSyntaxError(`expected a value${describe(token)}`, token.at);
  };

  const root = or();
  if (peek().kind !== 'end') throw new ConditionSyntaxError(`unexpected ${JSON.stringify(peek().text)} after a complete condition`, peek().at);
  return root;
}

function describe(token: Token): string {
  return token.kind === 'end' ? ', found the end' : `, found ${JSON.stringify(token.text)}`;
}

/** Where the text of a node begins, for the column of a problem with it as a whole. */
function start(node: ConditionNode): number {
  switch (node.type) {
    case 'index':
      return start(node.target);
    case 'logical':
    case 'compare':
    case 'arithmetic':
      return start(node.left);
    default:
      return node.at;
  }
}

/** The static type of a node; throws where operands cannot fit whatever the query answers. */
function typeOf(node: ConditionNode): StaticType {
  const numeric = (operand: ConditionNode, what: string) => {
    const type = typeOf(operand);
    if (type === 'boolean') throw new ConditionSyntaxError(`${what} needs a number, not true or false`, start(operand));
  };
  switch (node.type) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'result':
      return 'result';
    case 'index':
      if (typeOf(node.target) !== 'result') throw new ConditionSyntaxError('only result can be indexed', node.at);
      numeric(node.index, 'an index');
      return 'number';
    case 'call':
      if (node.name === 'len') {
        if (typeOf(node.argument) !== 'result') throw new ConditionSyntaxError('len() counts the samples of result: len(result)', start(node.argument));
        return 'number';
      }
      numeric(node.argument, `${node.name}()`);
      return 'boolean';
    case 'not':
      if (typeOf(node.operand) !== 'boolean') throw new ConditionSyntaxError('! needs a condition, e.g. !(result[0] > 1)', start(node.operand));
      return 'boolean';
    case 'negate':
      numeric(node.operand, '-');
      return 'number';
    case 'logical':
      for (const side of [node.left, node.right]) if (typeOf(side) !== 'boolean') throw new ConditionSyntaxError(`${node.operator} joins conditions; this side is a number: compare it`, start(side));
      return 'boolean';
    case 'compare': {
      const left = typeOf(node.left);
      const right = typeOf(node.right);
      const equality = node.operator === '==' || node.operator === '!=';
      if ((left === 'boolean') !== (right === 'boolean') || (left === 'boolean' && !equality)) {
        throw new ConditionSyntaxError(equality ? `${node.operator} compares a number with a number, or true or false with true or false` : `${node.operator} compares numbers`, node.at);
      }
      return 'boolean';
    }
    case 'arithmetic':
      numeric(node.left, node.operator);
      numeric(node.right, node.operator);
      return 'number';
  }
}

type RuntimeValue = number | boolean | readonly number[];

const COMPARE: Record<Comparison, (a: number, b: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

const ARITHMETIC: Record<Arithmetic, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
};

/**
 * A value the static check typed as a number or `result`. A vector where a scalar is written
 * (`result == 0` over `count(…) or vector(0)`) reads as its one sample; with none it is no data,
 * with several it is ambiguous.
 */
function scalar(value: RuntimeValue): number {
  if (typeof value === 'number') return value;
  const samples = value as readonly number[];
  if (samples.length === 1) return samples[0]!;
  if (samples.length === 0) throw new ConditionEvaluationError('the query returned no samples', true);
  throw new ConditionEvaluationError(`result is a vector of ${samples.length} samples, not one value: read one with result[0], or aggregate in the query`, false);
}

function evaluate(node: ConditionNode, result: ConditionInput): RuntimeValue {
  switch (node.type) {
    case 'number':
    case 'boolean':
      return node.value;
    case 'result':
      return result;
    case 'index': {
      const target = evaluate(node.target, result);
      const index = scalar(evaluate(node.index, result));
      if (typeof target === 'number') throw new ConditionEvaluationError('result is a scalar, not a vector: compare it without an index (result == 1)', false);
      const samples = target as readonly number[];
      if (!Number.isInteger(index) || index < 0) throw new ConditionEvaluationError(`index ${index} is not a whole number from 0`, false);
      if (index >= samples.length) {
        throw new ConditionEvaluationError(samples.length === 0 ? 'the query returned no samples' : `result[${index}] does not exist: the query returned ${samples.length} sample${samples.length === 1 ? '' : 's'}`, samples.length === 0);
      }
      return samples[index]!;
    }
    case 'call': {
      const value = evaluate(node.argument, result);
      if (node.name === 'len') {
        if (typeof value === 'number') throw new ConditionEvaluationError('result is a scalar, not a vector: len() needs a vector', false);
        return (value as readonly number[]).length;
      }
      const number = scalar(value);
      return node.name === 'isNaN' ? Number.isNaN(number) : Math.abs(number) === Infinity;
    }
    case 'not':
      return !evaluate(node.operand, result);
    case 'negate':
      return -scalar(evaluate(node.operand, result));
    case 'logical': {
      const left = evaluate(node.left, result) as boolean;
      if (node.operator === '&&') return left && (evaluate(node.right, result) as boolean);
      return left || (evaluate(node.right, result) as boolean);
    }
    case 'compare': {
      const left = evaluate(node.left, result);
      const right = evaluate(node.right, result);
      if (typeof left === 'boolean') return node.operator === '==' ? left === right : left !== right;
      return COMPARE[node.operator](scalar(left), scalar(right));
    }
    case 'arithmetic':
      return ARITHMETIC[node.operator](scalar(evaluate(node.left, result)), scalar(evaluate(node.right, result)));
  }
}
