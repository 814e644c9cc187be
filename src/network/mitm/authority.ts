/**
 * The executor's MITM certificate authority for credential masking: one
 * ECDSA P-256 CA per executor process, made on the first masked launch, and
 * a leaf certificate per host on demand (cached, bounded). The CA's private
 * key lives only in this process's memory (the reference too writes only the
 * certificate, probed on 0.171.0): no file holds it, so no child, sandboxed
 * or not, can read it from disk. What children get is two public files in
 * `$CODEX_HOME/proxy/` (the reference's place and names): `ca-<sha256>.pem`
 * (the CA) and `ca-bundle-<sha256>.pem` (the system roots plus the CA).
 *
 * X.509 is built with @peculiar/x509 over WebCrypto (Bun's own ECDSA), not
 * hand-written ASN.1: certificate encoding is easy to get subtly wrong
 * (extension criticality, SAN encoding, serial sign bits) in ways TLS
 * clients reject or, worse, accept. It is loaded on the first masked start
 * only (startup does not pay for it), after the `reflect-metadata` polyfill
 * its dependency container needs: two dynamic imports in that order, since a
 * bundler may reorder static ones.
 */
import type * as X509 from "@peculiar/x509";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type SecureContext, createSecureContext, rootCertificates } from "node:tls";

/** Distinct hosts whose leaf certificates one executor keeps; the least recently used is dropped past it (it is remade on demand). */
export const MAX_MITM_LEAF_CERTS = 256;
/** A leaf's lifetime: short, since it is remade on demand; TLS clients reject a leaf outliving its CA anyway. */
const LEAF_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** The CA's lifetime: it lives only as long as the executor process (its key is never stored). */
const CA_LIFETIME_MS = 365 * 24 * 3600 * 1000;
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** The reference's CA subject (probed on 0.171.0). */
const CA_NAME = "CN=network_proxy MITM CA";

let library: Promise<typeof X509> | null = null;
const x509 = () => (library ??= import("reflect-metadata").then(() => import("@peculiar/x509")));

/** The files a masked child is pointed at. */
export type CaFiles = { caPath: string; bundlePath: string };

export class MitmAuthority {
  private readonly leaves = new Map<string, Promise<SecureContext>>();

  private constructor(
    private readonly x: typeof X509,
    private readonly ca: X509.X509Certificate,
    private readonly caKey: CryptoKey,
    readonly files: CaFiles,
  ) {}

  /** Makes the CA and writes its public files under `dir` (created 0700 if missing). */
  static async create(dir: string): Promise<MitmAuthority> {
    const x = await x509();
    const keys = (await crypto.subtle.generateKey(ALG, false, ["sign", "verify"])) as CryptoKeyPair;
    const now = Date.now();
    const ca = await x.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: CA_NAME,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + CA_LIFETIME_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x.BasicConstraintsExtension(true, 0, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.digitalSignature, true),
        await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const caPem = `${ca.toString("pem")}\n`;
    const bundle = `${rootCertificates.join("\n")}\n${caPem}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const caPath = join(dir, `ca-${sha256(caPem)}.pem`);
    const bundlePath = join(dir, `ca-bundle-${sha256(bundle)}.pem`);
    writePublic(caPath, caPem);
    writePublic(bundlePath, bundle);
    return new MitmAuthority(x, ca, keys.privateKey, { caPath, bundlePath });
  }

  /** The TLS identity the proxy shows a child for `host`. */
  contextFor(host: string): Promise<SecureContext> {
    const cached = this.leaves.get(host);
    if (cached) {
      // Most recently used last: Map keeps insertion order.
      this.leaves.delete(host);
      this.leaves.set(host, cached);
      return cached;
    }
    const made = this.issue(host);
    made.catch(() => this.leaves.delete(host));
    this.leaves.set(host, made);
    while (this.leaves.size > MAX_MITM_LEAF_CERTS) this.leaves.delete(this.leaves.keys().next().value!);
    return made;
  }

  private async issue(host: string): Promise<SecureContext> {
    const x = this.x;
    const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const now = Date.now();
    const ip = /^[\d.]+$|:/.test(host);
    const leaf = await x.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host.replace(/[,+="<>#;\\]/g, "")}`,
      issuer: this.ca.subject,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + LEAF_LIFETIME_MS),
      signingKey: this.caKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x.BasicConstraintsExtension(false, undefined, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
        new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.serverAuth]),
        new x.SubjectAlternativeNameExtension([{ type: ip ? "ip" : "dns", value: host }]),
        await x.AuthorityKeyIdentifierExtension.create(this.ca),
      ],
    });
    const key = x.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
    return createSecureContext({ key, cert: leaf.toString("pem") });
  }
}

/** A positive 16-byte serial (the top bit cleared: DER integers are signed). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Public material: readable by the child (it must trust it), written by no one else. */
function writePublic(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o644 });
  chmodSync(path, 0o644);
}

let shared: Promise<MitmAuthority> | null = null;

/**
 * The executor's one CA, made on first use in `$CODEX_HOME/proxy` (else
 * `~/.codex/proxy`), as the reference places it. Null when `CODEX_HOME`
 * names no directory (the reference refuses that too; it makes `~/.codex`).
 */
export function executorAuthority(env: Record<string, string | undefined>): Promise<MitmAuthority> | null {
  const home = env.CODEX_HOME ? env.CODEX_HOME : join(env.HOME || homedir(), ".codex");
  if (env.CODEX_HOME && !isDirectory(env.CODEX_HOME)) return null;
  if (!shared) {
    const made = MitmAuthority.create(join(home, "proxy"));
    made.catch(() => (shared = null));
    shared = made;
  }
  return shared;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
