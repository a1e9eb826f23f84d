import { execFile, spawn } from 'node:child_process';
import { chmod, cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, type TempDir, tempDir } from '@vitrine/testing';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const OVERLAYS = ['asia', 'europe', 'us', 'us-s3', 'access'];

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are plain JSON documents
type Doc = Record<string, any>;

/** The Kubernetes models (with their OpenAPI schemas) of every kind deploy/ renders. */
const MODELS: Record<string, { new (data: Doc): { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
};

async function render(overlay: string): Promise<Doc[]> {
  const { stdout } = await run('kubectl', [
    'kustomize',
    join(DEPLOY, 'kubernetes/overlays', overlay),
  ]);
  return parseAllDocuments(stdout).map((d) => d.toJSON() as Doc);
}

/** Validates a document against the Kubernetes schema of its kind; throws on any mismatch. */
function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

const SECRETISH = /pass(word)?|secret|token|private|credential|api[-_]?key/i;

/** Every way a rendered overlay breaks the deployment rules, as readable lines. */
function violations(docs: readonly Doc[]): string[] {
  const found: string[] = [];
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  if (deployments.length === 0) found.push('no Deployment');
  for (const doc of docs) {
    if (doc.kind === 'Secret') found.push(`Secret ${doc.metadata.name} is committed`);
  }
  for (const d of deployments) {
    const name = d.metadata.name;
    const pod = d.spec.template.spec;
    const labels = d.spec.template.metadata?.labels ?? {};
    if (pod.securityContext?.runAsNonRoot !== true) found.push(`${name}: runAsNonRoot`);
    if (!(pod.securityContext?.runAsUser > 0)) found.push(`${name}: runAsUser not root`);
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
      found.push(`${name}: seccompProfile`);
    if (pod.automountServiceAccountToken !== false) found.push(`${name}: service account token`);
    for (const c of pod.containers) {
      const where = `${name}/${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) found.push(`${where}: readOnlyRootFilesystem`);
      if (sc.allowPrivilegeEscalation !== false) found.push(`${where}: allowPrivilegeEscalation`);
      if (!sc.capabilities?.drop?.includes('ALL')) found.push(`${where}: capabilities drop ALL`);
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        if (!c[probe]?.grpc?.port) found.push(`${where}: ${probe} through gRPC health`);
      }
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (!c.resources?.[kind]?.[resource]) found.push(`${where}: ${kind}.${resource}`);
        }
      }
      for (const env of c.env ?? []) {
        if (env.value !== undefined && SECRETISH.test(env.name))
          found.push(`${where}: literal value for ${env.name}`);
      }
    }
    if ((d.spec.replicas ?? 1) > 1) {
      // Replicas act as one center only on shared storage: chunks in S3, no volume of one pod.
      const s3Key = (c: Doc) =>
        (c.env ?? []).some(
          (e: Doc) => e.name === 'VITRINE_S3_SECRET_ACCESS_KEY' && e.valueFrom?.secretKeyRef,
        );
      if (!pod.containers.every(s3Key)) found.push(`${name}: replicas without the S3 chunk store`);
      if (pod.volumes.some((v: Doc) => v.persistentVolumeClaim))
        found.push(`${name}: replicas on a volume of their own`);
    }
    const secretVolumes = pod.volumes.filter((v: Doc) => v.secret);
    if (secretVolumes.length === 0) found.push(`${name}: no Secret referenced`);
    const selects = (selector: Doc | undefined) =>
      selector !== undefined &&
      Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      Object.keys(selector.matchLabels ?? {}).length > 0;
    if (!docs.some((x) => x.kind === 'PodDisruptionBudget' && selects(x.spec.selector)))
      found.push(`${name}: no PodDisruptionBudget selects it`);
    if (!docs.some((x) => x.kind === 'NetworkPolicy' && selects(x.spec.podSelector)))
      found.push(`${name}: no NetworkPolicy selects it`);
    if (!docs.some((x) => x.kind === 'Service' && selects({ matchLabels: x.spec.selector })))
      found.push(`${name}: no Service selects it`);
  }
  return found;
}

describe('deploy/kubernetes: every overlay renders, validates and keeps the rules', () => {
  const rendered = new Map<string, Doc[]>();
  beforeAll(async () => {
    const docs = await Promise.all(OVERLAYS.map(render));
    for (const [i, overlay] of OVERLAYS.entries()) rendered.set(overlay, docs[i] ?? []);
  });

  it.each(OVERLAYS)('overlay %s validates against the Kubernetes schemas', (overlay) => {
    const docs = rendered.get(overlay) ?? [];
    expect(docs.length).toBeGreaterThan(4);
    for (const doc of docs)
      expect(() => validate(doc), `${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    const namespace = `vitrine-${overlay.replace(/-s3$/, '')}`;
    for (const doc of docs) {
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace).toBe(namespace);
    }
  });

  it.each(OVERLAYS)('overlay %s: non-root, read-only, probes, limits, no secrets', (overlay) => {
    expect(violations(rendered.get(overlay) ?? [])).toEqual([]);
  });

  it('each center overlay mounts the signed manifest and names its own center', () => {
    for (const center of ['asia', 'europe', 'us']) {
      const docs = rendered.get(center) ?? [];
      const manifest = docs.find(
        (d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('federation'),
      );
      const signed = JSON.parse(manifest?.data['federation-manifest.json']);
      expect(JSON.parse(signed.manifest).centers.map((c: Doc) => c.id)).toContain(center);
      const deployment = docs.find((d) => d.kind === 'Deployment');
      expect(deployment?.spec.template.metadata.labels['vitrine.dev/center']).toBe(center);
      const volume = deployment?.spec.template.spec.volumes.find(
        (v: Doc) => v.name === 'federation',
      );
      expect(volume.configMap.name).toBe(manifest?.metadata.name);
    }
  });

  it('the checks fail on a manifest that breaks them', () => {
    const docs = structuredClone(rendered.get('europe') ?? []);
    const deployment = docs.find((d) => d.kind === 'Deployment') as Doc;
    const container = deployment.spec.template.spec.containers[0];
    container.securityContext.readOnlyRootFilesystem = false;
    delete container.readinessProbe;
    delete container.resources.limits;
    container.env = [{ name: 'DATABASE_PASSWORD', value: 'hunter2' }];
    docs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'center-keys' } });
    expect(violations(docs)).toEqual(
      expect.arrayContaining([
        'Secret center-keys is committed',
        'center/center: readOnlyRootFilesystem',
        'center/center: readinessProbe through gRPC health',
        'center/center: limits.cpu',
        'center/center: literal value for DATABASE_PASSWORD',
      ]),
    );
    deployment.spec.replicas = 'two';
    expect(() => validate(deployment)).toThrow(/replicas/);
    deployment.spec.replicas = 2;
    expect(violations(docs)).toEqual(
      expect.arrayContaining([
        'center: replicas without the S3 chunk store',
        'center: replicas on a volume of their own',
      ]),
    );
  });

  it('runs several replicas of a center only with its chunks in S3 (overlay us-s3)', () => {
    const single = rendered.get('us')?.find((d) => d.kind === 'Deployment');
    const replicated = rendered.get('us-s3') ?? [];
    const deployment = replicated.find((d) => d.kind === 'Deployment');
    expect(single?.spec.replicas).toBe(1);
    expect(deployment?.spec.replicas).toBe(2);
    expect(replicated.some((d) => d.kind === 'PersistentVolumeClaim')).toBe(false);
    const budget = replicated.find((d) => d.kind === 'PodDisruptionBudget');
    expect(budget?.spec).toMatchObject({ minAvailable: 1 });
    expect(violations(replicated)).toEqual([]);
  });
});

