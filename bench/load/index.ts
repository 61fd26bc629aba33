// The load-test skill, run through the engine, against autocannon: same local node:http
// endpoint, same duration and connections, rounds alternated so neither gets a warmer target.
// Usage: npm run bench -- load [--duration 10] [--connections 10] [--rounds 2]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import loadTest from '../../skills/load-test/skill.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

interface Sample {
  rps: number;
  p99: number;
}

/** The target runs in its own process so it does not share an event loop with either client. */
async function startTarget(): Promise<{ url: string; child: ChildProcess }> {
  const source = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"hello":"world"}');
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}/`, child };
}

async function runSkill(url: string): Promise<Sample> {
  const outcome = CaseOutcome.parse(
    await runCase({
      skill: loadTest,
      params: { targets: [{ url }], connections, duration_s: duration },
      caseName: 'bench',
      executionId: null,
      timeoutMs: (duration + 60) * 1000,
    }),
  );
  if (outcome.status !== 'passed')
    throw new Error(`load-test ${outcome.status}: ${outcome.error_message}`);
  const metric = (name: string) => outcome.metrics.find((entry) => entry.name === name)?.value ?? 0;
  return { rps: metric('rps'), p99: metric('latency_p99') };
}

async function runAutocannon(url: string): Promise<Sample> {
  const result = await autocannon({ url, connections, duration, pipelining: 1 });
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`autocannon saw ${result.errors} errors and ${result.non2xx} non-2xx`);
  return { rps: result.requests.total / result.duration, p99: result.latency.p99 };
}

const mean = (samples: Sample[], key: keyof Sample) =>
  samples.reduce((sum, sample) => sum + sample[key], 0) / samples.length;

const target = await startTarget();
try {
  const skill: Sample[] = [];
  const baseline: Sample[] = [];
  for (let round = 1; round <= rounds; round++) {
    baseline.push(await runAutocannon(target.url));
    skill.push(await runSkill(target.url));
    const [a, s] = [baseline.at(-1)!, skill.at(-1)!];
    console.log(
      `round ${round}: autocannon ${a.rps.toFixed(0)} req/s p99 ${a.p99} ms; load-test ${s.rps.toFixed(0)} req/s p99 ${s.p99} ms`,
    );
  }
  const ratio = mean(skill, 'rps') / mean(baseline, 'rps');
  console.log(
    `load: connections=${connections} duration=${duration}s rounds=${rounds} load-test=${mean(skill, 'rps').toFixed(0)} req/s autocannon=${mean(baseline, 'rps').toFixed(0)} req/s p99 load-test=${mean(skill, 'p99').toFixed(2)} ms autocannon=${mean(baseline, 'p99').toFixed(2)} ms ratio=${ratio.toFixed(2)}`,
  );
} finally {
  target.child.kill();
}
