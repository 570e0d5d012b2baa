// The project stands on its own: whatever its code, help texts and READMEs
// name as the place a rule is written down is in the repository (docs/),
// never a document only its authors had.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|mjs|js|py|md|json|sh)$/.test(f) && !f.startsWith('client/openapi') && f !== 'package-lock.json');

describe('references to documents', () => {
  it('name only documents the repository holds', () => {
    const dangling: string[] = [];
    for (const file of tracked) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      // A bare file name ending in .md, or a path to one.
      for (const match of text.matchAll(/(?<![\w/.-])((?:[\w.-]+\/)*[\w-]+\.md)\b/g)) {
        const name = match[1]!;
        if (/^(CHANGELOG|LICENSE)/.test(name)) continue;
        const candidates = [resolve(ROOT, dirname(file), name), resolve(ROOT, name)];
        if (!candidates.some((c) => existsSync(c))) dangling.push(`${file}: ${name}`);
      }
    }
    expect(dangling).toEqual([]);
  });
});
