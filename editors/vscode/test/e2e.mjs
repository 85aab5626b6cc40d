// End-to-end test of the extension in a real VS Code: code-server with the packaged .vsix installed,
// driven through headless Chromium. It opens a temporary copy of examples/global.carbon and checks what
// a person would see: the language mode, keyword colours, a hover from carbon-lsp, the E0301
// diagnostic after typing a cross-region mistake, and the output of "Carbon: Plan current file".
//
// Environment:
//   CARBON_VSIX            the packaged extension (required)
//   CARBON_LSP             the server binary (default $CARGO_TARGET_DIR/debug/carbon-lsp, with
//                          CARGO_TARGET_DIR defaulting to ~/.cache/carbonc/target)
//   CARBON_E2E_DEPS        the folder whose node_modules holds code-server and playwright-core
//                          (default: test/e2e beside this file)
//   CARBON_E2E_ARTIFACTS   where screenshots and, on failure, logs go (default target/e2e)
//   CARBON_E2E_CHROMIUM    the browser (default /usr/bin/chromium)
//   CARBONC                the carbonc binary for the plan command (default $CARGO_TARGET_DIR/debug/carbonc;
//                          without one, the plan command is not checked)
//   CARBON_E2E_KEEP=1      keep the temporary folder (workspace, profile, logs)
//
// Exits 0 when every check passed, 1 with a message naming the failed check otherwise.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const started = Date.now();

const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/carbonc/target');
const serverBin = path.resolve(process.env.CARBON_LSP || path.join(targetDir, 'debug/carbon-lsp'));
const vsix = process.env.CARBON_VSIX ? path.resolve(process.env.CARBON_VSIX) : '';
const depsDir = path.resolve(process.env.CARBON_E2E_DEPS || path.join(here, 'e2e'));
const artifacts = path.resolve(repo, process.env.CARBON_E2E_ARTIFACTS || 'target/e2e');
const chromiumPath = process.env.CARBON_E2E_CHROMIUM || '/usr/bin/chromium';
// The plan command is checked when carbonc has been built (scripts/test builds it).
const carboncBin = [process.env.CARBONC, path.join(targetDir, 'debug/carbonc')]
  .find((p) => p && fs.existsSync(p));

// The line and columns of examples/global.carbon that the checks use (1-based).
// Found by their text, so that edits elsewhere in the example do not move the checks.
const globalLines = fs.readFileSync(path.join(repo, 'examples/global.carbon'), 'utf8').split('\n');
const lineOf = (text) => globalLines.findIndex((l) => l.includes(text)) + 1;
const KEY_LINE = lineOf('resource aws.kms.Key data_key @ r {'); // `    resource aws.kms.Key data_key @ r {`
const KEY_NAME_COLUMN = 26; // `data_key` on that line
const MISTAKE_LINE = lineOf('secrets_key = data_key[r]'); // `        secrets_key = data_key[r]`

class CheckFailed extends Error {}

