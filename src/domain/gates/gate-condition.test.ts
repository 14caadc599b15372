// The gate condition language: Argo's conditions evaluate as Argo's do, mistakes are named at
// their column before a rollout runs, and a result of the wrong shape is an error or no data.
import { describe, expect, it } from 'vitest';
import { Condition, ConditionEvaluationError, conditionProblem, type ConditionInput } from './gate-condition.js';

function failure(text: string, input: ConditionInput): ConditionEvaluationError {
  try {
    Condition.parse(text).evaluate(input);
  } catch (error) {
    if (error instanceof ConditionEvaluationError) return error;
    throw error;
  }
  throw new Error(`${text} evaluated without an error`);
}

describe('gate conditions', () => {
  it.each<[string, ConditionInput, boolean]>([
    ['result[0] >= 0.95', [0.97], true],
    ['result[0] >= 0.95', [0.9], false],
    ['result[0] < 5 && result[0] >= 0', [3], true],
    ['result[0] < 5 && result[0] >= 0', [-1], false],
    ['result[0] < 5 and result[0] >= 0', [7], false],
    ['len(result) == 0', [], true],
    ['len(result) == 0', [1], false],
    ['len(result) == 0 || result[0] < 0.05', [], true],
    ['result == 1', 1, true],
    ['result == 1', 0, false],
    ['result != 1', 0, true],
    ['result == 0', [0], true],
    ['result[1] > result[0]', [1, 2], true],
    ['!(result[0] > 1)', [0.5], true],
    ['not (result[0] > 1)', [2], false],
    ['result[0] > 1 || result[0] < -1', [-2], true],
    ['result[0] * 100 > 5', [0.06], true],
    ['-result[0] == 2 - 4', [2], true],
    ['result[0] / 2 <= 1e-3', [0.002], true],
    ['(result[0] + 1) * 2 == 3', [0.5], true],
    ['isNaN(result[0])', [NaN], true],
    ['isNaN(result[0])', [1], false],
    ['result[0] < 1', [NaN], false],
    ['result[0] >= 1', [NaN], false],
    ['isInf(result[0])', [-Infinity], true],
    ['result[0] > 1000', [Infinity], true],
    ['true', [], true],
    ['result[0] > 0 && result[1] > 0', [0, 7], false],
  ])('%s over %j is %s', (text, input, expected) => {
    expect(conditionProblem(text)).toBeUndefined();
    expect(Condition.parse(text).evaluate(input)).toBe(expected);
  });

  it('stops at the first side that decides (a missing sample on the other side is never read)', () => {
    expect(Condition.parse('len(result) == 0 || result[0] < 1').evaluate([])).toBe(true);
    expect(Condition.parse('len(result) > 0 && result[0] < 1').evaluate([])).toBe(false);
  });

  it.each<[string, number, RegExp]>([
    ['result[0] = 1', 11, /use == to compare/],
    ['result[0] > 1 & result[0] < 2', 15, /use && for and/],
    ['result[0] > 1 | result[0] < 2', 15, /use \|\| for or/],
    ['result[0] >', 12, /expected a value, found the end/],
    ['(result[0] > 1', 15, /expected "\)" to close the "\(" at column 1/],
    ['result[0 > 1', 13, /expected "]"/],
    ['value > 1', 1, /unknown name "value"/],
    ['result[0]', 1, /a number, not true or false/],
    ['result', 1, /a result, not true or false/],
    ['result[0] + 1', 1, /a number, not true or false/],
    ['0 < result[0] < 5', 15, /comparisons do not chain/],
    ['result[0] > 1 && 5', 18, /joins conditions; this side is a number/],
    ['!result[0]', 2, /! needs a condition/],
    ['len(result[0]) > 1', 5, /len\(\) counts the samples of result/],
    ['len > 1', 5, /len is a function/],
    ['isNaN(true)', 7, /isNaN\(\) needs a number/],
    ['result[true] > 1', 8, /an index needs a number/],
    ['true > false', 6, /> compares numbers/],
    ['result == true', 8, /== compares a number with a number/],
    ['1 > 0 #', 7, /unexpected "#"/],
    ['result[0] > 1 )', 15, /unexpected "\)" after a complete condition/],
    ['result[0] > 1x', 13, /"1x" is not a number/],
    ['', 1, /expected a value, found the end/],
  ])('%j is refused at column %i', (text, column, message) => {
    const problem = conditionProblem(text);
    expect(problem?.column).toBe(column);
    expect(problem?.message).toMatch(message);
    expect(() => Condition.parse(text)).toThrow(message);
  });

  it.each<[string, ConditionInput, RegExp, boolean]>([
    ['result[0] < 1', [], /no samples/, true],
    ['result == 0', [], /no samples/, true],
    ['result[2] < 1', [1, 2], /result\[2\] does not exist: the query returned 2 samples/, false],
    ['result[0] < 1', 0.5, /result is a scalar, not a vector/, false],
    ['len(result) == 1', 0.5, /len\(\) needs a vector/, false],
    ['result == 1', [1, 1], /a vector of 2 samples, not one value/, false],
    ['result[0.5] < 1', [1], /not a whole number/, false],
    ['result[-1] < 1', [1], /not a whole number/, false],
  ])('%s over %j is an error (%s), no data: %s', (text, input, message, noData) => {
    const error = failure(text, input);
    expect(error.message).toMatch(message);
    expect(error.noData).toBe(noData);
  });
});
