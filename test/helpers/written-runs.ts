/**
 * Run folders written with the run-folder module (not trained): config.json, metrics.jsonl,
 * summary.json and views/, as a real run leaves them, for the Runs panel's tests.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../runtime/protocol';
import type { RunConfig } from '../../runtime/run-folder';
import { MetricsLog, writeRunConfig, writeRunSummary } from '../../runtime/run-folder';
import { writeViewEpoch, writeViewInputs } from '../../runtime/views-data';

export interface WrittenRun {
  experiment: string;
  /** The run's start: the folder's name. */
  start: Date;
  lr?: number;
  seed?: number;
  latent?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** undefined: no summary.json (a run still going, or killed). */
  status?: RunSummary['status'];
  /** The test split's examples the views show; runs sharing them share their inputs. */
  examples?: number[];
  /** Write views/ with 4 images of 8×8 per epoch. */
  views?: boolean;
  sourceFile?: string;
  /** The model cell's kind (vae unless given), and more model keys, e.g. the defaults config.json stores whatever the kind. */
  kind?: string;
  model?: Record<string, unknown>;
  /** summary.json's device; JavaScript unless given. */
  device?: string;
  /** false: no per-step records, as a run of fewer steps than its log_every writes. */
  stepRecords?: boolean;
}

export function runFolderName(start: Date): string {
  return start.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
}

/** Writes the run under `<root>/<experiment>/<start>`; returns its folder. Losses fall with the learning rate's size, so runs differ. */
export function writeRun(root: string, run: WrittenRun): string {
  const runDir = path.join(root, run.experiment, runFolderName(run.start));
  mkdirSync(runDir, { recursive: true });
  const { lr = 1e-3, seed = 1, latent = 4, epochs = 3, stepsPerEpoch = 10 } = run;
  const config: RunConfig = {
    version: 1,
    sourceFile: run.sourceFile ?? path.join(root, `${run.experiment}.aexp`),
    title: run.experiment,
    seed,
    data: { dataset: 'sprites', batch: 32 } as RunConfig['data'],
    model: { kind: run.kind ?? 'vae', latent, encoder: ['dense 64 relu'], ...run.model } as unknown as RunConfig['model'],
    train: { epochs, optimizer: 'adam', lr } as RunConfig['train'],
    backend: 'cpu',
    dataDir: '/data',
    configHash: `hash-${seed}-${lr}-${latent}`,
  };
  writeRunConfig(runDir, config);
  const log = new MetricsLog(runDir);
  const time = (seconds: number) => new Date(run.start.getTime() + seconds * 1000).toISOString();
  const loss = (step: number) => 100 / (1 + step * lr * 100) + seed * 0.01;
  let best = { epoch: 1, loss: Infinity };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let batch = 1; batch <= (run.stepRecords === false ? 0 : stepsPerEpoch); batch++) {
      const step = (epoch - 1) * stepsPerEpoch + batch;
      log.append({ kind: 'train', epoch, step, time: time(step), loss: loss(step), reconstruction: loss(step) * 0.9, kl: loss(step) * 0.1, lr });
    }
    const step = epoch * stepsPerEpoch;
    const test = { loss: loss(step) + 1, reconstruction: loss(step) * 0.9 + 1, kl: loss(step) * 0.1, mse: 0.01, psnr: 20 };
    if (test.loss < best.loss) best = { epoch, loss: test.loss };
    log.append({ kind: 'epoch', epoch, step, time: time(step), units: 'nats', train: { loss: loss(step), reconstruction: loss(step) * 0.9, kl: loss(step) * 0.1 }, test, samplesPerSecond: 1000, tensors: 10 });
    if (run.views) writeEpochViews(runDir, epoch, run.examples ?? [0, 1, 2, 3], lr);
  }
  log.close();
  if (run.status) {
    const last = epochs * stepsPerEpoch;
    const summary: RunSummary = {
      title: run.experiment, status: run.status, backend: 'cpu', device: run.device ?? 'JavaScript', dataset: 'sprites', model: 'vae', parameters: 1000,
      epochs, targetEpochs: epochs, steps: last, units: 'nats', train: { loss: loss(last), reconstruction: loss(last) * 0.9, kl: loss(last) * 0.1 },
      test: { loss: loss(last) + 1, reconstruction: loss(last) * 0.9 + 1, kl: loss(last) * 0.1, mse: 0.01, psnr: 20 }, best, durationSeconds: last,
    };
    writeRunSummary(runDir, summary);
  }
  return runDir;
}

function writeEpochViews(runDir: string, epoch: number, examples: number[], lr: number): void {
  const shape: [number, number, number] = [8, 8, 1];
  const pixels = shape[0] * shape[1];
  const inputs = new Uint8Array(examples.length * pixels).map((_, index) => ((examples[Math.floor(index / pixels)] * 37 + index) * 13) % 256);
  if (epoch === 1) writeViewInputs(runDir, { modelKind: 'vae', units: 'nats', examples, shape, inputs });
  // Closer to the inputs every epoch, and differently for each learning rate.
  const reconstructions = inputs.map((value) => Math.round(value * (1 - 1 / (epoch + 1)) + 128 * lr * 100 / (epoch + 1)) & 255);
  const loss = new Float32Array(examples.length).fill(10 / epoch);
  writeViewEpoch(runDir, shape, { epoch, reconstructions, loss, reconstruction: loss, kl: new Float32Array(examples.length).fill(1) });
}
