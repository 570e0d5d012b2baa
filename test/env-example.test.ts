// .env.example against what src/config.ts reads and the README's
// configuration table, so that the three stay in step.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PASSED_THROUGH } from '../src/compute/child-env.js';
import { parseConfig } from '../src/config.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const example = read('.env.example');
const readme = read('README.md');

/** The variables parseConfig reads, in the order it reads them, seen through an environment that has none. */
function variablesConfigReads(): string[] {
  const seen = new Set<string>();
  const note = (key: string | symbol) => {
    if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key)) seen.add(key);
  };
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => (note(key), undefined),
    has: (_target, key) => (note(key), false),
  });
  parseConfig(env);
  return [...seen];
}

const VARIABLE_LINE = /^# ([A-Z][A-Z0-9_]*)=(.*)$/;

/** The `# NAME=default` lines of .env.example, in order. */
const exampleVariables = () =>
  example
    .split('\n')
    .map((line) => VARIABLE_LINE.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);

/** The variable names of the README's configuration table, in order. */
function readmeTableVariables(): string[] {
  const section = readme.slice(readme.indexOf('### Configuration'));
  const table = section.slice(section.indexOf('| variable |'), section.indexOf('\n\n', section.indexOf('| variable |')));
  return [...table.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
}

describe('.env.example', () => {
  it('lists every variable src/config.ts reads, and no other', () => {
    const reads = variablesConfigReads();
    const listed = exampleVariables();
    expect(reads.length).toBeGreaterThan(10);
    expect({ missing: reads.filter((v) => !listed.includes(v)), unknown: listed.filter((v) => !reads.includes(v)) }).toEqual({
      missing: [],
      unknown: [],
    });
    expect(new Set(listed).size, 'each once').toBe(listed.length);
  });

  it('gives each its default: uncommented as Node reads it (--env-file), it configures what an empty environment does', () => {
    const uncommented = example
      .split('\n')
      .map((line) => (VARIABLE_LINE.test(line) ? line.slice(2) : line))
      .join('\n');
    const asRead = parseEnv(uncommented);
    expect(Object.keys(asRead).sort()).toEqual(exampleVariables().sort());
    expect(parseConfig(asRead)).toEqual(parseConfig({}));
  });

  it('says in a comment what each variable is', () => {
    for (const paragraph of example.split(/\n\s*\n/)) {
      const lines = paragraph.split('\n').filter(Boolean);
      if (!lines.some((line) => VARIABLE_LINE.test(line))) continue;
      const prose = lines.filter((line) => line.startsWith('# ') && !VARIABLE_LINE.test(line));
      expect(prose.length, `no meaning for ${lines.join(' / ')}`).toBeGreaterThan(0);
    }
  });

  it("lists the settings in the order of the README's configuration table, which has them all", () => {
    const settings = exampleVariables().filter((v) => !(PASSED_THROUGH as readonly string[]).includes(v));
    expect(readmeTableVariables()).toEqual(settings);
  });
});
