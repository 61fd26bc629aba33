import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Namespace, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config.js';
import { isQueueName } from '../../src/queues/job-catalog.js';

const K8S = fileURLToPath(new URL('../../../deploy/k8s/', import.meta.url));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/** One model per kind the base uses; its validate() checks the object against the API schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function documents(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

const kustomizationResources = () =>
  (
    parseAllDocuments(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as {
      resources: string[];
    }
  ).resources;

/** Every manifest the kustomization lists, as written. */
function baseManifests(): Manifest[] {
  return kustomizationResources().flatMap((file) =>
    documents(readFileSync(join(K8S, file), 'utf8')),
  );
}

const byKind = (manifests: Manifest[], kind: string) =>
  manifests.filter((manifest) => manifest.kind === kind);

interface Container {
  args: string[];
  env?: { name: string }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
}
const containerOf = (deployment: Manifest) =>
  (deployment.spec as { template: { spec: { containers: Container[] } } }).template.spec
    .containers[0]!;

describe('deploy/k8s', () => {
  it('lists every manifest file of the folder, and each validates against its API schema', () => {
    const listed = kustomizationResources();
    const files = readdirSync(K8S).filter(
      (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
    );
    expect([...listed].sort()).toEqual(files.sort());
    for (const manifest of baseManifests()) {
      const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(model, `${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      expect(() => new model!(manifest as never).validate(), manifest.metadata.name).not.toThrow();
    }
  });

  it('rejects a manifest that breaks its schema (the validator is not a no-op)', () => {
    const api = byKind(baseManifests(), 'Deployment')[0]!;
    const broken = structuredClone(api) as unknown as {
      spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('runs each role as its own Deployment with probes on /healthz, /readyz or /metrics', () => {
    const deployments = byKind(baseManifests(), 'Deployment');
    const roles = Object.fromEntries(deployments.map((d) => [d.metadata.name, containerOf(d)]));
    expect(Object.keys(roles).sort()).toEqual([
      'webguard-api',
      'webguard-scheduler',
      'webguard-worker-api',
      'webguard-worker-browser',
    ]);
    const api = roles['webguard-api']!;
    expect(api.args).toEqual(['api']);
    expect(api.livenessProbe?.httpGet.path).toBe('/healthz');
    expect(api.startupProbe?.httpGet.path).toBe('/healthz');
    expect(api.readinessProbe?.httpGet.path).toBe('/readyz');
    expect(roles['webguard-scheduler']!.args).toEqual(['scheduler']);
    for (const name of ['webguard-worker-api', 'webguard-worker-browser']) {
      const [role, flag, queues] = roles[name]!.args;
      expect([role, flag]).toEqual(['worker', '--queues']);
      for (const queue of queues!.split(',')) expect(isQueueName(queue), queue).toBe(true);
    }
    for (const [name, container] of Object.entries(roles)) {
      for (const variable of container.env ?? [])
        expect(Object.keys(EnvSchema.shape), `${name}: ${variable.name}`).toContain(variable.name);
      const probe = container.livenessProbe?.httpGet;
      expect(
        container.ports?.map((port) => port.name),
        name,
      ).toContain(probe?.port);
    }
  });

  it('names only variables WebGuard reads in its ConfigMap', () => {
    const config = readFileSync(join(K8S, 'config.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z]/.test(line))
      .map((line) => line.split('=')[0]!);
    for (const name of config) expect(Object.keys(EnvSchema.shape), name).toContain(name);
  });

  it('scales workers on queue depth and protects every role from voluntary disruption', () => {
    const manifests = baseManifests();
    const deployments = new Set(byKind(manifests, 'Deployment').map((d) => d.metadata.name));
    const hpas = byKind(manifests, 'HorizontalPodAutoscaler') as unknown as {
      spec: {
        scaleTargetRef: { name: string };
        metrics: { type: string; external?: { metric: { name: string } } }[];
      };
    }[];
    for (const hpa of hpas) expect(deployments).toContain(hpa.spec.scaleTargetRef.name);
    const queueDriven = hpas.filter((hpa) =>
      hpa.spec.metrics.some((metric) => metric.external?.metric.name === 'webguard_queue_jobs'),
    );
    expect(queueDriven.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual([
      'webguard-worker-api',
      'webguard-worker-browser',
    ]);
    const budgets = byKind(manifests, 'PodDisruptionBudget') as unknown as {
      spec: { selector: { matchLabels: Record<string, string> } };
    }[];
    const covered = budgets.map(
      (budget) => `webguard-${budget.spec.selector.matchLabels['app.kubernetes.io/component']}`,
    );
    expect(covered.sort()).toEqual([...deployments].sort());
  });

  it('routes /socket.io/ and the API through the ingress to the API service', () => {
    const [ingress] = byKind(baseManifests(), 'Ingress') as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: {
        rules: {
          http: { paths: { path: string; backend: { service: { name: string } } }[] };
        }[];
      };
    }[];
    const paths = ingress!.spec.rules[0]!.http.paths;
    expect(paths.map((path) => path.path)).toEqual(['/socket.io/', '/']);
    for (const path of paths) expect(path.backend.service.name).toBe('webguard-api');
    expect(
      Number(ingress!.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']),
    ).toBeGreaterThanOrEqual(3600);
  });

  it('renders with kustomize into one namespace with the hashed ConfigMap wired in', () => {
    const rendered = documents(
      execFileSync('kubectl', ['kustomize', K8S], { encoding: 'utf8', timeout: 30_000 }),
    );
    const [configMap] = byKind(rendered, 'ConfigMap');
    expect(configMap?.metadata.name).toMatch(/^webguard-config-[a-z0-9]+$/);
    for (const manifest of rendered.filter((m) => m.kind !== 'Namespace'))
      expect(manifest.metadata.namespace, manifest.metadata.name).toBe('webguard');
    for (const deployment of byKind(rendered, 'Deployment')) {
      const sources = (
        containerOf(deployment) as unknown as {
          envFrom: { configMapRef?: { name: string } }[];
        }
      ).envFrom;
      expect(sources.map((source) => source.configMapRef?.name)).toContain(
        configMap!.metadata.name,
      );
    }
    for (const manifest of rendered) {
      const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      if (model) expect(() => new model(manifest as never).validate()).not.toThrow();
    }
  });
});
