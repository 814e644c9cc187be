/**
 * Strict signed bearer tokens, through a real executor: every token here is
 * validly signed, and each one the reference (0.169.0, 0.171.0) accepts is
 * noted. Where it refuses too, the client reads its exact text. Tokens are fixed (no clock) except where `now` matters.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { wireJwtFailure } from "../../src/server/jwt.ts";
import { b64url, hs256, jwt, upgrade } from "../helpers/upgrade.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const SECRET = "k".repeat(40);
/** 9999-12-31T23:59:59Z, the latest date accepted. */
const LAST = 253402300799;
const HEADER = { alg: "HS256", typ: "JWT" };
let server: RunningServer;

beforeAll(async () => {
  writeFileSync(join(dir.path, "secret"), SECRET, { mode: 0o600 });
  server = await startServer(["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", join(dir.path, "secret")]);
});
afterAll(async () => {
  await server.stop("SIGKILL");
  dir[Symbol.dispose]();
});

const sign = (claims: unknown, header: unknown = HEADER) => jwt(claims, SECRET, header);
/** A token built from raw segments, signed over exactly those segments. */
const raw = (head: string, body: string) => `${head}.${body}.${hs256(SECRET, head, body)}`;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Flips the lowest bit of the last character: for a 32-byte signature (43 chars) that bit is unused, the bytes stay the same. */
const flipUnusedBit = (s: string) => s.slice(0, -1) + BASE64URL[BASE64URL.indexOf(s.at(-1)!) ^ 1];
const withSignature = (token: string, edit: (sig: string) => string) => {
  const [head, body, sig] = token.split(".") as [string, string, string];
  return `${head}.${body}.${edit(sig)}`;
};

const refusalsLogged = (reason: string) => server.stderr().split(`execbox: refused an upgrade status=401 reason=${JSON.stringify(reason)} peer=127.0.0.1:`).length - 1;

/**
 * Each case's last column is the refusal reason: the client gets the reference's wording for it
 * (`wireJwtFailure`), and the executor logs the reason itself, once per refused upgrade.
 */
async function expectAnswers(cases: [string, string, number, string][]): Promise<void> {
  for (const [name, token, status, reason] of cases) {
    const logged = refusalsLogged(reason);
    const answer = await upgrade(server.url, { authorization: `Bearer ${token}` });
    expect([name, ...answer]).toEqual([name, status, status === 401 ? wireJwtFailure(reason) : reason]);
    if (status === 401) await waitUntil(() => refusalsLogged(reason) === logged + 1, 5_000, `the refusal of ${name} logged`);
  }
}

test("a well-formed token passes, up to the last accepted date; nbf:null reads as absent (as the reference)", async () => {
  const now = Math.floor(Date.now() / 1000);
  await expectAnswers([
    ["exp at the limit", sign({ exp: LAST }), 101, "upgraded"],
    ["iat, nbf in the past", sign({ exp: LAST, iat: now, nbf: now - 5 }), 101, "upgraded"],
    ["nbf null", sign({ exp: LAST, nbf: null }), 101, "upgraded"],
  ]);
});

describe("encoding: one spelling per token", () => {
  test("non-canonical base64url is refused (the reference accepts padded header and body)", async () => {
    const good = sign({ exp: LAST });
    const body = b64url({ exp: LAST });
    const paddedHead = Buffer.from(`{"alg":"HS256", "typ":"JWT"}`).toString("base64");
    expect(paddedHead.endsWith("=")).toBe(true);
    const paddedBody = Buffer.from(JSON.stringify({ exp: LAST, x: 1 })).toString("base64");
    expect(paddedBody.endsWith("=")).toBe(true);
    expect(Buffer.from(flipUnusedBit(good.split(".")[2]!), "base64url")).toEqual(Buffer.from(good.split(".")[2]!, "base64url"));
    await expectAnswers([
      ["signature, unused bits set", withSignature(good, flipUnusedBit), 401, "invalid websocket jwt encoding"],
      ["signature padded", withSignature(good, (s) => `${s}=`), 401, "invalid websocket jwt encoding"],
      ["space inside the signature", withSignature(good, (s) => `${s.slice(0, 5)} ${s.slice(5)}`), 401, "invalid websocket jwt encoding"],
      ["header padded (reference: accepted)", raw(paddedHead, body), 401, "invalid websocket jwt encoding"],
      ["body padded (reference: accepted)", raw(b64url(HEADER), paddedBody), 401, "invalid websocket jwt encoding"],
      ["body in base64 with + and /", raw(b64url(HEADER), Buffer.from(`{"exp":${LAST},"s":"??>"}`).toString("base64")), 401, "invalid websocket jwt encoding"],
      ["empty signature", withSignature(good, () => ""), 401, "invalid websocket jwt encoding"],
    ]);
  });

  test("invalid UTF-8 and repeated members are refused (parsers disagree on them)", async () => {
    const badUtf8 = Buffer.concat([Buffer.from(`{"exp":${LAST},"sub":"`), Buffer.from([0xff]), Buffer.from(`"}`)]).toString("base64url");
    await expectAnswers([
      ["invalid UTF-8 in the claims", raw(b64url(HEADER), badUtf8), 401, "invalid websocket jwt"],
      ["exp twice (JSON.parse keeps the last)", sign(`{"exp":1,"exp":${LAST}}`), 401, "invalid websocket jwt: duplicate member"],
      ["alg twice in the header", sign({ exp: LAST }, `{"alg":"none","alg":"HS256"}`), 401, "invalid websocket jwt: duplicate member"],
    ]);
  });
});

