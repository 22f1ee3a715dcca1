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
const SCREENSHOTS = resolve(import.meta.dirname, '../../../../reports/screenshots');

describe('the HTML report in a real browser', () => {
  it('leads with what differs, at desktop and phone widths, offline in headless Chromium (screenshots in reports/screenshots)', { timeout: 120_000, skip: CHROMIUM ? false : 'no chromium found (./scripts/test installs Debian chromium; or set CHROMIUM_PATH)' }, async () => {
    registerDriver(memory);
    // Real checks on the embedded broker. A second column from the same results, made weaker by
    // hand (a fixture, named so), gives the page differences to lead with; the cost, fault and
    // failover sections come from small fixtures so that their charts render too.
    const checks = await runConformance({ backend: 'memory', url: 'memory://html-report' }, { only: ['round-trip', 'fan-out', 'dead-letter', 'trace-context', 'throughput'] });
    const report = toComparison([checks, { ...checks, backend: 'weaker-fixture' }]);
    const entry = report.backends.memory!;
    const weaker = report.backends['weaker-fixture']!;
    weaker.checks = { ...weaker.checks, 'dead-letter': { ...weaker.checks['dead-letter']!, status: 'unsupported', reason: 'fixture: no dead-letter queue' } };
    weaker.capabilities = { ...weaker.capabilities!, ordering: 'per-key-per-instance', attemptCount: 'approximate' };
    entry.cost = { messages: 5_000, sizeBytes: 256, sdk: { produceMsgsPerSec: 900, consumeMsgsPerSec: 800, p50Ms: 1, p99Ms: 2, peakRssBytes: 80e6 }, raw: { produceMsgsPerSec: 1_000, consumeMsgsPerSec: 1_000, p50Ms: 1, p99Ms: 2, peakRssBytes: 70e6 }, ratios: { produce: 0.9, consume: 0.8, p99: 1 } };
    entry.faults = { poison: { status: 'pass', lost: 0, duplicates: 0, sent: 1, recoveryMs: null }, 'network-cut': { status: 'pass', lost: 0, duplicates: 2, sent: 600, recoveryMs: 1_500 } };
    report.failover = failoverFixture();
    const html = renderHtml(report);
    assert.doesNotMatch(html, /<(script|link)\b|src="http|url\(http/i, 'self-contained: no scripts, no external resources');
    await mkdir(SCREENSHOTS, { recursive: true });
    const page = resolve(SCREENSHOTS, 'compare.html');
    await writeFile(page, html);

    const browser = await puppeteer.launch({ executablePath: CHROMIUM as string, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      for (const screen of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }]) {
        const tab = await browser.newPage();
        // Nothing may be fetched while viewing: every request other than the file itself fails the test.
        const requests: string[] = [];
        tab.on('request', (request) => void requests.push(request.url()));
        await tab.setViewport({ width: screen.width, height: screen.height, ...(screen.name === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
        await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
        // A string, run as it is in the page (a function would carry the test runner's helpers along).
        const seen = (await tab.evaluate(`(() => {
          const top = (selector) => document.querySelector(selector)?.getBoundingClientRect().top ?? 1e9; // not there: far below any screen
          return {
            summaryTop: top('#summary'),
            matrixTop: top('#matrix'),
            rows: [...document.querySelectorAll('#matrix tr th:first-child')].map((th) => th.textContent).filter(Boolean),
            cells: [...document.querySelectorAll('#matrix td')].map((td) => td.textContent),
            weaker: [...document.querySelectorAll('#summary .card')].map((card) => [card.querySelector('h3')?.textContent, [...card.querySelectorAll('.weaker li')].map((li) => li.textContent)]),
            sameOpen: document.querySelector('#same')?.open,
            pageWidth: document.documentElement.scrollWidth,
          };
        })()`)) as { summaryTop: number; matrixTop: number; rows: string[]; cells: string[]; weaker: [string, string[]][]; sameOpen: boolean; pageWidth: number };
        assert.ok(seen.summaryTop < screen.height && seen.matrixTop < screen.height, `${screen.name}: the summary (top ${seen.summaryTop}) and the differences (top ${seen.matrixTop}) are on the first screen`);
        assert.deepEqual(seen.rows, ['dead-letter', 'key ordering', 'attempt count'], `${screen.name}: only what differs leads`);
        assert.ok(seen.cells.includes('unsupported: fixture: no dead-letter queue') && seen.cells.some((cell) => /^pass · /.test(cell)), `${screen.name}: outcomes and figures in the cells, not on hover: ${seen.cells.join(' | ')}`);
        assert.deepEqual(seen.weaker, [['memory', []], ['weaker-fixture', ['key order within one instance only', 'attempt counts approximate', 'dead-letter unsupported (fixture: no dead-letter queue)']]]);
        assert.equal(seen.sameOpen, false, 'the rows that pass everywhere are folded');
        assert.ok(seen.pageWidth <= screen.width, `${screen.name}: the page is no wider than the screen (${seen.pageWidth}); wide tables scroll inside it`);
        const charts = await tab.$$eval('svg[role=img]', (svgs) => svgs.map((svg) => svg.getAttribute('aria-label')));
        assert.equal(charts.length, 7, `charts: ${charts.join(' | ')}`);
        const lost = await tab.$$eval('#failover td.fail', (cells) => cells.map((cell) => cell.textContent));
        assert.deepEqual(lost, ['87'], 'the lost confirmed messages stand out');
        assert.deepEqual(requests.filter((url) => url !== pathToFileURL(page).href), [], 'no request beyond the page itself');
        const file = resolve(SCREENSHOTS, `compare-${screen.name}.png`) as `${string}.png`;
        await tab.screenshot({ path: file });
        const size = (await stat(file)).size;
        assert.ok(size > 10_000, `screenshot of ${size} bytes`);
        process.stdout.write(`screenshot: ${file} (${Math.round(size / 1024)} KiB)\n`);
        await tab.close();
      }
    } finally {
      await browser.close();
    }
  });
});
