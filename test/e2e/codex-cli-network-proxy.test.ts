/**
 * End-to-end: the real Codex CLI (0.169.0 and 0.171.0, `codex exec`) runs a command on execbox
 * under execbox's managed network proxy (networkProxyLaunch), with a loopback fake Responses API
 * playing the model. Every connection stays on 127.0.0.1: the allowed origin is a Bun.serve the
 * test starts, and the denied name is refused by the proxy itself (never resolved or connected).
 *
 * The config that makes the CLI send `process/start.networkProxy` (found with `--strict-config`
 * trial runs and the CLI's PermissionsToml/NetworkToml; identical for both versions):
 *
 *   default_permissions = "net"              # top level; wins over sandbox_mode
 *   [features]
 *   network_proxy = true
 *   [permissions.net.filesystem]
 *   ":root" = "read"                          # without filesystem entries the CLI warns and the
 *                                             # sandbox sees nothing ("bwrap: Can't chdir to …")
 *   [permissions.net.network]
 *   enabled = true
 *   mode = "full"                             # "limited": POST and CONNECT get 403 (capabilities.md)
 *   enable_socks5 = true                      # enable_socks5_udp: left at the CLI's default, true
 *   allow_local_binding = true                # needed to reach 127.0.0.1 at all
 *   [permissions.net.network.domains]
 *   "127.0.0.1" = "allow"
 *   "blocked.test" = "deny"
 *
 * What the trial runs showed (against execbox and the reference executor alike):
 * - The CLI always sends such a command sandboxed: `sandbox.permissions` managed, restricted file
 *   system, `network: "enabled"`, `enforceManagedNetwork: true`, `managedNetwork: null` — also
 *   with `":root" = "write"` (then it prints "sandbox: danger-full-access" but still sends it
 *   sandboxed) and with `sandbox_mode = "danger-full-access"` beside `default_permissions`
 *   (ignored). So the child runs in bwrap with its own network namespace and reaches only its
 *   proxies, through execbox's namespace bridge: a direct connect to the origin fails (curl rc 7).
 * - Its `networkProxy.proxy` carries `allowUpstreamProxy: true` and `unixSockets: null` (no
 *   sockets named); execbox refused that `null` until it took it as absent (as the reference does).
 * - Left unset, `enable_socks5_udp` is sent as `true`. execbox refused every such launch (it relays
 *   no SOCKS5 UDP); in this namespace the reference's UDP relay is unreachable anyway (probed: it
 *   grants UDP ASSOCIATE, no datagram gets out), so execbox now takes it there and answers UDP
 *   ASSOCIATE with 0x07 (test/network/managed-proxy.test.ts). `enable_socks5_udp = false` sends false.
 * - With `allow_local_binding` the child's NO_PROXY lists 127.0.0.1, so a plain `curl` would go
 *   direct (and fail in the namespace): the scripted commands pass `--noproxy ''`.
 * - Decisions reach the CLI as `network/policyDecision`, one per request, as the reference sends
 *   them (an allowed HTTP GET, an allowed SOCKS5 connect, the denied GET).
 *
 * Review domains (networkProxyReviewDomains), found with trial runs of both CLIs: managed
 * requirements `/etc/codex/requirements.toml` with `[experimental_network] review_domains =
 * ["127.0.0.1"]` make the CLI send `proxy.reviewDomains`; only with `approvals_reviewer =
 * "auto_review"` and an approval policy other than "never" ("on-request") does it also send
 * `policyDecisionTimeoutMs: 100000` (without it the review domain is just `not_allowed`). It then
 * puts each `network/policyRequest` to its guardian, a model request whose answer is JSON
 * (`{"outcome":"allow"|"deny",…}`, schema in the request): the fake model plays it, no real model
 * approval is needed. Allow → the CLI answers `{"decision":{"type":"allow"}}`; deny →
 * `{"type":"deny","reason":"not_allowed"}` and the tool call fails ("rejected due to unacceptable
 * risk"). The requirements file is supplied in a private mount namespace (`unshare -m`, an overlay
 * on /etc: the host's /etc is never written), so those tests need root and are skipped otherwise.
 *
 * Needs bwrap on PATH (CI installs bubblewrap). The test passes against the reference executor
 * too (run it as test/e2e/codex-cli.test.ts says, with the reference's bundled bwrap first on PATH
 * in the wrapper).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as cli from "../helpers/codex-cli.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { startWsTap, type TappedFrame } from "../helpers/ws-tap.ts";

// A passing session takes ~3 s; these bound the failure cases.
const CODEX_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;

/** The permissions profile of the header comment. */
const profile = () => cli.networkProfile({ "127.0.0.1": "allow", "blocked.test": "deny" });

/** What a review-domains session adds (see the second test): managed requirements and an auto-reviewer. */
type ReviewSetup = { requirements: string; guardianOutcome: "allow" | "deny" };

