/**
 * Nothing secret reaches the log, even at trace level, in either format: the
 * compiled executor is given a capability token or a JWT secret, an
 * environment value, and clients that log in with the right bearer and with
 * wrong ones, start processes whose arguments, environment and stdin hold
 * the marker; the marker must never appear on its stderr.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectWebSocket } from "../../src/client/index.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { jwt, upgrade } from "../helpers/upgrade.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const MARKER = "S3CRET-MARKER-b7e1c4";
const TOKEN = `${MARKER}-capability-token`;
const JWT_SECRET = `${MARKER}-shared-secret-of-32-bytes-or-more`;

for (const format of ["text", "json"] as const) {
  for (const mode of ["capability-token", "signed-bearer-token"] as const) {
    test(`${format}, ${mode}: the marker never appears in stderr at trace level`, async () => {
      using dir = tempDir();
      const secretFile = join(dir.path, "secret");
      writeFileSync(secretFile, mode === "capability-token" ? TOKEN : JWT_SECRET);
      chmodSync(secretFile, 0o600);
      const fileFlag = mode === "capability-token" ? "--ws-token-file" : "--ws-shared-secret-file";
      await using server = await startServer(["--ws-auth", mode, fileFlag, secretFile, "--log-level", "trace", "--log-format", format], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", EXECBOX_TEST_VALUE: MARKER },
      });
      const now = Math.floor(Date.now() / 1000);
      const bearer = mode === "capability-token" ? TOKEN : jwt({ exp: now + 60, sub: MARKER }, JWT_SECRET);
      const wrong = mode === "capability-token" ? `${MARKER}-wrong` : jwt({ exp: now + 60, sub: MARKER }, `${MARKER}-not-the-secret-but-as-long-as-one`);
      for (const authorization of [`Bearer ${wrong}`, `Basic ${MARKER}`, `Bearer ${bearer}x`, MARKER]) {
        expect((await upgrade(server.url, { authorization }))[0]).toBe(401);
      }
      const client = await connectWebSocket(server.url, { token: bearer });
      const proc = await client.startProcess({
        argv: ["sh", "-c", `read line; echo "$line ${MARKER} $SECRET_ENV" >&2; exit 3`],
        cwd: dir.uri,
        env: { PATH: "/usr/bin:/bin", SECRET_ENV: MARKER },
        tty: false,
        pipeStdin: true,
      });
      await proc.write(`${MARKER}\n`);
      expect(await proc.closed).toBe(3);
      await client.call("fs/writeFile", { path: `${dir.uri}/f`, dataBase64: Buffer.from(MARKER).toString("base64") });
      await client.close();
      await waitUntil(() => server.stderr().includes("client disconnected"), 10_000, "the disconnection line");
      await server.stop("SIGTERM");
      const stderr = server.stderr();
      // Trace level logged each request, so there was plenty it could have leaked.
      expect(stderr).toContain("process/start");
      expect(stderr).toContain("refused an upgrade");
      expect(stderr).not.toContain(MARKER);
      expect(stderr).not.toContain(MARKER.toLowerCase());
    });
  }
}