describe('deploy/compose.yaml and the Grafana dashboard', () => {
  it('runs access, three centers, PostgreSQL and an S3-compatible store, read-only and non-root', async () => {
    const compose = parse(await readFile(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true });
    const services = compose.services as Record<string, Doc>;
    for (const name of ['access', 'asia', 'europe', 'us', 'postgres', 'objects']) {
      expect(services[name], name).toBeDefined();
    }
    for (const name of ['access', 'asia', 'europe', 'us', 'setup']) {
      expect(services[name]?.read_only, name).toBe(true);
      expect(services[name]?.user, name).toBe('10001:10001');
      expect(services[name]?.cap_drop, name).toEqual(['ALL']);
    }
    expect(services.asia?.command).toEqual(['serve', 'center', '--config', '/setup/asia.json']);
    expect(JSON.stringify(compose)).not.toMatch(/PASSWORD:\s*\S|"MINIO_ROOT_PASSWORD"/);
  });

  it('charts only metrics vitrine exports', async () => {
    const sources = await sourceText(['libs', 'services']);
    const exported = new Set(
      [
        ...sources.matchAll(
          /create(?:Counter|Histogram)\('(vitrine\.[a-z_.]+)'(?:,\s*\{\s*unit: 'By')?/g,
        ),
      ].map(
        (m) =>
          `${(m[1] as string).replaceAll('.', '_')}${m[0].includes("unit: 'By'") ? '_bytes' : ''}_total`,
      ),
    );
    for (const m of sources.matchAll(/createObservableGauge\('(vitrine\.[a-z_.]+)'/g)) {
      exported.add((m[1] as string).replaceAll('.', '_'));
    }
    expect(exported.size).toBeGreaterThan(4);
    const dashboard = JSON.parse(
      await readFile(join(DEPLOY, 'grafana/vitrine-federation.json'), 'utf8'),
    );
    const charted = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const m of (target.expr as string).matchAll(/vitrine_[a-z_]+/g)) charted.add(m[0]);
      }
    }
    expect([...charted].filter((name) => !exported.has(name))).toEqual([]);
    expect([...exported].filter((name) => !charted.has(name))).toEqual([]);
  });
});

