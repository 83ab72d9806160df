// The MCP Inspector (npm @modelcontextprotocol/inspector, its web UI) in headless Chromium, driven like a person
// would: connect to the McpAuth demo, click Allow on the demo's consent page, list the tools, call whoami, then call
// admin-action, accept the Inspector's step-up prompt, click Allow again, and screenshot each result.
//
// Usage: MCP_URL=http://127.0.0.1:PORT/mcp [SCREENSHOT_DIR=dir] [CHROMIUM=/usr/bin/chromium] node inspector-driver.mjs
// Starts its own Inspector (fresh state, free ports, secrets in memory) and its own browser profile, removes both at
// the end, and prints one JSON line: what each step saw, the screenshots' paths and how long each step took.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const mcpUrl = process.env.MCP_URL;
const issuer = new URL('/demo-issuer', mcpUrl).href;
const shots = resolve(process.env.SCREENSHOT_DIR || join(tmpdir(), 'mcpauth-inspector'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();
const out = { steps: [], screenshots: {} };
const step = (name, detail = {}) => out.steps.push({ name, ms: Date.now() - started, ...detail });

const freePort = () => new Promise((ok, fail) => {
  const server = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => ok(port));
  });
});

mkdirSync(shots, { recursive: true });
const home = mkdtempSync(join(tmpdir(), 'mcpauth-inspector-home-'));
const profile = mkdtempSync(join(tmpdir(), 'mcpauth-inspector-profile-'));
const [clientPort, serverPort, sandboxPort, appPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const inspector = spawn(process.execPath, [
  'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', '--web', '--transport', 'http', '--server-url', mcpUrl,
], {
  cwd: new URL('.', import.meta.url).pathname,
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...process.env, HOME: home, MCP_STORAGE_DIR: join(home, 'storage'), MCP_INSPECTOR_SECRET_STORE: 'memory', MCP_AUTO_OPEN_ENABLED: 'false',
    CLIENT_PORT: String(clientPort), SERVER_PORT: String(serverPort), MCP_SANDBOX_PORT: String(sandboxPort), MCP_APP_ORIGIN_PORT: String(appPort),
  },
});
let log = '';
inspector.stdout.on('data', (d) => { log += d; });
inspector.stderr.on('data', (d) => { log += d; });
let browser;
try {
  const inspectorUrl = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('the Inspector did not start in 60 s:\n' + log)), 60000);
    const poll = setInterval(() => {
      const match = log.match(/(http:\/\/[^\s]+MCP_INSPECTOR_API_TOKEN=[0-9a-f]+)/);
      if (match) { clearTimeout(timer); clearInterval(poll); ok(match[1]); }
    }, 200);
    inspector.once('exit', (code) => { clearTimeout(timer); clearInterval(poll); fail(new Error(`the Inspector exited (${code}):\n${log}`)); });
  });
  out.inspectorOrigin = new URL(inspectorUrl).origin;
  step('inspector started');

  browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(inspectorUrl);
  await page.getByRole('switch').first().waitFor();
  step('inspector page loaded');

  // The user's part: Connect, then Allow on the demo's consent page.
  const consent = async (name) => {
    await page.waitForURL((u) => u.href.startsWith(issuer + '/authorize'));
    const heading = (await page.locator('h1').innerText()).replace(/\s+/g, ' ').trim();
    await page.screenshot({ path: join(shots, `${name}.png`) });
    out.screenshots[name] = join(shots, `${name}.png`);
    step(name, { heading, url: page.url().split('?')[0], scope: new URL(page.url()).searchParams.get('scope'), resource: new URL(page.url()).searchParams.get('resource'), codeChallengeMethod: new URL(page.url()).searchParams.get('code_challenge_method') });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.origin === out.inspectorOrigin);
  };
  await page.getByRole('switch').first().click({ force: true });
  await consent('consent');
  await page.getByText('Connected', { exact: true }).first().waitFor();
  step('connected');

  // A tool's button is named by the tool, then any badge the Inspector adds (a schema warning, for example).
  const toolButton = (name) => page.getByRole('button', { name: new RegExp(`^${name}(\\s|$)`) }).first();
  await page.getByText('Tools', { exact: true }).first().click();
  await toolButton('whoami').waitFor();
  const tools = [];
  for (const name of ['whoami', 'admin-action']) {
    if (await toolButton(name).count()) tools.push(name);
  }
  step('tools listed', { tools });

  const execute = async (tool) => {
    await toolButton(tool).click();
    await page.getByRole('button', { name: 'Execute Tool' }).click();
  };
  // The Results panel is a read-only (Ace) JSON editor showing the tool's text.
  const result = async (tool, shot, expected) => {
    const panel = page.locator('.json-editor-readonly .ace_text-layer', { hasText: expected }).first();
    await panel.waitFor();
    const text = await panel.innerText();
    await page.screenshot({ path: join(shots, `${shot}.png`) });
    out.screenshots[shot] = join(shots, `${shot}.png`);
    step(`${tool} result`, { text });
    return JSON.parse(text);
  };
  await execute('whoami');
  out.whoami = await result('whoami', 'whoami', '"demo-user"');

  // Step-up: admin-action gets 403 insufficient_scope; the Inspector asks, the user authorizes, then Allows.
  await execute('admin-action');
  await page.getByText('Additional permissions required').waitFor();
  out.stepUpPrompt = (await page.getByRole('dialog').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
  step('step-up prompt', { prompt: out.stepUpPrompt });
  await page.getByRole('button', { name: 'Authorize' }).click();
  await consent('step-up-consent');
  await page.getByText('Tools', { exact: true }).first().click().catch(() => {});
  await toolButton('admin-action').waitFor();
  if (!(await page.locator('.json-editor-readonly .ace_text-layer', { hasText: '"admin-action"' }).count())) {
    await execute('admin-action'); // the Inspector brings the user back to the tool; run it again with the new token
  }
  out.admin = await result('admin-action', 'admin-action', '"admin-action"');
  step('done');
} catch (error) {
  out.error = String(error?.stack ?? error);
  out.inspectorLog = log.slice(-4000);
  if (browser) {
    const page = browser.pages()[0];
    if (page) {
      await page.screenshot({ path: join(shots, 'failure.png') }).catch(() => {});
      out.screenshots.failure = join(shots, 'failure.png');
      out.failurePage = { url: page.url(), text: (await page.locator('body').innerText().catch(() => '')).slice(0, 3000) };
    }
  }
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  try { process.kill(-inspector.pid, 'SIGTERM'); } catch { /* gone */ }
  rmSync(profile, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
