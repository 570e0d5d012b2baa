// `npm run bench -- [--scenario NAME] [--connections N] [--duration S] [--orders N] [--workers N] [--replica] [--pooler] [--quick] [--out DIR]`
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartSvg } from './chart.js';
import { Cleanup } from './cleanup.js';
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './options.js';
import { Progress } from './progress.js';
import { markdownOf, summaryOf, type BenchReport } from './report.js';
import { failedRuns, runBench } from './run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fileStamp(iso: string): string {
  // 2026-11-27T15:30:12.345Z -> 2026-11-27-153012 (UTC)
  return `${iso.slice(0, 10)}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

async function writeResults(report: BenchReport, options: BenchOptions): Promise<string[]> {
  const dir = path.resolve(options.out);
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${fileStamp(report.startedAt)}-${report.scenario}`);
  await writeFile(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  await writeFile(`${base}.svg`, chartSvg(report));
  await writeFile(`${base}.md`, markdownOf(report, `${path.basename(base)}.svg`));
  return [`${base}.json`, `${base}.md`, `${base}.svg`];
}

async function main(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }

  const progress = new Progress();
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress.log(`${signal}: stopping the servers and removing the database`);
    void cleanup.run((m) => progress.log(m)).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const report = await runBench(options, { root: ROOT, env: process.env, progress, cleanup });
    await cleanup.run((m) => progress.log(m));
    const files = await writeResults(report, options);
    process.stdout.write(`${summaryOf(report)}\n`);
    for (const aim of report.aims) if (aim.met === false) progress.log(`aim missed: ${aim.aim}: ${aim.scenario === 'all' ? '' : `${aim.scenario} on `}${aim.target}: ${aim.value}`);
    progress.log(`results: ${files.join(', ')}`);
    const failures = failedRuns(report);
    for (const f of failures) progress.log(`FAILED ${f}`);
    return failures.length > 0 ? 1 : 0;
  } catch (err) {
    progress.log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanup.run((m) => progress.log(m));
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