async function sourceText(groups: string[]): Promise<string> {
  const texts: string[] = [];
  for (const group of groups) {
    for (const pkg of await readdir(join(ROOT, group))) {
      const src = join(ROOT, group, pkg, 'src');
      const files = await readdir(src, { recursive: true }).catch(() => [] as string[]);
      for (const file of files) {
        if (file.endsWith('.ts')) texts.push(await readFile(join(src, file), 'utf8'));
      }
    }
  }
  return texts.join('\n');
}

/**
 * The Dockerfile's recipe, run without Docker: its RUN steps call deploy/image/stage.sh,
 * which this test runs on a copy of the repository, then starts the staged command from a
 * read-only folder as the image would and asks it for its health.
 */
describe('deploy/Dockerfile: the image recipe in a staging folder', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('vitrine-image-');
  });
  afterAll(async () => {
    await chmod(join(dir.path, 'app'), 0o755).catch(() => undefined);
    await run('chmod', ['-R', 'u+w', dir.path]).catch(() => undefined);
    await dir.cleanup();
  });

  it('builds on Node 24 as a non-root user with a gRPC health check', async () => {
    const dockerfile = await readFile(join(DEPLOY, 'Dockerfile'), 'utf8');
    const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
    const from = lines.filter((l) => l.startsWith('FROM '));
    expect(from).toHaveLength(2);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24-/);
    const finalStage = lines.slice(lines.lastIndexOf(from[1] as string));
    expect(finalStage.find((l) => l.startsWith('USER '))).toBe('USER 10001:10001');
    expect(finalStage.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/vitrine\.js health/);
    const runs = lines.filter((l) => l.startsWith('RUN '));
    expect(runs[0]).toMatch(/stage\.sh build \/src .*stage\.sh runtime \/src \/app/);
  });

  it('stages the command with production dependencies only, and serves from a read-only folder', async () => {
    const src = join(dir.path, 'src');
    const app = join(dir.path, 'app');
    // COPY . . with .dockerignore: the tracked files of the repository.
    const { stdout } = await run('git', ['ls-files', '-z'], { cwd: ROOT, maxBuffer: 64 << 20 });
    const files = stdout.split('\0').filter(Boolean);
    // A few copies at a time: one by one the copy of the tree dominates the staging.
    for (let at = 0; at < files.length; at += 64) {
      await Promise.all(
        files.slice(at, at + 64).map((file) =>
          cp(join(ROOT, file), join(src, file), { preserveTimestamps: true }).catch((err) => {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }),
        ),
      );
    }
    const stage = join(src, 'deploy/image/stage.sh');
    await run('sh', [stage, 'build', src], { maxBuffer: 64 << 20 });
    await run('sh', [stage, 'runtime', src, app], { maxBuffer: 64 << 20 });
    const bundle = join(app, 'cli/dist/serve.mjs');
    const built = (await stat(bundle)).mtimeMs;
    // No sources, compilers or dev dependencies: the build alone.
    for (const left of ['libs', 'services', 'cli/src']) {
      await expect(stat(join(app, left)), left).rejects.toThrow(/ENOENT/);
    }
    for (const dev of [
      'vitest',
      '@biomejs/biome',
      'typescript',
      'esbuild',
      'tsx',
      '@vitrine',
      'kubernetes-models',
    ]) {
      await expect(stat(join(app, 'node_modules', dev)), dev).rejects.toThrow(/ENOENT/);
    }
    await run('chmod', ['-R', 'a-w', app]);

    const data = join(dir.path, 'data');
    const port = await freePort();
    const config = join(dir.path, 'access.json');
    await writeFile(
      config,
      JSON.stringify({ listen: { host: '127.0.0.1', port }, dataDir: data, jurisdictions: {} }),
    );
    const child = spawn(
      process.execPath,
      [join(app, 'bin/vitrine.js'), 'serve', 'access', '--config', config, '--json'],
      {
        cwd: dir.path,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NODE_ENV: 'production' },
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`staged vitrine exited ${code}`)));
      });
      expect(JSON.parse(line)).toMatchObject({ ready: true, service: 'access' });
      const health = await run(process.execPath, [
        join(app, 'bin/vitrine.js'),
        'health',
        '--endpoint',
        `http://127.0.0.1:${port}`,
        '--json',
      ]);
      expect(JSON.parse(health.stdout)).toMatchObject({ status: 'SERVING' });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    // The staged build was used as it was built, never rebuilt at start.
    expect((await stat(bundle)).mtimeMs).toBe(built);
  }, 900_000);
});