/**
 * One `codex exec` whose model asks for `cmd` (with `$ORIGIN` = the origin's host:port), against a
 * fresh execbox behind a frame tap. Returns the run, the tool output the model got back, the
 * requests the origin saw and the relayed frames. With `review`, the CLI runs in a private mount
 * namespace whose /etc (an overlay; the host's is untouched) holds `codex/requirements.toml`, with
 * `approvals_reviewer = "auto_review"`; the fake model then also plays the guardian, answering its
 * review with `guardianOutcome`.
 */
async function session(codex: { path: string }, cmd: string, review?: ReviewSetup) {
  using tmp = tempDir("execbox-codex-netproxy-");
  const [work, codexHome, home, execboxHome, etcUpper, etcWork] = ["work", "codex-home", "home", "execbox-home", "etc/codex", "etc-work"].map((d) => join(tmp.path, d));
  for (const d of [work, codexHome, home, execboxHome, etcUpper, etcWork]) mkdirSync(d!, { recursive: true });

  const seen: string[] = [];
  const origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seen.push(`${req.method} ${new URL(req.url).pathname}`);
      return new Response(`origin:${req.method} ${new URL(req.url).pathname}`);
    },
  });
  try {
    const script = cmd.replaceAll("$ORIGIN", `127.0.0.1:${origin.port}`);
    const call = [cli.execCommandCall("call_net_1", { cmd: script, workdir: work, yield_time_ms: 10_000 })];
    // The guardian's review is a model request too, between the call and the turn that reads its output.
    const guardian = review ? [[cli.assistantMessage(JSON.stringify({ risk_level: "low", user_authorization: "high", outcome: review.guardianOutcome, rationale: "scripted review" }), "msg_guardian")]] : [];
    await using api = cli.startFakeResponsesApi([call, ...guardian, [cli.assistantMessage("network checked")]]);
    cli.writeCodexHome(codexHome!, {
      baseUrl: api.baseUrl,
      model: cli.pickBundledModel(codex.path, codexHome!),
      approvalPolicy: review ? "on-request" : "never",
      extra: { topLevel: `default_permissions = "net"${review ? '\napprovals_reviewer = "auto_review"' : ""}`, features: { network_proxy: true }, tables: profile() },
    });
    let wrap: string[] | undefined;
    if (review) {
      writeFileSync(join(etcUpper!, "requirements.toml"), review.requirements);
      const overlay = `mount -t overlay overlay -o lowerdir=/etc,upperdir=${join(tmp.path, "etc")},workdir=${etcWork} /etc`;
      wrap = ["unshare", "-m", "sh", "-c", `${overlay} && exec "$@"`, "sh"];
    }
    await using server = await startServer([], { env: { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex") } });
    await using tap = startWsTap(server.url);
    const run = await cli.runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: tap.url, prompt: "Run the scripted tool call.", timeoutMs: CODEX_DEADLINE_MS, wrap });
    const output = cli.toolOutput(api.requests.at(-1), "call_net_1");
    return { run, output, seen, frames: [...tap.frames], port: origin.port, requests: api.requests.length };
  } finally {
    await origin.stop(true);
  }
}

/** The `process/start` the CLI sent and the executor's answer to it. */
function processStart(frames: TappedFrame[]) {
  const request = frames.find((f) => f.from === "client" && f.message.method === "process/start")?.message;
  const answer = frames.find((f) => f.from === "executor" && request !== undefined && f.message.id === request.id)?.message;
  return { params: request?.params as Record<string, any> | undefined, answer };
}

/** The `network/policyDecision`s the CLI got, reduced to what a decision is about. */
function decisions(frames: TappedFrame[]) {
  return frames
    .filter((f) => f.from === "executor" && f.message.method === "network/policyDecision")
    .map((f) => {
      const p = f.message.params as Record<string, unknown>;
      return [p.decision, p.reason, p.source, p.protocol, p.host, p.port, p.method ?? null, p.scope].join(" ");
    });
}

function describeRun(run: cli.CodexRun, output: string | undefined): string {
  return `codex exit=${run.exitCode} timedOut=${run.timedOut} in ${run.ms} ms\n--- tool output\n${output}\n--- stderr\n${run.stderr}`;
}

/** What the model reads after the tool-output preamble. */
const shown = (output: string | undefined) => output?.slice(output.indexOf("\nOutput:\n") + "\nOutput:\n".length);

const DENIED_BODY =
  '{"status":"blocked","host":"blocked.test","reason":"denied","decision":"deny","source":"baseline_policy","protocol":"http","port":80,"message":"Domain denied by the sandbox policy."}';