function log(msg) {
  const secs = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[e2e ${secs}s] ${msg}`);
}

function fail(msg) {
  throw new CheckFailed(msg);
}

/** Editor text uses non-breaking spaces; compare with ordinary ones. */
function norm(text) {
  return (text || '').replace(/\u00a0/g, ' ');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a truthy value; returns that value, or undefined after `ms`. */
async function poll(fn, ms, every = 250) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() > until) {
      return undefined;
    }
    await sleep(every);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Every file under `dir` whose path satisfies `want`. */
function findFiles(dir, want) {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, f))
    .filter((f) => want(f) && fs.statSync(f).isFile());
}

function copyExamples(dest) {
  fs.cpSync(path.join(repo, 'examples'), dest, {
    recursive: true,
    // State and plans beside the examples are not part of the program.
    filter: (src) => path.basename(src) !== '.carbon',
  });
}

// ---- preconditions --------------------------------------------------------------------------------

function checkInputs() {
  const problems = [];
  if (!vsix || !fs.existsSync(vsix)) {
    problems.push(`CARBON_VSIX must name the packaged extension (got ${vsix ? `\`${vsix}\`` : 'nothing'}); ` +
      'make one with `npx vsce package --allow-missing-repository` in editors/vscode');
  }
  if (!fs.existsSync(serverBin)) {
    problems.push(`no server binary at ${serverBin}: run \`cargo build -p carbon-lsp\` or set CARBON_LSP`);
  }
  if (!fs.existsSync(path.join(depsDir, 'node_modules/code-server/package.json'))) {
    problems.push(`code-server is not installed in ${depsDir}/node_modules: run scripts/test-editor, ` +
      'or `npm ci` in editors/vscode/test/e2e');
  }
  if (!fs.existsSync(chromiumPath)) {
    problems.push(`no browser at ${chromiumPath}: apt-get install chromium`);
  }
  if (problems.length) {
    fail(`cannot run:\n  - ${problems.join('\n  - ')}`);
  }
}

// ---- code-server ----------------------------------------------------------------------------------

function codeServerEnv(tmp) {
  const home = path.join(tmp, 'home');
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_RUNTIME_DIR: path.join(tmp, 'run'),
    TMPDIR: path.join(tmp, 'tmp'),
  };
}

function codeServerEntry() {
  const pkg = path.join(depsDir, 'node_modules/code-server/package.json');
  return path.join(path.dirname(pkg), JSON.parse(fs.readFileSync(pkg, 'utf8')).bin['code-server']);
}

