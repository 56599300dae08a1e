/**
 * A thread that is not the training thread, dragging through latent space: it owns its own
 * InferenceClient (and so its own worker) and decodes one vector per simulated pointer move
 * until told to stop, then posts the latencies. What a decode costs when its answer does not pass
 * through the training thread (decode-latency.ts starts it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { InferenceClient } from '../../runtime/inference/client';

const { runDir, dataDir, latent, interval } = workerData as { runDir: string; dataDir: string; latent: number; interval: number };
const port = parentPort!;
let stopping = false;
port.on('message', () => {
  stopping = true;
});

async function main(): Promise<void> {
  const client = new InferenceClient();
  try {
    await client.open({ runDir, checkpoint: 'last', dataDir });
    port.postMessage({ type: 'ready' });
    const roundTrips: number[] = [];
    const computed: number[] = [];
    let angle = 0;
    while (!stopping) {
      angle += 0.05;
      const z = Float32Array.from({ length: latent }, (_, index) => Math.sin(angle + index) * 1.5);
      const start = performance.now();
      await client.decode({ z, count: 1 }, { onComputed: (milliseconds) => computed.push(milliseconds) });
      roundTrips.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    port.postMessage({ type: 'done', roundTrips, computed });
  } finally {
    await client.close();
  }
}

void main();
