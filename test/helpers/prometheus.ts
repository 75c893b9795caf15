/**
 * Reads the Prometheus text exposition format: parse-prometheus-text-format for the structure,
 * and a check that every sample line has the format's grammar (name, optional labels, a value).
 */
// @ts-expect-error: the package ships no types; its result's shape is declared below.
import parse from 'parse-prometheus-text-format';

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (NaN|[+-]Inf|[-+]?[0-9.]+(e[-+]?[0-9]+)?)( -?[0-9]+)?$/;

/** Families by name; throws naming the first line that is not valid exposition text. */
export function parsePrometheus(text: string): Map<string, Family> {
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) return;
    if (!SAMPLE.test(line)) throw new Error(`line ${i + 1} is not a Prometheus sample: ${line}`);
  });
  const families = (parse as (t: string) => Family[])(text);
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of a counter or gauge (with these labels), as a number. */
export function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(name);
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v) && Object.keys(x.labels ?? {}).length === Object.keys(labels).length);
  return m?.value === undefined ? undefined : Number(m.value);
}
