import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const ROOT = join(import.meta.dir, "..", "..");
const DIR = join(ROOT, "deploy", "kubernetes");
/** Inside the checkout, so that the generated file resolves kubernetes-models from node_modules. */
const SCRATCH = join(ROOT, ".tmp", `kubernetes-check-${process.pid}`);
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** Parsed YAML; its shape is what the schema and type tests below check. */
// biome-ignore lint/suspicious/noExplicitAny: the manifests are read as plain parsed YAML.
type Yaml = any;

interface Manifest {
  readonly file: string;
  readonly object: Yaml;
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return { file, object: doc.toJS() as Yaml };
    }),
  );

/** kubernetes-models' module for an apiVersion and kind: "apps/v1" Deployment → apps/v1/Deployment. */
const modelPath = (apiVersion: string, kind: string) => `kubernetes-models/${apiVersion}/${kind}`;

const byKind = (kind: string) => {
  const found = manifests.filter((m) => m.object.kind === kind);
  expect(found).toHaveLength(1);
  return (found[0] as Manifest).object;
};

test("kustomization.yaml lists every manifest, and every manifest is listed", async () => {
  const kustomization = parseAllDocuments(
    await Bun.file(join(DIR, "kustomization.yaml")).text(),
  )[0]?.toJS();
  expect([...kustomization.resources].sort()).toEqual(
    [...new Set(manifests.map((m) => m.file))].sort(),
  );
  expect(manifests.map((m) => m.object.kind).sort()).toEqual([
    "ConfigMap",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Secret",
    "Service",
  ]);
});

test("every manifest passes the Kubernetes schema (kubernetes-models validation)", async () => {
  for (const { file, object } of manifests) {
    const module = await import(modelPath(object.apiVersion, object.kind));
    const Model = module[object.kind];
    expect(Model, `${file}: no model for ${object.apiVersion} ${object.kind}`).toBeDefined();
    expect(() => new Model(object).validate(), file).not.toThrow();
  }
});

test("the try-it Redis (deploy/kubernetes/redis/) passes the schema and uses the Secret's --state password", async () => {
  const redisDir = join(DIR, "redis");
  const objects = parseAllDocuments(readFileSync(join(redisDir, "redis.yaml"), "utf8")).map(
    (doc) => doc.toJS() as Yaml,
  );
  expect(objects.map((object) => object.kind).sort()).toEqual(["Deployment", "Service"]);
  for (const object of objects) {
    const module = await import(modelPath(object.apiVersion, object.kind));
    expect(() => new module[object.kind](object).validate()).not.toThrow();
  }
  const kustomization = parseAllDocuments(
    readFileSync(join(redisDir, "kustomization.yaml"), "utf8"),
  )[0]?.toJS();
  expect(kustomization.resources).toEqual(["redis.yaml"]);
  const secretKeys = Object.keys(byKind("Secret").stringData);
  expect(secretKeys).toContain("state-password");
  const env = byKind("Deployment").spec.template.spec.containers[0].env;
  expect(env).toContainEqual({
    name: "SOCKET2WEB_STATE_PASSWORD",
    valueFrom: { secretKeyRef: { name: "socket2web", key: "state-password" } },
  });
  const service = objects.find((object) => object.kind === "Service");
  const settings = byKind("ConfigMap").data["socket2web.toml"] as string;
  expect(settings).toContain(`state = "redis://${service?.metadata.name}:6379"`);
});

test("a manifest with a wrong type fails that validation (the check has teeth)", async () => {
  const { Deployment } = await import("kubernetes-models/apps/v1/Deployment");
  const broken = structuredClone(byKind("Deployment"));
  broken.spec.replicas = "two";
  expect(() => new Deployment(broken).validate()).toThrow(/replicas must be integer/);
});

/**
 * The schema validation accepts unknown fields (a typo like `readinesProbe` would be ignored by
 * the API server too); the TypeScript types do not: each manifest must satisfy its model's type.
 */
test("no manifest has a field the Kubernetes types do not know (tsc excess-property check)", async () => {
  mkdirSync(SCRATCH, { recursive: true });
  const lines = manifests.map(({ object }, index) => {
    const type = `I${object.kind}`;
    return `import type { ${type} as T${index} } from "${modelPath(object.apiVersion, object.kind)}";\nexport const m${index} = ${JSON.stringify(object)} satisfies T${index};`;
  });
  const check = (source: string) => {
    writeFileSync(join(SCRATCH, "manifests.ts"), source);
    writeFileSync(
      join(SCRATCH, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "preserve",
          moduleResolution: "bundler",
          types: [],
          skipLibCheck: true,
        },
        files: ["manifests.ts"],
      }),
    );
    return Bun.spawnSync([join(ROOT, "node_modules", ".bin", "tsc"), "-p", SCRATCH]);
  };
  const good = check(lines.join("\n"));
  expect(good.stdout.toString()).toBe("");
  expect(good.exitCode).toBe(0);
  const typo = structuredClone(byKind("Deployment"));
  typo.spec.template.spec.containers[0].readinesProbe = {};
  const bad = check(
    `import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";\nexport const m = ${JSON.stringify(typo)} satisfies IDeployment;`,
  );
  expect(bad.stdout.toString()).toContain("readinesProbe");
}, 60_000);

test("the Deployment probes the metrics port, drains within its grace period, and has resources", () => {
  const deployment = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const metricsPort = container.ports.find((p: Yaml) => p.name === "metrics");
  expect(metricsPort.containerPort).toBe(9090);
  expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
  expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
  // The server exits within 10 s of SIGTERM; preStop waits before SIGTERM is sent.
  const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + 10);
  for (const kind of ["requests", "limits"]) {
    expect(container.resources[kind].cpu).toBeDefined();
    expect(container.resources[kind].memory).toBeDefined();
  }
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
  expect(deployment.spec.selector.matchLabels).toEqual(
    expect.objectContaining(deployment.spec.template.metadata.labels),
  );
});

test("config comes from the ConfigMap, secrets from the Secret, and selectors match the pods", () => {
  const deployment = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const configMap = byKind("ConfigMap");
  const secret = byKind("Secret");
  const volume = pod.volumes.find((v: Yaml) => v.configMap?.name === configMap.metadata.name);
  const mount = container.volumeMounts.find((m: Yaml) => m.name === volume.name);
  const configFile = container.args[container.args.indexOf("--config") + 1];
  const [fileName] = Object.keys(configMap.data);
  expect(configFile).toBe(`${mount.mountPath}/${fileName}`);
  for (const env of container.env) {
    const ref = env.valueFrom?.secretKeyRef;
    if (!ref) continue;
    expect(ref.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData ?? secret.data)).toContain(ref.key);
  }
  const podLabels = deployment.spec.template.metadata.labels;
  const service = byKind("Service");
  expect(podLabels).toEqual(expect.objectContaining(service.spec.selector));
  expect(service.spec.ports[0].targetPort).toBe("proxy");
  expect(podLabels).toEqual(
    expect.objectContaining(byKind("PodDisruptionBudget").spec.selector.matchLabels),
  );
  expect(byKind("HorizontalPodAutoscaler").spec.scaleTargetRef).toEqual({
    apiVersion: "apps/v1",
    kind: "Deployment",
    name: deployment.metadata.name,
  });
});
