/**
 * The url crate's wording for the failures that WHATWG parsing (`new URL`)
 * reports as one TypeError, so path URIs and http/request URLs fail with the
 * reference's texts.
 */
export function describeUrlFailure(text: string): string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) return "relative URL without a base";
  // Credentials or a port on a file: URL make the url crate reject its host.
  if (/^file:\/\/[^/]*[@:]/i.test(text)) return "invalid international domain name";
  if (/^[a-z]+:\/\/\[/i.test(text)) return "invalid IPv6 address";
  if (/^[a-z]+:\/\/(\/|$)/i.test(text)) return "empty host";
  return "invalid URL";
}
