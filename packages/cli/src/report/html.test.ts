import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runConformance } from '@brokerkit/conformance';
import { registerDriver } from '@brokerkit/core';
import { driverFactory as memory } from '@brokerkit/memory';
import puppeteer from 'puppeteer-core';
import { renderHtml } from './html.js';
import { toComparison } from './model.js';
import { failoverFixture } from './fixtures.test.js';

/** Debian's chromium; ./scripts/test installs it. CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const SCREENSHOT = resolve(import.meta.dirname, '../../../../reports/screenshots/compare-html.png');

describe('the HTML report in a real browser', () => {
  it('renders offline in headless Chromium with the guarantee matrix visible (screenshot in reports/screenshots)', { timeout: 120_000, skip: CHROMIUM ? false : 'no chromium found (./scripts/test installs Debian chromium; or set CHROMIUM_PATH)' }, async () => {
    registerDriver(memory);
    // Real checks on the embedded broker; the cost and fault sections from a small fixture so the charts render too.
    const checks = await runConformance({ backend: 'memory', url: 'memory://html-report' }, { only: ['round-trip', 'fan-out', 'dead-letter', 'trace-context', 'throughput'] });
    const report = toComparison([checks]);
    const entry = report.backends.memory!;
    entry.cost = { messages: 5_000, sizeBytes: 256, sdk: { produceMsgsPerSec: 900, consumeMsgsPerSec: 800, p50Ms: 1, p99Ms: 2, peakRssBytes: 80e6 }, raw: { produceMsgsPerSec: 1_000, consumeMsgsPerSec: 1_000, p50Ms: 1, p99Ms: 2, peakRssBytes: 70e6 }, ratios: { produce: 0.9, consume: 0.8, p99: 1 } };
    entry.faults = { poison: { status: 'pass', lost: 0, duplicates: 0, sent: 1, recoveryMs: null }, 'network-cut': { status: 'pass', lost: 0, duplicates: 2, sent: 600, recoveryMs: 1_500 } };
    report.failover = failoverFixture();
    const html = renderHtml(report);
    assert.doesNotMatch(html, /<(script|link)\b|src="http|url\(http/i, 'self-contained: no scripts, no external resources');
    const dir = resolve(SCREENSHOT, '..');
    await mkdir(dir, { recursive: true });
    const page = resolve(dir, 'compare.html');
    await writeFile(page, html);

    const browser = await puppeteer.launch({ executablePath: CHROMIUM as string, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const tab = await browser.newPage();
      // Nothing may be fetched while viewing: every request other than the file itself fails the test.
      const requests: string[] = [];
      tab.on('request', (request) => void requests.push(request.url()));
      await tab.setViewport({ width: 1280, height: 900 });
      await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
      const matrix = await tab.$eval('#matrix', (table) => {
        const box = table.getBoundingClientRect();
        const style = (table.ownerDocument.defaultView as NonNullable<typeof table.ownerDocument.defaultView>).getComputedStyle(table);
        const cells = [...table.querySelectorAll('td')].map((td) => td.textContent);
        const rows = [...table.querySelectorAll('tr th:first-child')].map((th) => th.textContent).filter(Boolean);
        return { width: box.width, height: box.height, top: box.top, visible: style.visibility === 'visible' && style.display !== 'none', cells, rows };
      });
      assert.ok(matrix.visible && matrix.width > 200 && matrix.height > 100, `matrix box ${JSON.stringify(matrix)}`);
      assert.ok(matrix.top < 900, 'the matrix is on the first screen');
      assert.deepEqual(matrix.rows, ['round-trip', 'fan-out', 'dead-letter', 'trace-context', 'throughput']);
      assert.ok(matrix.cells.every((c) => c === 'pass'), `cells: ${matrix.cells.join(',')}`);
      const charts = await tab.$$eval('svg[role=img]', (svgs) => svgs.map((svg) => svg.getAttribute('aria-label')));
      assert.equal(charts.length, 7, `charts: ${charts.join(' | ')}`);
      const lost = await tab.$$eval('#failover td.fail', (cells) => cells.map((cell) => cell.textContent));
      assert.deepEqual(lost, ['87'], 'the lost confirmed messages stand out');
      assert.deepEqual(requests.filter((url) => url !== pathToFileURL(page).href), [], 'no request beyond the page itself');
      await tab.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
      const size = (await stat(SCREENSHOT)).size;
      assert.ok(size > 10_000, `screenshot of ${size} bytes`);
      process.stdout.write(`screenshot: ${SCREENSHOT} (${Math.round(size / 1024)} KiB)\n`);
    } finally {
      await browser.close();
    }
  });
});
