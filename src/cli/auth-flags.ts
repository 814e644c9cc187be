/**
 * `--ws-auth` and its companions, validated with the reference's messages,
 * turned into an `AuthConfig`. Secret files are read here and never echoed.
 */
import { closeSync, fstatSync, openSync, readFileSync, realpathSync } from "node:fs";
import { createHash } from "node:crypto";
import { osErrorText } from "../protocol/errors.ts";
import {
  type AuthConfig,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  MIN_CAPABILITY_TOKEN_BYTES,
  MIN_SIGNED_SECRET_BYTES,
  SECRET_FILE_FORBIDDEN_MODE,
} from "../server/auth.ts";
import { UsageError } from "./listen.ts";

export type AuthFlags = {
  wsAuth?: string;
  tokenFile?: string;
  tokenSha256?: string;
  sharedSecretFile?: string;
  issuer?: string;
  audience?: string;
  maxClockSkewSeconds?: number;
};

export const AUTH_MODES = ["capability-token", "signed-bearer-token"] as const;

export function authConfigFrom(f: AuthFlags): AuthConfig | undefined {
  const tokenFlags = f.tokenFile !== undefined || f.tokenSha256 !== undefined;
  const signedFlags = [f.sharedSecretFile, f.issuer, f.audience, f.maxClockSkewSeconds].some((v) => v !== undefined);
  if (f.wsAuth === undefined) {
    if (tokenFlags || signedFlags) {
      throw new UsageError("websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`");
    }
    return undefined;
  }
  if (f.wsAuth === "capability-token") {
    if (signedFlags) {
      throw new UsageError(
        "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`",
      );
    }
    if (f.tokenFile !== undefined && f.tokenSha256 !== undefined) {
      throw new UsageError("`--ws-token-file` and `--ws-token-sha256` are mutually exclusive");
    }
    if (f.tokenSha256 !== undefined) {
      if (!/^[0-9a-fA-F]{64}$/.test(f.tokenSha256)) throw new UsageError("--ws-token-sha256 must be a 64-character hex SHA-256 digest");
      return { mode: "capability-token", tokenSha256: Buffer.from(f.tokenSha256, "hex") };
    }
    if (f.tokenFile === undefined) {
      throw new UsageError("`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set");
    }
    const token = readSecret(f.tokenFile);
    if (token.length < MIN_CAPABILITY_TOKEN_BYTES) {
      throw new UsageError(`websocket capability token ${f.tokenFile} must be at least ${MIN_CAPABILITY_TOKEN_BYTES} bytes`);
    }
    return { mode: "capability-token", tokenSha256: createHash("sha256").update(token).digest() };
  }
  if (tokenFlags) {
    throw new UsageError("`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, not `signed-bearer-token`");
  }
  if (f.sharedSecretFile === undefined) {
    throw new UsageError("`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set");
  }
  const secret = readSecret(f.sharedSecretFile);
  if (secret.length < MIN_SIGNED_SECRET_BYTES) {
    throw new UsageError(`signed websocket bearer secret ${f.sharedSecretFile} must be at least ${MIN_SIGNED_SECRET_BYTES} bytes`);
  }
  return {
    mode: "signed-bearer-token",
    secret,
    issuer: f.issuer,
    audience: f.audience,
    maxClockSkewSeconds: f.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  };
}

/**
 * Reads and trims a secret file; errors name the path, never the content.
 * A file group or others may access is refused (checked on the descriptor
 * read from, so a swap between check and read does not help).
 */
function readSecret(path: string): Buffer {
  return readSecretFile(path, "websocket auth secret");
}

/** `readSecret` for any secret file, its errors naming it as `label` (the server's auth files, a client's --token-file). */
export function readSecretFile(path: string, label: string): Buffer {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const mode = fstatSync(fd).mode & 0o777;
    // Windows has no such bits (Node reports 0o666 for every file): nothing to check there.
    if (process.platform !== "win32" && (mode & SECRET_FILE_FORBIDDEN_MODE) !== 0) {
      const octal = mode.toString(8).padStart(4, "0");
      throw new UsageError(`${label} ${path} is accessible by group or others (permissions ${octal}); run \`chmod 600 ${path}\``);
    }
    text = readFileSync(fd, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`failed to read ${label} ${path}: ${osErrorText(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError(`${label} ${path} must not be empty`);
  return Buffer.from(trimmed, "utf8");
}

/**
 * The files the executor holds its secrets in, canonical (symlinks resolved),
 * for the sandbox to hide. Read once already by `authConfigFrom`, so they exist.
 */
export function secretPathsOf(f: AuthFlags): string[] {
  if (f.wsAuth === undefined) return [];
  return [f.tokenFile, f.sharedSecretFile].filter((p): p is string => p !== undefined).map((p) => realpathSync(p));
}
