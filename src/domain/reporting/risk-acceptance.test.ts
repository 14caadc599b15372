import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { checkRiskApproval } from './risk-acceptance.js';

describe('checkRiskApproval', () => {
  it('takes an approver other than the requester', () => {
    expect(() => checkRiskApproval({ acceptedBy: 'cli:alice', approvedBy: 'bob' }, '--approved-by')).not.toThrow();
  });

  it('refuses a missing or blank approver, naming the field', () => {
    for (const approvedBy of [undefined, '', '  ']) {
      const attempt = () => checkRiskApproval({ acceptedBy: 'alice', approvedBy }, 'approvedBy');
      expect(attempt).toThrow(InputError);
      expect(attempt).toThrow('a risk acceptance needs an approver');
    }
  });

  it('refuses the requester approving their own acceptance, whatever the kind prefix or case', () => {
    expect(() => checkRiskApproval({ acceptedBy: 'cli:alice', approvedBy: 'Alice' }, '--approved-by')).toThrow('Alice cannot approve their own risk acceptance');
    expect(() => checkRiskApproval({ acceptedBy: 'token:ci-bot', approvedBy: 'cli:ci-bot' }, 'approvedBy')).toThrow(/four eyes|cannot approve/);
  });
});