function installExtension(env, userData, extensions) {
  const res = spawnSync(process.execPath, [codeServerEntry(), '--user-data-dir', userData, '--extensions-dir',
    extensions, '--install-extension', vsix, '--force'], { env, encoding: 'utf8', timeout: 120_000 });
  if (res.status !== 0 || !fs.readdirSync(extensions).some((d) => d.startsWith('carbonc.carbon-'))) {
    fail(`installing ${vsix} into code-server failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
}

async function startCodeServer(env, port, userData, extensions, workspace, logFile) {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [codeServerEntry(), '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userData, '--extensions-dir', extensions, workspace],
  { env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const ready = await poll(async () => {
    if (child.exitCode !== null) {
      return 'exited';
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.ok ? 'ok' : undefined;
    } catch {
      return undefined;
    }
  }, 30_000);
  if (ready !== 'ok') {
    fail(`code-server did not answer on /healthz (${ready || 'timeout'}); its log:\n` +
      fs.readFileSync(logFile, 'utf8').slice(-3000));
  }
  return child;
}

/** Ends code-server and everything it started (extension host, carbon-lsp): they share its group. */
async function stopProcessGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const group = -child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  const gone = await poll(() => child.exitCode !== null || child.signalCode !== null, 5_000, 100);
  if (!gone) {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

// ---- the editor -----------------------------------------------------------------------------------

/** Runs a command through the command palette (F1), by its title as the palette shows it. */
async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** Moves the cursor with "Go to Line/Column" (`LINE:COLUMN`). */
async function goTo(page, line, column) {
  await page.keyboard.press('Control+g');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 10_000 });
}

/**
 * The token spans of the rendered line `lineNumber`, as `{ text, colour }`, or null when the line is
 * not rendered. The line is found through the line-number gutter, which sits at the same height.
 */
async function lineTokens(page, lineNumber) {
  return page.evaluate((n) => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor') ||
      document.querySelector('.monaco-editor');
    const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')];
    const num = numbers.find((el) => el.textContent.trim() === String(n));
    if (!num) {
      return null;
    }
    const top = num.parentElement.style.top || num.style.top;
    const line = [...editor.querySelectorAll('.view-lines .view-line')].find((el) => el.style.top === top);
    if (!line) {
      return null;
    }
    return [...line.querySelectorAll('span > span')]
      .map((span) => ({ text: span.textContent, colour: getComputedStyle(span).color }));
  }, lineNumber);
}

/** The text of the rendered line `lineNumber`. */
async function viewLine(page, lineNumber) {
  const tokens = await lineTokens(page, lineNumber);
  return tokens ? norm(tokens.map((t) => t.text).join('')) : null;
}

/**
 * The text of line `lineNumber` without its indentation, once it starts with `expected` (the editor
 * renders after scrolling and typing, and inlay hints may follow the text), or as it is after 5 s.
 */
async function readLine(page, lineNumber, expected) {
  const read = async () => ((await viewLine(page, lineNumber)) || '').trim();
  await poll(async () => (await read()).startsWith(expected), 5_000, 100);
  return read();
}

/** The colour of the first token on line `lineNumber` whose text is exactly `text`. */
async function tokenColour(page, lineNumber, text) {
  const tokens = (await lineTokens(page, lineNumber)) || [];
  const token = tokens.find((t) => norm(t.text).trim() === text);
  return token ? token.colour : null;
}

async function screenshot(page, name) {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(repo, file)}`);
}

async function checkEditor(page, port, workspace, userData) {
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  // The explorer shows the workspace once the window has loaded its folder.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'global.carbon' }).first()
    .waitFor({ state: 'visible', timeout: 60_000 });
  log('workbench loaded');

  // Open global.carbon through Quick Open, as a person would.
  await page.keyboard.press('Control+p');
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor({ state: 'visible', timeout: 10_000 });
  await quick.fill('global.carbon');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'global.carbon' }).first()
    .waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: 'global.carbon' }).waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible', timeout: 15_000 });
  log('global.carbon is open');

  // 1. The language mode in the status bar.
  const modeItem = page.locator('[id="status.editor.mode"]');
  const mode = await poll(async () => {
    const t = norm(await modeItem.textContent({ timeout: 1_000 }).catch(() => '')).trim();
    return t === 'Carbon' ? t : undefined;
  }, 15_000);
  if (!mode) {
    const got = norm(await modeItem.textContent().catch(() => '(no language status item)')).trim();
    fail(`the language mode in the status bar is "${got}", not "Carbon"`);
  }
  log('language mode: Carbon');

  // 2. Highlighting: the keyword `resource` has a colour of its own, different from a plain
  //    identifier's and from punctuation's.
  await goTo(page, KEY_LINE, 1);
  const keyLine = await readLine(page, KEY_LINE, 'resource aws.kms.Key data_key @ r {');
  if (!keyLine.startsWith('resource aws.kms.Key data_key @ r {')) {
    fail(`line ${KEY_LINE} reads "${keyLine}", not the data_key declaration this test expects`);
  }
  const colours = await poll(async () => {
    const keyword = await tokenColour(page, KEY_LINE, 'resource');
    const ident = await tokenColour(page, KEY_LINE + 7, 'data_key'); // `target_key = data_key[r]`
    const brace = await tokenColour(page, KEY_LINE, '{');
    return keyword && ident && brace && keyword !== ident && keyword !== brace ? { keyword, ident, brace } : undefined;
  }, 15_000);
  if (!colours) {
    const keyword = await tokenColour(page, KEY_LINE, 'resource');
    const ident = await tokenColour(page, KEY_LINE + 7, 'data_key');
    const brace = await tokenColour(page, KEY_LINE, '{');
    fail(`the keyword \`resource\` is not coloured apart from the rest: resource=${keyword}, ` +
      `identifier data_key=${ident}, punctuation {=${brace}`);
  }
  log(`colours: resource ${colours.keyword}, identifier ${colours.ident}, punctuation ${colours.brace}`);

  // 3. Hover on `data_key` (from carbon-lsp). The first hovers may come before the server is up,
  //    so ask again until the text arrives.
  const hovers = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content');
  const hoverText = await poll(async () => {
    await goTo(page, KEY_LINE, KEY_NAME_COLUMN);
    await runCommand(page, 'Show or Focus Hover');
    const wanted = hovers.filter({ hasText: 'aws.kms.Key' }).first();
    if (await wanted.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false)) {
      return norm(await wanted.textContent());
    }
    await page.keyboard.press('Escape');
    return undefined;
  }, 45_000, 500);
  if (!hoverText) {
    const shown = (await hovers.allTextContents()).map(norm).map((t) => t.trim().slice(0, 300));
    fail(`hovering \`data_key\` on line ${KEY_LINE} did not show text containing "aws.kms.Key"; ` +
      `hovers shown: ${JSON.stringify(shown)}`);
  }
  log(`hover: ${hoverText.trim().replace(/\s+/g, ' ').slice(0, 120)}`);
  await screenshot(page, 'hover.png');
  await page.keyboard.press('Escape');

  // 4. No errors before the edit.
  const squiggles = page.locator('.monaco-editor .squiggly-error');
  await sleep(1_000);
  const before = await squiggles.count();
  if (before > 0) {
    fail(`examples/global.carbon shows ${before} error squiggle(s) before any edit`);
  }

  // 5. Type the cross-region mistake: `data_key[r]` becomes `data_key[use1]` on line 157.
  await goTo(page, MISTAKE_LINE, 1);
  const original = await readLine(page, MISTAKE_LINE, 'secrets_key = data_key[r]');
  if (!original.startsWith('secrets_key = data_key[r]')) {
    fail(`line ${MISTAKE_LINE} reads "${original}", not "secrets_key = data_key[r]"`);
  }
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.type('use1');
  const edited = await readLine(page, MISTAKE_LINE, 'secrets_key = data_key[use1]');
  if (!edited.startsWith('secrets_key = data_key[use1]')) {
    fail(`after typing, line ${MISTAKE_LINE} reads "${edited}"`);
  }
  log(`typed: ${edited}`);

  const appeared = await poll(async () => (await squiggles.count()) > 0, 30_000);
  if (!appeared) {
    fail(`no error squiggle appeared within 30 s of typing \`data_key[use1]\` on line ${MISTAKE_LINE}`);
  }
  log('error squiggle shown');

  // 6. The Problems panel names the error with its code, on the edited line.
  await runCommand(page, 'Problems: Focus on Problems View');
  const rows = page.locator('.markers-panel .monaco-list-row');
  const problem = await poll(async () => {
    const texts = (await rows.allTextContents()).map(norm);
    return texts.find((t) => t.includes('E0301'));
  }, 15_000);
  if (!problem) {
    const texts = (await rows.allTextContents()).map(norm);
    fail(`the Problems panel has no E0301 entry; its rows: ${JSON.stringify(texts)}`);
  }
  if (!problem.includes(`Ln ${MISTAKE_LINE}`)) {
    fail(`the E0301 problem is not on line ${MISTAKE_LINE}: "${problem}"`);
  }
  log(`problem: ${problem.replace(/\s+/g, ' ').slice(0, 160)}`);
  await screenshot(page, 'diagnostic.png');

  // 7. "Carbon: Plan current file" saves the file and runs carbonc in its folder. The program now has
  //    an error, so carbonc reports it and exits with 1; what matters here is that the command ran
  //    it and the "Carbon Plan" channel shows its output.
  if (!carboncBin) {
    log(`no carbonc at ${path.join(targetDir, 'debug/carbonc')}: the plan command is not checked`);
    return;
  }
  await runCommand(page, 'Carbon: Plan current file');
  const output = page.locator('.panel .output-view, .panel [id="workbench.panel.output"]').first();
  const planText = await poll(async () => {
    const t = norm(await output.textContent({ timeout: 1_000 }).catch(() => ''));
    return t.includes('carbonc exited with') ? t : undefined;
  }, 30_000);
  if (!planText) {
    const t = norm(await output.textContent({ timeout: 1_000 }).catch(() => '(no output panel)'));
    fail(`"Carbon: Plan current file" did not show carbonc's output in the Carbon Plan channel; it shows: "${t.slice(0, 500)}"`);
  }
  // The panel shows only the last lines; VS Code also writes the whole channel to its logs.
  const readLog = () => findFiles(path.join(userData, 'logs'), (f) => f.endsWith('-Carbon Plan.log'))
    .map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const complete = (t) => t.includes('$ carbonc plan --no-color global.carbon') && t.includes('E0301') &&
    t.includes('carbonc exited with');
  await poll(() => complete(readLog()), 10_000);
  const logged = readLog();
  if (!complete(logged)) {
    fail(`the Carbon Plan channel does not show the plan of global.carbon with its E0301 error: "${logged.slice(0, 800)}"`);
  }
  log('plan command: carbonc ran and reported E0301');
  await screenshot(page, 'plan.png');
}

