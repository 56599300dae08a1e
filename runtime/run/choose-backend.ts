/** The backend a run trains on: selected, then checked against cpu on the run's own model. */
import type { CheckSubject } from '../backends/check';
import { CHECK_TOLERANCE, verifyBackend } from '../backends/check';
import type { BackendInfo, BackendName, ConcreteBackend } from '../backends/select';
import { BackendError, selectBackend } from '../backends/select';
import type { Autoencoder } from '../model/build';
import type { EngineEvent } from '../protocol';

/**
 * Selects the backend and builds the model on it. A backend other than cpu must first pass the
 * gradient check on this model; `auto` then moves on to the next candidate, an explicit choice is refused.
 */
export async function chooseBackend(requested: BackendName, subject: Omit<CheckSubject, 'build'> & { build: () => Autoencoder }, emit: (event: EngineEvent) => void): Promise<{ backend: BackendInfo; model: Autoencoder }> {
  const refused: ConcreteBackend[] = [];
  for (;;) {
    const backend = await selectBackend(requested, { exclude: refused });
    for (const reason of backend.skipped) emit({ type: 'log', level: 'info', message: `auto: skipped ${reason}` });
    const verdict = await verifyBackend(backend, subject);
    if (verdict.ok) {
      if (backend.backend !== 'cpu') emit({ type: 'log', level: 'info', message: `gradient check against cpu: ${verdict.error.toExponential(1)} relative (largest, in ${verdict.where})${verdict.cached ? ', cached verdict' : ''}` });
      return { backend, model: subject.build() };
    }
    const message = `the ${backend.backend} backend (${backend.device}) failed the gradient check against cpu on this model: ${verdict.where} differs by ${verdict.error.toExponential(2)} relative (tolerance ${CHECK_TOLERANCE})`;
    if (requested !== 'auto') throw new BackendError(`${message}; it is refused. Choose another with --backend (wasm or cpu)`);
    emit({ type: 'log', level: 'warning', message: `${message}; trying the next backend` });
    refused.push(backend.backend);
  }
}
