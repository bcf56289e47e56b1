/**
 * The built demo's Content-Security-Policy (vite.demo.config.ts): in the page as a <meta> and
 * sent by the preview server as a header, strict (no inline scripts or styles, no eval — only
 * WebAssembly may be compiled, for the HDF5 library inside .keras files — workers and fetches
 * from the page's own origin only), and not violated by anything the demo does: a CSV file
 * parsed in the worker, a training run on the GPU in the worker, the charts, a download, a
 * model saved as .keras (h5wasm in the worker) and read back up to the load confirmation. A
 * positive control proves violations would be seen.
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { DEMO_URL, configure, downloadOf, id, loadFixture, open, train } from './demo-helpers';

test.use({ viewport: { width: 1400, height: 1000 } });

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([k, ...v]) => [k!.toLowerCase(), v]),
  );
}

test('the built demo runs under a strict Content-Security-Policy, with no violation during a training run', async ({ page }) => {
  const consoleCsp: string[] = [];
  page.on('console', (m) => {
    if (/content security policy|refused to/i.test(m.text())) consoleCsp.push(`${m.type()}: ${m.text()}`);
  });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });

  // The policy: header and meta agree; nothing inline or eval; workers and fetches from 'self'.
  const res = await page.request.get(DEMO_URL);
  const header = res.headers()['content-security-policy'];
  expect(header, 'the preview server sends the policy').toBeTruthy();
  const html = await res.text();
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
  expect(meta, 'the page carries the policy in a <meta> (for any static host)').toBe(header);
  expect(html.indexOf('http-equiv="Content-Security-Policy"'), 'the <meta> comes before any script or stylesheet').toBeLessThan(html.indexOf('<script'));
  const d = directives(header!);
  expect(d.get('default-src')).toEqual(["'none'"]);
  expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
  expect(d.get('worker-src')).toEqual(["'self'"]);
  expect(d.get('connect-src')).toEqual(["'self'"]);
  expect(d.get('style-src')).toEqual(["'self'"]);
  expect(header).not.toMatch(/unsafe-inline|(?<!wasm-)unsafe-eval|\*/);
  expect(html, 'no inline <script>').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html, 'no inline style attributes').not.toMatch(/\sstyle=/);
  const workerJs = /assets\/worker-[\w-]+\.js/.exec(await (await page.request.get(`${DEMO_URL}${/assets\/index-[\w-]+\.js/.exec(html)![0]}`)).text());
  if (workerJs) expect((await page.request.get(`${DEMO_URL}${workerJs[0]}`)).headers()['content-security-policy'], "the worker's script carries the policy").toBe(header);

  // A real-data run: parse, train on the GPU in the worker, draw, export, confirm a load, cancel it.
  const errors = await open(page);
  await loadFixture(page);
  await configure(page, { window: '30', cell: 'lstm', units: '8', epochs: '2' });
  await train(page);
  await expect(id(page, 'forecast-chart').locator('[data-drawn=true]')).toHaveCount(3);
  const [keras] = await Promise.all([page.waitForEvent('download'), id(page, 'download-keras').click()]);
  await downloadOf(page, 'export-forecast');
  await id(page, 'load-input').setInputFiles({ name: 'model.keras', mimeType: 'application/octet-stream', buffer: readFileSync((await keras.path())!) });
  await expect(id(page, 'load-dialog')).toBeVisible({ timeout: 30_000 });
  await id(page, 'load-cancel').click();
  await id(page, 'log-scale').click();
  await page.waitForTimeout(300);

  const seen = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
  console.log(`demo csp: ${requests.length} requests, all to ${new URL(DEMO_URL).origin} or blob:/data:; violations: ${seen.length}; console CSP messages: ${consoleCsp.length}`);
  expect(seen, 'securitypolicyviolation events during the run').toEqual([]);
  expect(consoleCsp, 'CSP messages in the console during the run').toEqual([]);
  for (const u of requests) expect(u.startsWith(new URL(DEMO_URL).origin) || u.startsWith('blob:') || u.startsWith('data:'), `request to ${u}`).toBe(true);
  expect(errors).toEqual([]);

  // Positive control: the policy is enforced and its violations are seen by the checks above.
  const control = await page.evaluate(async () => {
    const w = window as unknown as { cspViolations: string[]; inlineRan?: boolean };
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.head.append(s);
    // (eval is not tried here: DevTools' own evaluation, which runs this function, may use it.)
    const workerBlocked = await new Promise<boolean>((resolve) => {
      const wk = new Worker(URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' })));
      wk.onmessage = () => resolve(false);
      wk.onerror = () => resolve(true);
      setTimeout(() => resolve(true), 2000);
    });
    const fetchBlocked = await fetch('http://127.0.0.2:9/').then(
      () => false,
      () => true,
    );
    await new Promise((r) => setTimeout(r, 200));
    return { inlineRan: w.inlineRan === true, workerBlocked, fetchBlocked, violations: [...new Set(w.cspViolations.map((v) => v.split(' ')[0]))] };
  });
  console.log(`demo csp: positive control ${JSON.stringify(control)}`);
  expect(control.inlineRan).toBe(false);
  expect(control.workerBlocked).toBe(true);
  expect(control.fetchBlocked).toBe(true);
  expect(control.violations.sort()).toEqual(['connect-src', 'script-src-elem', 'worker-src']);
});
