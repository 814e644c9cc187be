import { describe, expect, test } from "bun:test";
import { signV4 } from "../../src/remote/sigv4.ts";

const EXAMPLE_KEYS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const REGISTER_BODY = '{"transport":"direct_jsonrpc_v1"}';

describe("SigV4", () => {
  // AWS's published SigV4 test suite (aws-sig-v4-test-suite): get-vanilla and get-vanilla-query-order-key-case.
  test("AWS test suite: get-vanilla", () => {
    const headers = signV4(
      { method: "GET", url: new URL("https://example.amazonaws.com/"), headers: {}, body: "" },
      { credentials: EXAMPLE_KEYS, region: "us-east-1", service: "service" },
      new Date("2015-08-30T12:36:00Z"),
    );
    expect(headers).toEqual({
      "x-amz-date": "20150830T123600Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    });
  });
  test("AWS test suite: get-vanilla-query-order-key-case", () => {
    const headers = signV4(
      { method: "GET", url: new URL("https://example.amazonaws.com/?Param2=value2&Param1=value1"), headers: {}, body: "" },
      { credentials: EXAMPLE_KEYS, region: "us-east-1", service: "service" },
      new Date("2015-08-30T12:36:00Z"),
    );
    expect(headers.authorization).toEndWith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  });

  // Requests the 0.169.0 reference signed (`--remote-transport direct --aws-sigv4`), captured on loopback.
  const reference: [string, Parameters<typeof signV4>, string][] = [
    [
      "direct/register, env credentials",
      [
        { method: "POST", url: new URL("http://127.0.0.1:36411/cloud/environment/abc/direct/register"), headers: { "content-type": "application/json" }, body: REGISTER_BODY },
        { credentials: EXAMPLE_KEYS, region: "us-east-1", service: "execute-api" },
        new Date("2026-12-06T05:46:34Z"),
      ],
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=4d9ee94072ca27641ffd8e34656d78cac814c9496d0c39628b2f81b287016fe9",
    ],
    [
      "WebSocket upgrade to the returned URL",
      [
        { method: "GET", url: new URL("ws://127.0.0.1:36411/ws"), headers: {}, body: "" },
        { credentials: EXAMPLE_KEYS, region: "us-east-1", service: "execute-api" },
        new Date("2026-12-06T05:46:34Z"),
      ],
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=6ae80374f35a05f4ff9c26314cc644cad0a9ab504c966b4434f45d7eecc8ff4e",
    ],
    [
      "session token, --aws-region and --aws-service",
      [
        { method: "POST", url: new URL("http://127.0.0.1:36835/cloud/environment/abc/direct/register"), headers: { "content-type": "application/json" }, body: REGISTER_BODY },
        { credentials: { ...EXAMPLE_KEYS, sessionToken: "SESSIONTOKEN/x=" }, region: "eu-central-1", service: "svc" },
        new Date("2026-12-06T05:46:40Z"),
      ],
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/eu-central-1/svc/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=bbbbcf60fd448e7b6175d4e4ed5f73b45071008024283798780ca5fa58885700",
    ],
    [
      "profile credentials",
      [
        { method: "POST", url: new URL("http://127.0.0.1:33005/cloud/environment/abc/direct/register"), headers: { "content-type": "application/json" }, body: REGISTER_BODY },
        { credentials: { accessKeyId: "AKIDPROFILE", secretAccessKey: "secretprofile" }, region: "ap-south-1", service: "execute-api" },
        new Date("2026-12-06T05:46:40Z"),
      ],
      "AWS4-HMAC-SHA256 Credential=AKIDPROFILE/20261206/ap-south-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=30f19a53e1af3bbb33e31a4f09e33ce2e4ef4d6ef837d74ed7b52df386dcb011",
    ],
  ];
  for (const [name, args, authorization] of reference) {
    test(`the reference's signature: ${name}`, () => {
      const headers = signV4(...args);
      expect(headers.authorization).toBe(authorization);
      expect(headers["x-amz-date"]).toBe(args[2].toISOString().replace(/[-:]/g, "").replace(".000", ""));
      expect(headers["x-amz-security-token"]).toBe(args[1].credentials.sessionToken);
    });
  }
});
