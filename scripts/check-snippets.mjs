#!/usr/bin/env node
// Compiles the TypeScript shown in README.md, docs/*.md and packages/*/README.md, so that no
// snippet there stops compiling unnoticed. Each ```ts block becomes a module in
// examples/.snippets/ (resolved like the examples: every package is there), with the names a
// snippet uses without defining them (`broker`, `producer`, `db`, …) declared in a prelude.
// A block fenced as ```ts skip-check is left out (none is today). Part of `pnpm typecheck`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'examples', '.snippets');
const sources = [
  'README.md',
  ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`),
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}/README.md`),
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let count = 0;
for (const source of sources) {
  let text;
  try {
    text = readFileSync(join(root, source), 'utf8');
  } catch {
    continue;
  }
  const blocks = [...text.matchAll(/^```ts( skip-check)?\n([\s\S]*?)^```$/gm)];
  blocks.forEach((block, index) => {
    if (block[1]) return;
    const line = text.slice(0, block.index).split('\n').length + 1;
    const name = `${source.replace(/[/.]/g, '_')}--${index + 1}.ts`;
    writeFileSync(join(out, name), `// ${source}, line ${line}\n${block[2]}\nexport {};\n`);
    count += 1;
  });
}

writeFileSync(
  join(out, 'prelude.d.ts'),
  `// What snippets use without defining it.
import type { Broker, Producer } from '@brokerkit/core';
declare global {
  interface Order { id: number }
  const broker: Broker;
  const producer: Producer;
  const order: Order;
  const body: unknown;
  /** Stands for the application's database. */
  const db: { save(row: unknown): Promise<void>; insertMany(rows: unknown[]): Promise<number[]> };
  /** Stands for an HTTP framework's app (Express-like). */
  const app: { get(path: string, handler: (req: unknown, res: { status(code: number): { json(body: unknown): void } }) => Promise<void>): void };
  function chargeCustomer(orderId: number): Promise<void>;
}
export {};
`,
);
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, noUnusedLocals: false }, include: ['*.ts'] }, null, 2),
);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
const report = `${tsc.stdout}${tsc.stderr}`.replaceAll(`${relative(root, out)}/`, '');
if (tsc.status !== 0) {
  console.error(`snippets that do not compile (a block's first line names its file and line):\n${report}`);
  process.exit(1);
}
console.log(`${count} TypeScript snippets of the README, docs/ and package READMEs compile`);
