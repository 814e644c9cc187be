import { z } from "zod";
import { lazy, opt, seq, str, struct } from "../serde.ts";
import { Extensions } from "../extensions.ts";
import { DiscoverySandboxContext, SandboxContext } from "./sandbox.ts";

/** Feature flags clients check before sending newer fields; `true` only for what execbox implements. */
export const Capabilities = lazy(() =>
  z.object({
    networkProxyLaunch: z.boolean(),
    networkProxyReviewDomains: z.boolean(),
    /** 0.171.0; absent from 0.169.0 executors. */
    networkProxyTransparentTcp: z.boolean().optional(),
    credentialMasking: z.boolean(),
    credentialMaskingCustomProviders: z.boolean(),
    capabilityDiscoverySandbox: z.boolean(),
    fsWatchMissing: z.boolean(),
    capabilityDiscoveryV2: z.boolean(),
    environmentConfigRead: z.boolean(),
    httpHeaderEnvVars: z.boolean(),
    sandboxedFileStreaming: z.boolean(),
    fileWriteStreaming: z.boolean(),
    shellSnapshotV2: z.boolean(),
    windowsMxc: z.boolean(),
    linuxRootWritePreservesDevices: z.boolean(),
    linuxApprovedRootWritePreservesRestrictions: z.boolean(),
  }),
);
export type Capabilities = z.infer<typeof Capabilities>;

export const ShellInfo = lazy(() => z.object({ name: z.string(), path: z.string() }));

/** `environment/info` result and `initialize.environmentInfo`; optional keys are omitted, never null. */
export const EnvironmentInfo = lazy(() =>
  z.object({
    shell: ShellInfo,
    executorVersion: z.string(),
    providerId: z.string().optional(),
    cwd: z.string().optional(),
    userHomeDir: z.string().optional(),
    platformOs: z.string(),
    prependPathDirs: z.array(z.string()),
    temporaryDirectories: z.array(z.string()),
    tempDir: z.string(),
    capabilities: Capabilities,
    /** execbox's additions (src/protocol/extensions.ts); absent on the reference. */
    extensions: Extensions.optional(),
  }),
);
export type EnvironmentInfo = z.infer<typeof EnvironmentInfo>;

export const EnvironmentStatus = lazy(() => z.object({ status: z.literal("ready") }));

export const CapabilitiesDiscoverParams = lazy(() =>
  struct("DiscoverV2CapabilitiesRequest", {
    cwd: str(),
    sandbox: opt(DiscoverySandboxContext),
  }),
);
export const CapabilitiesDiscoverResult = lazy(() =>
  z.object({
    plugins: z.array(z.unknown()),
    skills: z.array(z.unknown()),
    warnings: z.array(z.unknown()),
  }),
);

export const CapabilityRoot = lazy(() => struct("WireCapabilityRootDiscoverRequest", { id: str(), path: str(), sandbox: opt(SandboxContext) }));
export const CapabilityRootsDiscoverParams = lazy(() => struct("WireCapabilityRootsDiscoverParams", { roots: seq(CapabilityRoot) }));
export const DiscoveredSkill = lazy(() =>
  z.object({
    instructions: z.object({ path: z.string(), contents: z.string() }),
    metadata: z.null(),
  }),
);
export const DiscoveredRoot = lazy(() =>
  z.object({
    id: z.string(),
    path: z.string(),
    plugin: z.null(),
    skills: z.array(DiscoveredSkill),
    namespaceManifests: z.array(z.unknown()),
    warnings: z.array(z.unknown()),
    error: z.string().nullable(),
  }),
);
export const CapabilityRootsDiscoverResult = lazy(() => z.object({ roots: z.array(DiscoveredRoot) }));

export const EnvironmentConfigReadParams = lazy(() =>
  struct("EnvironmentConfigReadParams", {
    cwd: str(),
    configPaths: seq(seq(str())),
    requirementsPaths: seq(seq(str())),
  }),
);
const ConfigLayers = lazy(() => z.object({ layers: z.array(z.unknown()), cloudInsertionIndex: z.number() }));
export const EnvironmentConfigReadResult = lazy(() =>
  z.object({
    userHomeDir: z.string().optional(),
    codexHomeDir: z.string().optional(),
    hostname: z.string(),
    config: ConfigLayers,
    requirements: ConfigLayers,
  }),
);
