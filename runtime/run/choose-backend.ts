/** The backend a run trains on: selected, then checked against cpu on the run's own model. */
import type { CheckSubject } from '../backends/check';
import { CHECK_TOLERANCE, stopIfAborted, verifyBackend } from '../backends/check';
import type { BackendInfo, BackendName, ConcreteBackend } from '../backends/select';
import { BackendError, selectBackend } from '../backends/select';
import type { Autoencoder } from '../model/build';
import { disposeAutoencoder } from '../model/build';
import type { EngineEvent } from '../protocol';

export interface BackendSubject extends Omit<CheckSubject, 'build'> {
  build: () => Autoencoder;
  /** Refuses (throws) what cannot fit on this backend, before anything is built on it. */
  checkMemory: (backend: ConcreteBackend) => void;
}

/**
 * Selects the backend and builds the model on it. A backend other than cpu must first pass the
 * gradient check on this model; `auto` then moves on to the next candidate, an explicit choice is
 * refused. Ctrl-C (the subject's signal) stops it between steps with an `AbortError`.
 */
export async function chooseBackend(requested: BackendName, subject: BackendSubject, emit: (event: EngineEvent) => void): Promise<{ backend: BackendInfo; model: Autoencoder }> {
  const refused: ConcreteBackend[] = [];
  for (;;) {
    await stopIfAborted(subject.signal, 'choosing a backend');
    const backend = await selectBackend(requested, { exclude: refused });
    for (const reason of backend.skipped) emit({ type: 'log', level: 'info', message: `auto: skipped ${reason}` });
    subject.checkMemory(backend.backend);
    await stopIfAborted(subject.signal, 'choosing a backend');
    if (backend.backend !== 'cpu') emit({ type: 'log', level: 'info', message: `checking the ${backend.backend} backend against cpu on this model…` });
    const verdict = await verifyBackend(backend, subject);
    if (verdict.ok) {
      if (backend.backend !== 'cpu') emit({ type: 'log', level: 'info', message: `gradient check against cpu: ${verdict.error.toExponential(1)} relative (largest, in ${verdict.where})${verdict.cached ? ', cached verdict' : ''}` });
      await stopIfAborted(subject.signal, 'building the model');
      const model = subject.build();
      try {
        await stopIfAborted(subject.signal, 'building the model');
      } catch (error) {
        disposeAutoencoder(model);
        throw error;
      }
      return { backend, model };
    }
    const message = `the ${backend.backend} backend (${backend.device}) failed the gradient check against cpu on this model: ${verdict.where} differs by ${verdict.error.toExponential(2)} relative (tolerance ${CHECK_TOLERANCE})`;
    if (requested !== 'auto') throw new BackendError(`${message}; it is refused. Choose another with --backend (wasm or cpu)`);
    emit({ type: 'log', level: 'warning', message: `${message}; trying the next backend` });
    refused.push(backend.backend);
  }
}
