export { ExecutionTraces } from './execution-traces.js';
export { traceFields } from './log-fields.js';
export { failSpan, startTracing, tracer, type Tracing } from './tracing.js';
export { startCaseSpan, type CaseSpan } from './case-span.js';
