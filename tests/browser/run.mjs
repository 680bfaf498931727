// The browser suite's entry point (`make browser-test`, once per theme: BROWSER_THEME=dsfr|neutral):
// one server for the whole run, then every
// `*.test.mjs` file of this folder (or the files named as arguments) under Node's test runner, one
// file at a time (they share the demo helper, whose one-time codes each work once).

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { clearScreenshots, SCREENSHOTS, THEME } from './harness.mjs';
import { startServer, writeServerInfo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(here)
        .filter((f) => f.endsWith('.test.mjs'))
        // The theme test compares the two themes itself: it runs with the default one only.
        .filter((f) => THEME === 'dsfr' || f !== 'themes.test.mjs')
        .sort()
        .map((f) => path.join(here, f));

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
if (status !== 0) {
  console.log(`browser suite: last lines of the server's log (${logFile}):`);
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n');
  console.log(lines.slice(-30).join('\n'));
  process.env.IDP_BROWSER_KEEP_TMP ||= '1';
}
await stop();
console.log(`browser suite: screenshots in ${SCREENSHOTS}`);
process.exit(status);
