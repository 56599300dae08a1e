/** One line per finished epoch, the same in the terminal (aexp) and in the notebook's train cell. */
import type { MetricsRecord } from '../protocol';

interface EpochNumbers {
  epoch: number;
  units?: string;
  train?: { loss: number };
  test?: { loss: number; reconstruction: number; kl?: number; elbo?: number };
  samplesPerSecond?: number;
}

export function epochLine(record: MetricsRecord): string {
  const numbers = record as unknown as EpochNumbers;
  const parts = [`epoch ${numbers.epoch}:`];
  if (numbers.train) parts.push(`train ${numbers.train.loss.toFixed(2)}`);
  if (numbers.test) parts.push(`· test ${numbers.test.loss.toFixed(2)} (reconstruction ${numbers.test.reconstruction.toFixed(2)}${numbers.test.kl !== undefined && numbers.test.elbo !== undefined ? ` · KL ${numbers.test.kl.toFixed(2)}` : ''})`);
  if (numbers.units) parts.push(`${numbers.units}/example`);
  if (numbers.samplesPerSecond) parts.push(`· ${Math.round(numbers.samplesPerSecond)} ex/s`);
  return parts.join(' ');
}
