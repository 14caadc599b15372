/**
 * Why an accepted risk may be called "not affected": OpenVEX's five justifications, the fixed
 * vocabulary a risk acceptance may carry. Without one, an acceptance stays "affected" with an
 * action statement; with one, the approver attests that the flaw cannot be exploited here.
 */
export const RISK_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type RiskJustification = (typeof RISK_JUSTIFICATIONS)[number];

export function isRiskJustification(text: string): text is RiskJustification {
  return (RISK_JUSTIFICATIONS as readonly string[]).includes(text);
}
