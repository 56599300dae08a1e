/** `aexp evaluate`: a finished run's metrics without training; `--json` prints one JSON object on stdout. */
import { REPORT_METRICS, evaluateRun } from '../analysis/evaluate-run';
import { reportTable } from '../analysis/metric-report';
import { openRun } from '../run/open-run';
import { checkBackend, RUN_OPTIONS, runFolderArgument } from './latents';
import { UsageError, parseArguments, positiveInteger } from './support';

const DEFAULT_METRICS = ['loss', 'reconstruction', 'kl', 'elbo', 'mse', 'psnr'];

export async function evaluateVerb(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArguments({ args: argv, allowPositionals: true, options: { ...RUN_OPTIONS, metrics: { type: 'string' }, k: { type: 'string' }, json: { type: 'boolean' } } });
  const runDir = runFolderArgument('evaluate', positionals);
  const metrics = values.metrics === undefined ? DEFAULT_METRICS : values.metrics.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  const unknown = metrics.filter((name) => !REPORT_METRICS.includes(name));
  if (unknown.length > 0) throw new UsageError(`--metrics: unknown ${unknown.map((name) => `"${name}"`).join(', ')}; choose from ${REPORT_METRICS.join(', ')}`);
  if (metrics.length === 0) throw new UsageError(`--metrics: name at least one of ${REPORT_METRICS.join(', ')}`);
  const k = positiveInteger(values.k, '--k');
  if (k !== undefined && !metrics.includes('iwae')) throw new UsageError('--k sets the IWAE bound\'s importance samples: add iwae to --metrics');
  const run = await openRun(runDir, { checkpoint: values.checkpoint, dataDir: values['data-dir'], backend: checkBackend(values.backend), data: true, signal });
  try {
    const report = await evaluateRun({ model: run.model, dataset: run.dataset!, config: run.config }, { metrics, k, checkpoint: run.checkpoint, epoch: run.epoch, signal, onProgress: (message) => process.stderr.write(`${message}\n`) });
    if (values.json) process.stdout.write(`${JSON.stringify({ run: runDir, backend: run.backend.backend, ...report })}\n`);
    else process.stdout.write(`${reportTable(report)}\n`);
    return 0;
  } finally {
    run.dispose();
  }
}
