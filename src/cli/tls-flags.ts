/**
 * `--tls-cert` / `--tls-key` for `--listen wss://…`: checked together with
 * the listen URL, loaded (and checked to belong together) before the
 * listener opens, and re-read on SIGHUP. Errors name the file, never the key.
 */
import { log } from "../log/logger.ts";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { osErrorText } from "../protocol/errors.ts";
import type { TlsKeys } from "../transport/websocket.ts";
import { type ListenTarget, UsageError } from "./listen.ts";

export type TlsFiles = { certFile: string; keyFile: string };
/** What the listener serves, and the certificate's SHA-256 fingerprint for the logs. */
export type TlsMaterial = TlsKeys & { fingerprint: string };

/** The TLS files for `listen`, or undefined for plain ws / stdio; a flag without its partner or URL is refused. */
export function tlsFilesFor(listen: ListenTarget | undefined, certFile?: string, keyFile?: string): TlsFiles | undefined {
  if (listen?.kind === "wss") {
    if (certFile === undefined || keyFile === undefined) {
      throw new UsageError("`--listen wss://…` requires both `--tls-cert <PEM_FILE>` and `--tls-key <PEM_FILE>`");
    }
    return { certFile, keyFile };
  }
  if (certFile !== undefined || keyFile !== undefined) throw new UsageError("`--tls-cert` and `--tls-key` require `--listen wss://IP:PORT`");
  return undefined;
}

/**
 * Reads both files and checks that each parses and that the key is the
 * certificate's. Checked here, not left to the TLS library: its failure would
 * surface as a stack trace at startup, or as failed handshakes later.
 */
export function loadTls(files: TlsFiles): TlsMaterial {
  const cert = readPem(files.certFile, "certificate");
  const key = readPem(files.keyFile, "key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new UsageError(`TLS certificate ${files.certFile} holds no PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new UsageError(`TLS key ${files.keyFile} holds no unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new UsageError(`TLS key ${files.keyFile} does not belong to the certificate in ${files.certFile}`);
  }
  return { cert, key, fingerprint: x509.fingerprint256 };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read TLS ${what} ${path}: ${osErrorText(e)}`);
  }
}

/** The key file, canonical, for the sandbox to hide with the other secrets. */
export function tlsSecretPaths(files: TlsFiles | undefined): string[] {
  return files ? [realpathSync(files.keyFile)] : [];
}

/**
 * On SIGHUP: re-reads both files and hands them to `apply` (new handshakes get
 * the new certificate). A failure keeps what is served and logs one line.
 * Returns the undo.
 */
export function reloadOnSighup(files: TlsFiles, apply: (material: TlsMaterial) => void): () => void {
  const onHup = () => {
    let material: TlsMaterial;
    try {
      material = loadTls(files);
    } catch (e) {
      log.error("TLS reload failed, still serving the previous certificate", { reason: (e as Error).message });
      return;
    }
    try {
      apply(material);
    } catch (e) {
      // Binding the port again failed (something took it in between); the message says what is served now.
      log.error("TLS reload failed", { reason: (e as Error).message });
      return;
    }
    log.info("reloaded TLS certificate", { cert: files.certFile, sha256: material.fingerprint });
  };
  process.on("SIGHUP", onHup);
  return () => process.off("SIGHUP", onHup);
}
