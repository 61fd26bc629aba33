export {
  toAllure,
  type AllureAttachment,
  type AllureContainer,
  type AllureReport,
  type AllureResult,
} from './allure.js';
export { caseOutput, toJUnitXml, type ReportArtifact, type ReportOptions } from './junit.js';
export { toSummaryMarkdown } from './summary.js';
export { evaluateGate, type GateCase } from './quality-gate.js';
export { groupFailures, normalizeError, type FailureRow } from './failure-groups.js';
export { allureZip, type OpenArtifact } from './allure-zip.js';
