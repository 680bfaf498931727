// The server under test: `idp serve` from an already built binary, on a free port, with a fresh
// SQLite database and fresh signing keys in a temporary folder, demo mode on and the demo data
// seeded. Nothing is compiled here: `make browser-test` builds first.
//
// One server serves the whole run: `run.mjs` starts it and hands its description to every test
// file through IDP_BROWSER_SERVER; a test file run on its own (`node --test FILE`) starts its own.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 30_000;

/** What a test needs to know about the running server; written as JSON for the test files. */
export class ServerInfo {
  constructor({ baseUrl, bin, env, workDir, seed, pid = null }) {
    Object.assign(this, { baseUrl, bin, env, workDir, seed, pid });
  }

  url(pathAndQuery) {
    return new URL(pathAndQuery, this.baseUrl).toString();
  }

  /** Runs `idp ARGS…` against the same database and keys as the server. */
  idp(args) {
    return runIdp(this.bin, args, this.env, this.workDir);
  }
}

function runIdp(bin, args, env, cwd) {
  const result = spawnSync(bin, args, { env, cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`cannot run ${bin} ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The environment of the server and of the CLI calls: ours alone, whatever the caller set. */
function serverEnv(workDir, port) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    // A developer's IDP__ISSUER or IDP_CONFIG must not leak into the run, nor the suite's own
    // IDP_BROWSER_SERVER (a second server started by a test file): idp refuses unknown IDP_ names.
    if (!key.startsWith('IDP_') && key !== 'RUST_LOG') env[key] = value;
  }
  return {
    ...env,
    IDP__HTTP__BIND: `127.0.0.1:${port}`,
    IDP__DATABASE__URL: `sqlite://${path.join(workDir, 'idp.db')}`,
    IDP__KEYS__DIR: path.join(workDir, 'keys'),
    IDP__DEMO__ENABLED: 'true',
    IDP__LOG__FORMAT: 'json',
    // The design system the pages link to, as `npm ci` installs it (the server runs elsewhere).
    IDP__UI__ASSETS_DIR: path.join(REPOSITORY, 'node_modules/@gouvfr/dsfr/dist'),
    // A helper held back by wrong passwords stays so until the manager unlocks them, even when
    // the manager's next one-time code is half a minute away (the default first wait is 30 s).
    IDP__LOGIN__FIRST_DELAY_SECONDS: '600',
  };
}

async function logTail(file, lines = 40) {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Seeds the demo data, starts `idp serve` and waits until `/readyz` answers 200.
 * `env` adds settings (`{ IDP__UI__THEME: 'neutral' }` for a second server in another theme).
 * Returns the server's description and a function that stops it (and removes its folder).
 */
export async function startServer({ env: extra = {} } = {}) {
  const bin = path.resolve(REPOSITORY, process.env.IDP_BIN || 'target/debug/idp');
  const workDir = await mkdtemp(path.join(tmpdir(), 'idp-browser-'));
  const port = await freePort();
  const env = { ...serverEnv(workDir, port), ...extra };
  const baseUrl = `http://127.0.0.1:${port}`;

  // The working directory is the temporary folder, so that an ./idp.toml of the developer's
  // checkout is not read either.
  const seeded = runIdp(bin, ['demo', 'seed'], env, workDir);
  if (seeded.status !== 0) {
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`${bin} demo seed failed (exit ${seeded.status}):\n${seeded.stderr}`);
  }
  const seed = JSON.parse(seeded.stdout);

  const logFile = path.join(workDir, 'server.log');
  const log = openSync(logFile, 'a');
  const child = spawn(bin, ['serve'], { env, cwd: workDir, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  // Should the test process end without its `after` hook, the server does not outlive it.
  const killOnExit = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(`idp serve stopped before being ready (${JSON.stringify(exited)}):\n${await logTail(logFile)}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`idp serve not ready after ${READY_TIMEOUT_MS / 1000} s:\n${await logTail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const info = new ServerInfo({ baseUrl, bin, env, workDir, seed, pid: child.pid });
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const stopped = new Promise((resolve) => child.once('exit', resolve));
      // SIGTERM: the server lets requests in flight finish (10 s at most).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await stopped;
      clearTimeout(timer);
    }
    if (process.env.IDP_BROWSER_KEEP_TMP) {
      console.log(`browser suite: server files kept in ${workDir}`);
    } else {
      await rm(workDir, { recursive: true, force: true });
    }
  };
  return { info, stop, logFile };
}

/** Writes the description the test files read (IDP_BROWSER_SERVER). */
export async function writeServerInfo(info, file) {
  await writeFile(file, JSON.stringify(info, null, 2));
}

export async function readServerInfo(file) {
  return new ServerInfo(JSON.parse(await readFile(file, 'utf8')));
}
