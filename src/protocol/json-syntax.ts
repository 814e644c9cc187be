/**
 * Locates the first syntax error in a JSON text and describes it the way the
 * reference (serde_json) does: `key must be a string at line 1 column 2`.
 * Only called after `JSON.parse` has already failed, so speed does not matter.
 */
class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export function describeJsonSyntaxError(text: string): string {
  try {
    new Scanner(text).document();
    return "expected value at line 1 column 1";
  } catch (e) {
    if (!(e instanceof SyntaxFailure)) throw e;
    return `${e.message} at ${position(text, e.at)}`;
  }
}

/** serde_json's 1-based line and column; an error at end of input points at the last character. */
function position(text: string, at: number): string {
  const upto = text.slice(0, Math.min(at + 1, text.length));
  const lines = upto.split("\n");
  return `line ${lines.length} column ${lines[lines.length - 1]!.length}`;
}

const WS = new Set([" ", "\t", "\n", "\r"]);

class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): void {
    this.skip();
    this.value("a value");
    this.skip();
    if (this.i < this.s.length) this.fail("trailing characters");
  }

  private fail(message: string, at = this.i): never {
    throw new SyntaxFailure(message, at);
  }
  private eof(what: string): never {
    this.fail(`EOF while parsing ${what}`, this.s.length);
  }
  private skip(): void {
    while (this.i < this.s.length && WS.has(this.s[this.i]!)) this.i++;
  }

  private value(context: string): void {
    if (this.i >= this.s.length) this.eof(context);
    const c = this.s[this.i]!;
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, this.i++) {
          if (this.i >= this.s.length) this.eof("a value");
          if (this.s[this.i] !== word[k]) this.fail("expected ident");
        }
        return;
      }
    }
    this.fail("expected value");
  }

  private object(): void {
    this.i++;
    this.skip();
    if (this.s[this.i] === "}") return void this.i++;
    for (;;) {
      this.skip();
      if (this.i >= this.s.length) this.eof("an object");
      if (this.s[this.i] === "}") this.fail("trailing comma");
      if (this.s[this.i] !== '"') this.fail("key must be a string");
      this.string();
      this.skip();
      if (this.i >= this.s.length) this.eof("an object");
      if (this.s[this.i] !== ":") this.fail("expected `:`");
      this.i++;
      this.skip();
      this.value("an object");
      this.skip();
      if (this.i >= this.s.length) this.eof("an object");
      const c = this.s[this.i++];
      if (c === "}") return;
      if (c !== ",") this.fail("expected `,` or `}`", this.i - 1);
    }
  }

  private array(): void {
    this.i++;
    this.skip();
    if (this.s[this.i] === "]") return void this.i++;
    for (;;) {
      this.skip();
      if (this.i < this.s.length && this.s[this.i] === "]") this.fail("trailing comma");
      this.value("a list");
      this.skip();
      if (this.i >= this.s.length) this.eof("a list");
      const c = this.s[this.i++];
      if (c === "]") return;
      if (c !== ",") this.fail("expected `,` or `]`", this.i - 1);
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      if (this.i >= this.s.length) this.eof("a string");
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) return void this.i++;
      if (c < 0x20) this.fail("control character (\\u0000-\\u001F) found while parsing a string");
      if (c === 0x5c) {
        this.i++;
        if (this.i >= this.s.length) this.eof("a string");
        const e = this.s[this.i]!;
        if (e === "u") {
          const hex = this.s.slice(this.i + 1, this.i + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid escape");
          this.i += 4;
        } else if (!'"\\/bfnrt'.includes(e)) this.fail("invalid escape");
      }
      this.i++;
    }
  }

  private number(): void {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i));
    if (!m || m[0] === "-") this.fail("invalid number");
    this.i += m[0].length;
  }
}
