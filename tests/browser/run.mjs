// The browser suite's entry point (`make browser-test`). With BROWSER_THEME=dsfr|neutral: one
// server for the whole run, then every `*.test.mjs` file of this folder (or the files named as
// arguments) under Node's test runner, one file at a time (they share the demo helper, whose
// one-time codes each work once).
//
// With BROWSER_THEMES="dsfr neutral" (what `make browser-test` sets): one such run per theme, all
// at the same time, each with its own server, database and screenshots folder. Most of a run is
// spent waiting (pages, the server, Chromium's processes), so two runs share two cores well. Each
// line a run prints comes with its theme; a failed run's whole output is printed again at the end,
// in one piece, and the exit status is a failure when any run failed.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { clearScreenshots, codeWaits, SCREENSHOTS, THEME } from './harness.mjs';
import { startServer, writeServerInfo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The theme test compares the two themes itself: it runs with the default one only.
const forTheme = (theme, files) => files.filter((f) => theme === 'dsfr' || path.basename(f) !== 'themes.test.mjs');

const themes = (process.env.BROWSER_THEMES || '').split(/[\s,]+/).filter(Boolean);
process.exit(themes.length > 0 ? await runThemes(themes, process.argv.slice(2)) : await runOne());

/** Runs the suite once per theme, at the same time; resolves to the exit status. */
async function runThemes(themes, files) {
  const runs = themes
    .filter((theme) => files.length === 0 || forTheme(theme, files).length > 0)
    .map((theme) => {
      const started = Date.now();
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...forTheme(theme, files)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BROWSER_THEMES: '', BROWSER_THEME: theme },
      });
      const lines = [];
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          console.log(`[${theme}] ${line}`);
        });
      }
      const ended = new Promise((resolve) => {
        child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), at: Date.now() }));
      });
      return { theme, child, lines, started, ended };
    });
  const forward = (signal) => runs.forEach((run) => run.child.kill(signal));
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  let status = 0;
  const summary = [];
  for (const run of runs) {
    const { code, at } = await run.ended;
    const seconds = Math.round((at - run.started) / 1000);
    summary.push(`browser suite, ${run.theme} theme: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s`);
    if (code !== 0) {
      status = 1;
      console.log(`\n==== browser suite, ${run.theme} theme, its whole output:\n${run.lines.join('\n')}\n====`);
    }
  }
  console.log(summary.join('\n'));
  return status;
}

/** Runs the suite in THEME; resolves to the exit status. */
async function runOne() {
  const files = forTheme(
    THEME,
    process.argv.length > 2
      ? process.argv.slice(2)
      : readdirSync(here)
          .filter((f) => f.endsWith('.test.mjs'))
          .sort()
          .map((f) => path.join(here, f)),
  );

  await clearScreenshots();
  const { info, stop, logFile } = await startServer({ env: { IDP__UI__THEME: THEME } });
  console.log(`browser suite (${THEME} theme): idp serve on ${info.baseUrl} (pid ${info.pid}), log ${logFile}`);
  const serverFile = path.join(info.workDir, 'server.json');
  await writeServerInfo(info, serverFile);

  const runner = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    stdio: 'inherit',
    env: { ...process.env, IDP_BROWSER_SERVER: serverFile },
  });
  const forward = (signal) => runner.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const status = await new Promise((resolve) => runner.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  const { codes, waitedMs } = await codeWaits(info.workDir);
  console.log(`browser suite (${THEME} theme): ${codes} one-time codes, ${(waitedMs / 1000).toFixed(1)} s spent waiting for a free time step`);
  if (status !== 0) {
    console.log(`browser suite: last lines of the server's log (${logFile}):`);
    const lines = (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n');
    console.log(lines.slice(-30).join('\n'));
    process.env.IDP_BROWSER_KEEP_TMP ||= '1';
  }
  await stop();
  console.log(`browser suite: screenshots in ${SCREENSHOTS}`);
  return status;
}
