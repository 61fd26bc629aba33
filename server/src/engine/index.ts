// Browser support is not re-exported here: it loads Playwright, which takes about half a second,
// so only the code that drives a browser imports `./browser/index.js`.
export { describeLimit, runCase, type RunCaseInput } from './run-case.js';
export { runCompensation, type RunCompensationInput } from './run-compensation.js';
export {
  createSkillContext,
  type CaseListeners,
  type CaseRecord,
  type SkillContextHandle,
  type SkillContextOptions,
} from './skill-context.js';
export { classifyError, statusForErrorType, type ErrorClassification } from './classify-error.js';
export {
  createHttpClient,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_REDIRECTS,
  type HttpClientOptions,
} from './http-client.js';
export {
  checkParams,
  checkParamsAsync,
  describeIssues,
  formatIssuePath,
  ROOT_PATH,
  type ParamIssue,
  type ParamsCheck,
} from './check-params.js';
export { toJsonObject, type JsonObjectResult } from './to-json-object.js';
export { createMasker, maskJson, MASK } from './masking.js';
export type { ArtifactFile, ArtifactSink } from './artifact-sink.js';
