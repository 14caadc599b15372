/**
 * Who may accept a risk: a new acceptance names its approver, and the approver is someone other
 * than the person who asked for it (four eyes, as SOC 2 CC8.1 samples approvals for). Names are
 * compared without their kind (`cli:alice` and `token:alice` are one person) and without case.
 * Acceptances recorded before approvers existed stay valid; they are only reported without one.
 */
import { InputError } from '../errors.js';

const personOf = (actor: string) => actor.trim().replace(/^(cli|token|user):/i, '').toLowerCase();

/**
 * Throws an InputError naming `field` unless `approvedBy` is given and is not the requester.
 *
 * @example checkRiskApproval({ acceptedBy: 'cli:alice', approvedBy: 'bob' }, '--approved-by') // passes
 * @example checkRiskApproval({ acceptedBy: 'cli:alice', approvedBy: 'Alice' }, '--approved-by') // throws: four eyes
 */
export function checkRiskApproval(acceptance: { acceptedBy: string; approvedBy?: string | undefined }, field: string): void {
  const approver = acceptance.approvedBy?.trim() ?? '';
  if (approver === '') throw new InputError('a risk acceptance needs an approver', { field }, 'name the person who approved it (someone other than you)');
  if (personOf(approver) === personOf(acceptance.acceptedBy)) {
    throw new InputError(`${approver} cannot approve their own risk acceptance`, { field }, 'a second person approves it (four eyes)');
  }
}
