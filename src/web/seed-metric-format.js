// How each of the seed's metrics is written (one place: the executive cards, the per-team table and
// the charts' tables show a metric identically, and the tests compare them with the API's numbers).
import { count, percent } from './format.js';

const none = '–';
const ratio = (value) => (value === null ? none : percent(value));
const hours = (value) => (value === null ? none : `${value.toFixed(1)} h`);
const daysText = (value) => (value === null ? none : `${value.toFixed(1)} d`);
const minutes = (value) => (value === null ? none : `${value.toFixed(1)} min`);

/** The headline of each metric, from its values in a report (`SeedMetricValues`). */
export const METRIC_TEXT = {
  timeToInstalled: (values) => hours(values.timeToInstalled.median),
  timeToLive: (values) => hours(values.timeToLive.median),
  patchCoverage: (values) => ratio(values.patchCoverage.ratio),
  rollbackRate: (values) => ratio(values.rollbackRate.ratio),
  timeToDetectFailedPatch: (values) => minutes(values.timeToDetectFailedPatch.median),
  pendingReboots: (values) => count(values.pendingReboots.hosts),
  vulnerabilityAge: (values) => daysText(values.vulnerabilityAge.median),
  compliancePassRate: (values) => ratio(values.compliancePassRate.ratio),
  canarySuccessRate: (values) => ratio(values.canarySuccessRate.ratio),
  observabilityCoverage: (values) => ratio(values.observabilityCoverage.ratio),
};

/** What the headline is made of, in words: how many, of how many. */
export const METRIC_DETAIL = {
  timeToInstalled: (values) => `median of ${count(values.timeToInstalled.count)} fixes; mean ${hours(values.timeToInstalled.mean)}, p90 ${hours(values.timeToInstalled.p90)}`,
  timeToLive: (values) => `median of ${count(values.timeToLive.count)} fixes; mean ${hours(values.timeToLive.mean)}, p90 ${hours(values.timeToLive.p90)}`,
  patchCoverage: (values) => `${count(values.patchCoverage.covered)} of ${count(values.patchCoverage.hosts)} hosts`,
  rollbackRate: (values) => `${count(values.rollbackRate.rolledBackRollouts)} of ${count(values.rollbackRate.finishedRollouts)} rollouts; ${count(values.rollbackRate.rolledBackHosts)} of ${count(values.rollbackRate.attemptedHosts)} hosts`,
  timeToDetectFailedPatch: (values) => `median of ${count(values.timeToDetectFailedPatch.count)} failures; mean ${minutes(values.timeToDetectFailedPatch.mean)}`,
  pendingReboots: (values) => (values.pendingReboots.oldestDays === null ? 'hosts' : `hosts; oldest install waiting ${daysText(values.pendingReboots.oldestDays)}`),
  vulnerabilityAge: (values) => `median of ${count(values.vulnerabilityAge.count)} open findings; mean ${daysText(values.vulnerabilityAge.mean)}`,
  compliancePassRate: (values) => `${count(values.compliancePassRate.compliant)} of ${count(values.compliancePassRate.evaluated)} hosts; ${count(values.compliancePassRate.excepted)} excepted, ${count(values.compliancePassRate.unknown)} unknown`,
  canarySuccessRate: (values) => `${count(values.canarySuccessRate.successful)} of ${count(values.canarySuccessRate.evaluated)} waves; ${count(values.canarySuccessRate.inconclusive)} inconclusive, ${count(values.canarySuccessRate.error)} error`,
  observabilityCoverage: (values) => `${count(values.observabilityCoverage.observed)} of ${count(values.observabilityCoverage.hosts)} hosts`,
};

export { daysText, hours };
