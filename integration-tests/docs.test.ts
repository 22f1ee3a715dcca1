// The README stays a five-minute read, and no link in it, docs/ or a package README points nowhere.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../', import.meta.url).pathname;
const pages = ['README.md', 'examples/README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`), ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}/README.md`)].filter((page) => existsSync(join(root, page)));

test('the README is at most 10 000 characters', () => {
  const length = readFileSync(join(root, 'README.md'), 'utf8').length;
  assert.ok(length <= 10_000, `README.md has ${length} characters`);
});

test('every relative link in the README, docs/, examples/ and package READMEs leads to a file, and every #anchor to a heading', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const file = path ? join(root, dirname(page), path) : join(root, page);
      if (!existsSync(file)) {
        broken.push(`${page}: ${target}`);
        continue;
      }
      if (anchor && file.endsWith('.md')) {
        const slugs = [...readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map(([, heading]) => (heading ?? '').toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
        if (!slugs.includes(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
