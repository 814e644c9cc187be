/**
 * README §3: malformed frames, batches, id shapes, tolerated envelope members
 * and params-absent handling. Raw frames are sent verbatim so the executor's
 * own parser is what is being compared.
 */
import { type Scenario, connect, raw, ready, req } from "./types.ts";

/** A raw request frame for environment/status with a verbatim id token. */
const statusWithId = (idToken: string) => raw(`{"id":${idToken},"method":"environment/status"}`);

export const envelopeScenarios: Scenario[] = [
  {
    name: "envelope/malformed-json",
    steps: [
      connect(),
      raw("{not json"),
      raw("{"),
      raw('{"id":1,"method":}'),
      raw('{"id":1,"method":"environment/status"} trailing'),
      raw("nul"),
      raw(""),
      raw("   "),
      raw('{"id":1,"method":"environment/status",}'),
      raw('{"id":1,"method":"environment/status"'),
      req("environment/status", undefined, { id: 99 }), // the connection survives all of that
    ],
  },
  {
    name: "envelope/non-object-json",
    steps: [connect(), raw('"just a string"'), raw("42"), raw("null"), raw("true"), raw('[{"id":1,"method":"environment/status"}]'), raw("[]")],
  },
  {
    name: "envelope/not-a-message",
    steps: [
      connect(),
      raw("{}"),
      raw('{"id":1}'),
      raw('{"id":1,"params":{}}'),
      raw('{"method":1}'),
      raw('{"id":2,"method":null}'),
      raw('{"id":3,"method":["environment/status"]}'),
      raw('{"params":{}}'),
      req("environment/status", undefined, { id: 4 }),
    ],
  },
  {
    // A response to a request the executor never sent (it sends only network/policyRequest): both drop the connection.
    name: "envelope/unsolicited-response",
    steps: [...ready(), raw('{"id":5,"result":{}}'), req("environment/status", undefined, { id: 6 })],
  },
  {
    name: "envelope/request-ids",
    steps: [
      ...ready(),
      statusWithId("9007199254740993"),
      statusWithId("-7"),
      statusWithId("0"),
      statusWithId("9223372036854775807"),
      statusWithId("-9223372036854775808"),
      statusWithId("9223372036854775808"),
      statusWithId('"abc"'),
      statusWithId('""'),
      statusWithId('"9"'),
      statusWithId("1.5"),
      statusWithId("1.0"),
      statusWithId("1e3"),
      statusWithId("null"),
      statusWithId("true"),
      statusWithId("{}"),
      statusWithId("[1]"),
    ],
  },
  {
    name: "envelope/tolerated-members",
    steps: [
      ...ready(),
      raw('{"jsonrpc":"2.0","id":1,"method":"environment/status"}'),
      raw('{"jsonrpc":"1.0","id":2,"method":"environment/status"}'),
      raw('{"jsonrpc":7,"id":3,"method":"environment/status"}'),
      raw('{"id":4,"method":"environment/status","extra":{"x":1}}'),
      raw('{"id":5,"method":"environment/status","trace":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}'),
      raw('{"id":6,"method":"environment/status","trace":null}'),
      raw('{"id":7,"method":"environment/status","params":{},"result":{}}'),
    ],
  },
  {
    name: "envelope/params-absent-null-wrong-type",
    steps: [
      ...ready(),
      req("process/read"),
      req("process/read", null),
      req("process/read", []),
      req("process/read", ["p"]),
      req("process/read", "p"),
      req("process/read", 5),
      req("process/start", true),
      req("capabilities/discoverV2"),
      req("environmentConfig/read", null),
    ],
  },
  {
    name: "envelope/unknown-methods",
    steps: [
      connect(),
      req("no/suchMethod", {}), // unknown beats the lifecycle gate
      ...ready().slice(1),
      req("no/suchMethod", {}),
      req("process/kill", { processId: "x" }),
      // Codex app-server names execbox does not implement (process/resizePty it does: extension ptySize).
      req("process/writeStdin", {}),
      req("capabilities/discover", {}),
      req("", {}),
      req("Environment/Status"),
      req("environment/status/"),
    ],
  },
];