test("a crit header is refused: execbox understands no extension (the reference ignores crit)", async () => {
  await expectAnswers([
    ["crit unknown", sign({ exp: LAST }, { alg: "HS256", crit: ["x-policy"], "x-policy": 1 }), 401, "unsupported critical websocket jwt header"],
    ["crit b64 (RFC 7797)", sign({ exp: LAST }, { alg: "HS256", b64: false, crit: ["b64"] }), 401, "unsupported critical websocket jwt header"],
    ["crit empty", sign({ exp: LAST }, { alg: "HS256", crit: [] }), 401, "unsupported critical websocket jwt header"],
  ]);
});

test("exp, nbf and iat must be plain integers from 0 to the year 9999", async () => {
  await expectAnswers([
    ["exp fraction", sign(`{"exp":${LAST}.5}`), 401, "invalid websocket jwt exp claim"],
    ["exp written 1.0-style", sign(`{"exp":${LAST}.0}`), 401, "invalid websocket jwt exp claim"],
    ["exp exponent", sign(`{"exp":2.5e11}`), 401, "invalid websocket jwt exp claim"],
    ["exp 1e300", sign(`{"exp":1e300}`), 401, "invalid websocket jwt exp claim"],
    ["exp past 2^53 (reference: accepted)", sign(`{"exp":9007199254740994}`), 401, "invalid websocket jwt exp claim"],
    ["exp year 10000 (reference: accepted)", sign({ exp: LAST + 1 }), 401, "invalid websocket jwt exp claim"],
    ["exp negative (the reference: expired)", sign({ exp: -1 }), 401, "expired websocket jwt"],
    ["exp string", sign({ exp: String(LAST) }), 401, "invalid websocket jwt exp claim"],
    ["exp missing", sign({ iat: 0 }), 401, "invalid websocket jwt"],
    ["exp null", sign({ exp: null }), 401, "invalid websocket jwt"],
    ["nbf negative (reference: accepted)", sign({ exp: LAST, nbf: -5 }), 401, "invalid websocket jwt nbf claim"],
    ["nbf fraction", sign(`{"exp":${LAST},"nbf":1.5}`), 401, "invalid websocket jwt nbf claim"],
    ["nbf string", sign({ exp: LAST, nbf: "0" }), 401, "invalid websocket jwt nbf claim"],
    ["nbf 1e300", sign(`{"exp":${LAST},"nbf":1e300}`), 401, "invalid websocket jwt nbf claim"],
    ["iat string (reference: accepted)", sign({ exp: LAST, iat: "x" }), 401, "invalid websocket jwt iat claim"],
    ["iat negative (reference: accepted)", sign({ exp: LAST, iat: -1 }), 401, "invalid websocket jwt iat claim"],
    ["iat fraction (reference: accepted)", sign(`{"exp":${LAST},"iat":0.5}`), 401, "invalid websocket jwt iat claim"],
    ["iat 1e300 (reference: accepted)", sign(`{"exp":${LAST},"iat":1e300}`), 401, "invalid websocket jwt iat claim"],
  ]);
  expect(server.stderr()).not.toContain(SECRET);
});

test("on the wire, every malformed-token reason reads as the reference's text", () => {
  for (const reason of ["invalid websocket jwt encoding", "invalid websocket jwt: duplicate member", "unsupported critical websocket jwt header", "invalid websocket jwt exp claim", "invalid websocket jwt nbf claim", "invalid websocket jwt iat claim"]) {
    expect(wireJwtFailure(reason)).toBe("invalid websocket jwt");
  }
  for (const reason of ["invalid websocket jwt", "expired websocket jwt", "websocket jwt is not valid yet", "websocket jwt issuer mismatch", "websocket jwt audience mismatch"]) {
    expect(wireJwtFailure(reason)).toBe(reason);
  }
});
