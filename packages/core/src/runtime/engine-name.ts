/**
 * The name and version of the JavaScript engine this code runs in, as a worker's hello carries it
 * and the dashboard shows it: "Node 20.20.2", "Bun 1.4.4", "Deno 2.9.6", "Chrome 156",
 * "Firefox 153", "Safari 18.2". Only what the engine says of itself; "unknown" when it says nothing
 * recognisable. Never used to decide anything: the kernel fingerprint does that.
 */
interface Navigatorish {
  userAgent?: string;
  userAgentData?: { brands?: Array<{ brand: string; version: string }> };
}

export function engineName(): string {
  const g = globalThis as {
    Bun?: { version?: string };
    Deno?: { version?: { deno?: string } };
    process?: { versions?: { node?: string } };
    navigator?: Navigatorish;
  };
  // Bun and Deno also show a Node version (their compatibility layer): ask them first.
  if (typeof g.Bun?.version === 'string') return `Bun ${g.Bun.version}`;
  if (typeof g.Deno?.version?.deno === 'string') return `Deno ${g.Deno.version.deno}`;
  if (typeof g.process?.versions?.node === 'string') return `Node ${g.process.versions.node}`;
  if (g.navigator !== undefined) return browserName(g.navigator);
  return 'unknown';
}

/** The browser's name and major version, from its user-agent data or string. */
export function browserName(navigator: Navigatorish): string {
  const brands = navigator.userAgentData?.brands ?? [];
  // Chromium's brands list "Chromium" beside the product's own and a deliberately odd one.
  for (const wanted of ['Google Chrome', 'Microsoft Edge', 'Opera', 'Chromium']) {
    const brand = brands.find((b) => b.brand === wanted);
    if (brand) return `${wanted === 'Google Chrome' ? 'Chrome' : wanted.replace(/^Microsoft /, '')} ${brand.version}`;
  }
  const ua = navigator.userAgent ?? '';
  const patterns: Array<[RegExp, string]> = [
    [/Firefox\/(\d+)/, 'Firefox'],
    [/Edg\/(\d+)/, 'Edge'],
    [/OPR\/(\d+)/, 'Opera'],
    [/(?:Headless)?Chrome\/(\d+)/, 'Chrome'],
    [/Version\/(\d+(?:\.\d+)?).*Safari\//, 'Safari'],
  ];
  for (const [pattern, name] of patterns) {
    const version = pattern.exec(ua)?.[1];
    if (version !== undefined) return `${name} ${version}`;
  }
  return 'a browser';
}