cli.forEachCodexCli("managed network proxy e2e", (codex, version) => {
  describe(`codex ${codex.version} CLI → execbox managed network proxy`, () => {
    test(
      "curl in the sandboxed command reaches the allowlisted origin through the HTTP proxy and SOCKS5, gets the proxy's 403 for the denied host, and cannot connect directly",
      async () => {
        const cmd = [
          `echo "active=$CODEX_NETWORK_PROXY_ACTIVE"`,
          `curl -sS -m 5 --noproxy '' http://$ORIGIN/via-http; echo " rc=$?"`,
          `curl -sS -m 5 --noproxy '' -x "$ALL_PROXY" http://$ORIGIN/via-socks; echo " rc=$?"`,
          `curl -sS -m 5 -w ' status=%{http_code}' http://blocked.test/x; echo " rc=$?"`,
          `curl -s -m 5 http://$ORIGIN/direct; echo "direct rc=$?"`,
        ].join("; ");
        const { run, output, seen, frames, port, requests } = await session(codex, cmd);
        const diag = describeRun(run, output);

        expect(run.timedOut, diag).toBe(false);
        expect(run.exitCode, diag).toBe(0);
        expect(run.stdout, diag).toContain("network checked");
        expect(requests, diag).toBe(2);
        expect(output, diag).toContain("\nProcess exited with code 0\n");
        expect(shown(output), diag).toBe(
          `active=1\norigin:GET /via-http rc=0\norigin:GET /via-socks rc=0\n${DENIED_BODY} status=403 rc=0\ndirect rc=7\n`,
        );
        // Exactly the two allowed requests arrived; the direct one never did.
        expect(seen).toEqual(["GET /via-http", "GET /via-socks"]);

        // What the CLI sent for this profile, and that execbox ran it in its sandbox.
        const { params, answer } = processStart(frames);
        expect(params?.networkProxy?.proxy, diag).toEqual({
          enabled: true,
          enableSocks5: true,
          enableSocks5Udp: true,
          allowUpstreamProxy: true,
          dangerouslyAllowAllUnixSockets: false,
          mode: "full",
          domains: { "127.0.0.1": "allow", "blocked.test": "deny" },
          unixSockets: null,
          allowLocalBinding: true,
        });
        expect([params?.sandbox?.permissions?.network, params?.enforceManagedNetwork, params?.managedNetwork]).toEqual(["enabled", true, null]);
        expect(answer?.result).toEqual({ processId: params?.processId, sandboxType: "linuxSeccomp" });

        expect(decisions(frames)).toEqual([
          `allow allow baseline_policy http 127.0.0.1 ${port} GET domain`,
          `allow allow baseline_policy socks5_tcp 127.0.0.1 ${port}  domain`,
          "deny denied baseline_policy http blocked.test 80 GET domain",
        ]);
      },
      TEST_TIMEOUT_MS,
    );

    // Managed requirements put 127.0.0.1 up for review although the profile allowlists it; with an
    // auto-reviewer the CLI sends policyDecisionTimeoutMs and answers execbox's network/policyRequest
    // with its guardian's verdict (the fake model's). The same run against the reference executor
    // gives the same frames (probed).
    const reviewable = process.getuid?.() === 0 ? test : test.skip;
    for (const outcome of ["allow", "deny"] as const) {
      reviewable(
        `review domains (root: a private /etc): the CLI decides 127.0.0.1 through network/policyRequest; its guardian says ${outcome}`,
        async () => {
          const requirements = '[experimental_network]\nreview_domains = ["127.0.0.1"]\n';
          const { run, output, seen, frames, port } = await session(codex, `curl -sS -m 20 --noproxy '' http://$ORIGIN/reviewed; echo " rc=$?"`, { requirements, guardianOutcome: outcome });
          const diag = describeRun(run, output);
          expect(run.timedOut, diag).toBe(false);
          expect(run.exitCode, diag).toBe(0);
          const { params } = processStart(frames);
          expect([params?.networkProxy?.proxy?.reviewDomains, params?.networkProxy?.policyDecisionTimeoutMs], diag).toEqual([["127.0.0.1"], 100000]);
          const asked = frames.filter((f) => f.message.method === "network/policyRequest");
          expect(asked.map((f) => [f.from, f.message]), diag).toEqual([
            ["executor", { id: 1, method: "network/policyRequest", params: { processId: params?.processId, request: { protocol: "http", host: "127.0.0.1", port } } }],
          ]);
          const answer = frames.find((f) => f.from === "client" && f.message.id === 1 && "result" in f.message)?.message;
          const told = outcome === "allow" ? { type: "allow" } : { type: "deny", reason: "not_allowed" };
          expect(answer, diag).toEqual({ id: 1, result: { decision: told } });
          if (outcome === "allow") {
            expect(decisions(frames)).toEqual([`allow not_allowed decider http 127.0.0.1 ${port} GET domain`]);
            expect(shown(output), diag).toBe("origin:GET /reviewed rc=0\n");
            expect(seen).toEqual(["GET /reviewed"]);
          } else {
            // The CLI reports the guardian's refusal as the tool's failure; the origin never saw the request.
            expect(decisions(frames)).toEqual([`deny not_allowed decider http 127.0.0.1 ${port} GET domain`]);
            expect(output, diag).toContain("This action was rejected due to unacceptable risk.");
            expect(seen).toEqual([]);
          }
        },
        TEST_TIMEOUT_MS,
      );
    }
  });
});
