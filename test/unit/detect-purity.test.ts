/** src/detect is a pure kernel: it imports nothing but its own files (no HTTP, jobs, storage, or Node I/O). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

test('src/detect imports only src/detect', () => {
  const dir = fileURLToPath(new URL('../../src/detect/', import.meta.url));
  const offending: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
      if (!/^\.\/[\w-]+\.js$/.test(m[1])) offending.push(`${file}: ${m[1]}`);
    }
    for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)|\brequire\(/g)) offending.push(`${file}: ${m[0]}`);
  }
  assert.deepEqual(offending, []);
});
