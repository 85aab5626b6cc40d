// The carbon extension: starts carbon-lsp for `.carbon` files and adds the "Carbon: Plan current file"
// command. Highlighting, snippets and the language configuration are declared in package.json.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.LogOutputChannel | undefined} */
let serverChannel;
/** @type {vscode.OutputChannel | undefined} */
let planChannel;
/** The running `carbonc plan`, so that a second run can stop the first. */
let planProcess;

/** Expands a leading `~` and `${workspaceFolder}` in a path from the settings. */
function expandPath(p) {
  let out = p.trim();
  if (out === '~' || out.startsWith('~/')) {
    out = path.join(os.homedir(), out.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
  }
  return out;
}

/** The path of an executable file called `name` on PATH, or undefined. */
function findOnPath(name) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // Not here; try the next directory.
      }
    }
  }
  return undefined;
}

/**
 * Resolves a configured binary: a path in the settings must exist, a bare name is looked up on PATH.
 * Returns `{ command }` or `{ error }` with a sentence for the user.
 */
function resolveBinary(setting, fallbackName) {
  const configured = expandPath(vscode.workspace.getConfiguration('carbon').get(setting, '') || '');
  const name = configured === '' ? fallbackName : configured;
  if (name.includes('/') || name.includes(path.sep)) {
    const abs = path.resolve(name);
    try {
      fs.accessSync(abs, fs.constants.X_OK);
      if (fs.statSync(abs).isFile()) {
        return { command: abs };
      }
    } catch {
      // Reported below.
    }
    return { error: `\`${abs}\` (the setting \`carbon.${setting}\`) does not exist or is not an executable file.` };
  }
  const found = findOnPath(name);
  if (found) {
    return { command: found };
  }
  const why = configured === '' ? ` (the setting \`carbon.${setting}\` is empty)` : '';
  return { error: `\`${name}\` was not found on PATH${why}.` };
}

async function showServerError(message) {
  const open = 'Open Settings';
  const log = 'Show Log';
  const choice = await vscode.window.showErrorMessage(`Carbon: cannot start the language server: ${message}`, open, log);
  if (choice === open) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'carbon.server.path');
  } else if (choice === log && serverChannel) {
    serverChannel.show();
  }
}

async function startServer() {
  const resolved = resolveBinary('server.path', 'carbon-lsp');
  if (resolved.error) {
    const hint = 'Build it with `cargo build -p carbon-lsp` and set `carbon.server.path` to the binary, or put it on PATH.';
    serverChannel.error(`${resolved.error} ${hint}`);
    // Not awaited: the message stays until the user closes it, and activation must not wait for that.
    void showServerError(`${resolved.error} ${hint}`);
    return;
  }
  serverChannel.info(`starting ${resolved.command}`);
  const executable = { command: resolved.command, args: [], transport: TransportKind.stdio };
  const serverOptions = { run: executable, debug: executable };
  const clientOptions = {
    documentSelector: [{ language: 'carbon' }],
    outputChannel: serverChannel,
    // Also tell the server about `.carbon` files changed outside the editor (imports, stdlib copies).
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.carbon') },
  };
  client = new LanguageClient('carbon', 'Carbon Language Server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    const message = `\`${resolved.command}\` failed to start: ${err && err.message ? err.message : err}`;
    serverChannel.error(message);
    client = undefined;
    void showServerError(message);
  }
}

async function stopServer() {
  if (!client) {
    return;
  }
  const old = client;
  client = undefined;
  try {
    await old.stop();
  } catch (err) {
    serverChannel.warn(`stopping the server: ${err && err.message ? err.message : err}`);
  }
}

async function restartServer() {
  await stopServer();
  await startServer();
}

/** Runs `carbonc plan FILE` in the file's folder and shows the output in the "Carbon Plan" channel. */
async function planCurrentFile() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    vscode.window.showErrorMessage('Carbon: open a .carbon file to plan it.');
    return;
  }
  const doc = editor.document;
  if (doc.isDirty && !(await doc.save())) {
    vscode.window.showErrorMessage('Carbon: the file could not be saved, so it was not planned.');
    return;
  }
  const resolved = resolveBinary('carbonc.path', 'carbonc');
  if (resolved.error) {
    vscode.window.showErrorMessage(`Carbon: cannot run carbonc: ${resolved.error}`);
    return;
  }
  if (planProcess) {
    planProcess.kill();
  }
  const file = doc.uri.fsPath;
  const cwd = path.dirname(file);
  const args = ['plan', '--no-color', path.basename(file)];
  planChannel.clear();
  planChannel.show(true);
  planChannel.appendLine(`$ carbonc ${args.join(' ')}    (in ${cwd})`);
  const started = Date.now();
  const proc = childProcess.spawn(resolved.command, args, { cwd, env: process.env });
  planProcess = proc;
  proc.stdout.on('data', (chunk) => planChannel.append(chunk.toString()));
  proc.stderr.on('data', (chunk) => planChannel.append(chunk.toString()));
  proc.on('error', (err) => {
    planChannel.appendLine(`carbonc could not be started: ${err.message}`);
  });
  proc.on('close', (code, signal) => {
    if (planProcess === proc) {
      planProcess = undefined;
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    planChannel.appendLine(signal ? `\ncarbonc stopped by ${signal}` : `\ncarbonc exited with ${code} after ${secs} s`);
  });
}

async function activate(context) {
  serverChannel = vscode.window.createOutputChannel('Carbon Language Server', { log: true });
  planChannel = vscode.window.createOutputChannel('Carbon Plan');
  context.subscriptions.push(serverChannel, planChannel);
  context.subscriptions.push(
    vscode.commands.registerCommand('carbon.restartServer', restartServer),
    vscode.commands.registerCommand('carbon.plan', planCurrentFile),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('carbon.server.path')) {
        restartServer();
      }
    }),
  );
  await startServer();
}

async function deactivate() {
  if (planProcess) {
    planProcess.kill();
  }
  await stopServer();
}

module.exports = { activate, deactivate };