// ---- main -----------------------------------------------------------------------------------------

async function main() {
  checkInputs();
  fs.mkdirSync(artifacts, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carbon-e2e-'));
  for (const dir of ['home', 'run', 'tmp', 'user-data/User', 'extensions']) {
    fs.mkdirSync(path.join(tmp, dir), { recursive: true, mode: 0o700 });
  }
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  const workspace = path.join(tmp, 'examples');
  const serverLog = path.join(tmp, 'code-server.log');
  copyExamples(workspace);
  fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify({
    'carbon.server.path': serverBin,
    ...(carboncBin ? { 'carbon.carbonc.path': path.resolve(carboncBin) } : {}),
    'carbon.trace.server': 'messages',
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'chat.commandCenter.enabled': false,
    'editor.minimap.enabled': false,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.parameterHints.enabled': false,
    'editor.hover.delay': 200,
    'files.autoSave': 'off',
  }, null, 2));

  const env = codeServerEnv(tmp);
  let child;
  let browser;
  let page;
  const cleanup = async () => {
    if (browser) {
      await browser.close().catch(() => {});
      browser = undefined;
    }
    await stopProcessGroup(child);
  };
  const onSignal = (sig) => {
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let ok = false;
  try {
    log(`installing ${path.basename(vsix)}`);
    installExtension(env, userData, extensions);
    const port = await freePort();
    child = await startCodeServer(env, port, userData, extensions, workspace, serverLog);
    log(`code-server on 127.0.0.1:${port}`);

    const require = createRequire(path.join(depsDir, 'package.json'));
    const { chromium } = require('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      env: { ...env, HOME: path.join(tmp, 'home') },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15_000);
    await checkEditor(page, port, workspace, userData);
    ok = true;
  } catch (err) {
    if (page) {
      await screenshot(page, 'failure.png').catch(() => {});
    }
    // Keep what explains a failure: code-server's output and VS Code's logs (the extension host's,
    // and the "Carbon Language Server" channel with the LSP traffic).
    const keep = path.join(artifacts, 'logs');
    fs.rmSync(keep, { recursive: true, force: true });
    fs.mkdirSync(keep, { recursive: true });
    if (fs.existsSync(serverLog)) {
      fs.copyFileSync(serverLog, path.join(keep, 'code-server.log'));
    }
    if (fs.existsSync(path.join(userData, 'logs'))) {
      fs.cpSync(path.join(userData, 'logs'), path.join(keep, 'vscode'), { recursive: true });
    }
    console.error(`\ne2e FAILED: ${err instanceof CheckFailed ? err.message : err.stack || err}`);
    console.error(`logs and screenshot: ${path.relative(repo, artifacts) || artifacts}`);
  } finally {
    await cleanup();
    if (process.env.CARBON_E2E_KEEP === '1') {
      log(`kept ${tmp}`);
    } else {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (!ok) {
    process.exit(1);
  }
  log('all checks passed');
}

await main();
