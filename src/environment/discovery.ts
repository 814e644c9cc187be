/**
 * Capability discovery and config reads. execbox has no Codex configuration of
 * its own, so it answers with empty-but-valid results (skills under capability
 * roots: capability-roots.ts).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { ErrorCode, RpcError, invalidParams } from "../protocol/errors.ts";
import type { z } from "zod";
import type { EnvironmentConfigReadParams, EnvironmentConfigReadResult } from "../protocol/messages/environment.ts";
import { parsePathUri, toPathUri } from "../protocol/path-uri.ts";


export function discoverCapabilities(cwd: string) {
  try {
    parsePathUri(cwd);
  } catch (e) {
    // A well-formed URI for another host is not an error here (the reference answers empty).
    if (!(e instanceof RpcError && e.code === ErrorCode.InvalidRequest)) throw e;
  }
  return { plugins: [], skills: [], warnings: [] };
}

export function readEnvironmentConfig(
  params: z.infer<typeof EnvironmentConfigReadParams>,
  env: Record<string, string | undefined>,
): z.infer<typeof EnvironmentConfigReadResult> {
  if ([...params.configPaths, ...params.requirementsPaths].some((path) => path.length === 0)) {
    throw invalidParams("TOML paths must contain at least one key segment");
  }
  try {
    parsePathUri(params.cwd);
  } catch (e) {
    // The reference reports a cwd for another host as bad params here (-32602), not -32600 as elsewhere.
    throw e instanceof RpcError ? invalidParams(e.message) : e;
  }
  if (params.configPaths.length === 0 && params.requirementsPaths.length === 0) {
    throw invalidParams("at least one config or requirements path is required");
  }
  const codexHome = env.CODEX_HOME ?? (env.HOME ? join(env.HOME, ".codex") : undefined);
  return {
    ...(env.HOME ? { userHomeDir: toPathUri(env.HOME) } : {}),
    ...(codexHome ? { codexHomeDir: toPathUri(codexHome) } : {}),
    hostname: hostname(),
    config: { layers: [], cloudInsertionIndex: 0 },
    requirements: { layers: [], cloudInsertionIndex: 0 },
  };
}
