/**
 * deploy/k8s/: every manifest validates against the Kubernetes API schemas
 * (kubernetes-models' validators, generated from the Kubernetes OpenAPI
 * spec; they check types, required fields and formats, not unknown fields),
 * and the sidecar's settings work with the compiled executor: its env
 * starts it, and its probe path answers 200 without a token.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary } from "../helpers/binary.ts";
import { REPO, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any };
const K8S = join(REPO, "deploy/k8s");
const manifests: Manifest[] = readdirSync(K8S)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => [Bun.YAML.parse(readFileSync(join(K8S, f), "utf8"))].flat() as Manifest[]);

/** `apps/v1` + `Deployment` → kubernetes-models/apps/v1/Deployment; the core group is `v1`. */
async function validate(m: Manifest): Promise<void> {
  const module = await import(`kubernetes-models/${m.apiVersion}/${m.kind}`);
  new module[m.kind](m).validate();
}

test("every manifest in deploy/k8s validates against the Kubernetes schemas", async () => {
  expect(manifests.map((m) => `${m.apiVersion} ${m.kind}`)).toEqual(["apps/v1 Deployment", "v1 Service"]);
  for (const m of manifests) await validate(m);
});

test("the validator refuses a broken manifest (a probe without a port)", async () => {
  const broken = structuredClone(manifests[0]!);
  delete broken.spec.template.spec.containers[1].readinessProbe.httpGet.port;
  await expect(validate(broken)).rejects.toThrow("readinessProbe/httpGet must have required property port");
});

const sidecar = () => manifests[0]!.spec.template.spec.containers.find((c: { name: string }) => c.name === "execbox");

test("the sidecar: token from the Secret as a 0400 file, /readyz probes, /metrics scrape annotations", () => {
  const pod = manifests[0]!.spec.template;
  expect(pod.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "8765", "prometheus.io/path": "/metrics" });
  expect(pod.spec.volumes.find((v: { name: string }) => v.name === "token").secret).toEqual({ secretName: "execbox-token", defaultMode: 0o400 });
  expect([sidecar().readinessProbe.httpGet, sidecar().livenessProbe.httpGet]).toEqual([{ path: "/readyz", port: "ws" }, { path: "/readyz", port: "ws" }]);
});

test("the compiled executor starts with the sidecar's env and answers its probe path", async () => {
  using dir = tempDir();
  const token = join(dir.path, "token");
  writeFileSync(token, "0123456789abcdef0123456789abcdef\n", { mode: 0o400 });
  const env: Record<string, string> = Object.fromEntries(sidecar().env.map((e: { name: string; value: string }) => [e.name, e.value]));
  // The pod's 0.0.0.0:8765 becomes a free loopback port (the --listen flag wins); the token file is a temp one.
  await using server = await startServer([], { command: [await compiledBinary()], env: { ...process.env, ...env, EXECBOX_WS_TOKEN_FILE: token, HOME: dir.path } });
  const probe = await fetch(`${server.url.replace("ws://", "http://")}${sidecar().readinessProbe.httpGet.path}`);
  expect(probe.status).toBe(200);
  const upgrade = await fetch(server.url.replace("ws://", "http://"), { headers: { connection: "upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
  expect(upgrade.status).toBe(401);
});
