// `attnlab report <run>`: re-render report.html, figures and metrics.csv from results.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENT_IDS, validateResult } from '@attnlab/experiments';
import type { ParsedArgs } from './args.js';
import { isConfigError, lookupExperiment } from './driver.js';
import { CliError } from './errors.js';
import { writeRunOutputs } from './outputs.js';
import { parseRunFile, type RunFile } from './run-file.js';
import {
  acquireRunLock,
  atomicWrite,
  claimRunDir,
  cleanTempFiles,
  CONFIG_FILE,
  readJsonFile,
  RESULTS_FILE,
} from './run-folder.js';
import type { Io } from './term.js';

export async function report(args: ParsedArgs, io: Io): Promise<number> {
  const dir = args.positionals.run!;
  const resultsPath = join(dir, RESULTS_FILE);
  if (!existsSync(dir)) throw new CliError(`'report': ${dir} is not a run folder (no such folder)`, 2);
  const json = readJsonFile(resultsPath, 'a run folder has results.json once its run has ended or was interrupted') as {
    experiment?: unknown;
  };
  if (typeof json?.experiment !== 'string' || !EXPERIMENT_IDS.includes(json.experiment as never)) {
    throw new CliError(
      `${resultsPath}: experiment must be one of ${EXPERIMENT_IDS.join(', ')}; got ${JSON.stringify(json?.experiment)}`,
      2,
    );
  }
  const exp = lookupExperiment(json.experiment);
  let result;
  try {
    result = validateResult(exp, json);
  } catch (e) {
    if (isConfigError(e)) throw new CliError(`${resultsPath}: ${e.message}`, 2);
    throw e;
  }
  const cfgPath = join(dir, CONFIG_FILE);
  const runFile: RunFile = existsSync(cfgPath)
    ? parseRunFile(readJsonFile(cfgPath, 'the run config'), cfgPath, EXPERIMENT_IDS)
    : { experiment: result.experiment, config: result.config as Record<string, unknown> };
  const out = (args.flags.out as string | undefined) ?? dir;
  // Under the lock of the folder written: never while a run (or another report) writes it.
  const release = out === dir ? acquireRunLock(dir, `report ${dir}`) : claimRunDir(out, `report ${dir}`).release;
  let written;
  try {
    if (out !== dir) atomicWrite(join(out, CONFIG_FILE), `${JSON.stringify(runFile, null, 2)}\n`);
    else cleanTempFiles(dir);
    written = writeRunOutputs(out, result, runFile, exp, out === dir);
  } finally {
    release();
  }
  if (args.flags.quiet !== true) for (const w of written.warnings) io.err(`warning: ${w}`);
  const msg = `report: ${written.report} (${written.figures} figures in ${join(out, 'figures')})`;
  if (args.flags.json === true)
    io.out(JSON.stringify({ report: written.report, figures: written.figures, folder: out }, null, 2));
  else io.out(msg);
  return 0;
}
