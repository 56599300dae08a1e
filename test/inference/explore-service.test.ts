/**
 * The explorer's service in the runtime process, on a real run folder and real inference workers:
 * a worker that is gone (closed, exited, crashed) is replaced on the next request instead of
 * failing every request for its run until the runtime restarts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { runExperiment } from '../../runtime/engine';
import { ExploreService } from '../../runtime/explore-service';
import { InferenceClient } from '../../runtime/inference/client';
import type { ExploreImages, ExploreRequest } from '../../runtime/protocol';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const directory = temporaryDirectory('aexp-explore-service-');
let runDir: string;

before(async () => {
  const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, count: 200, name: 'service' }), outDir: path.join(directory, 'runs') });
  assert.equal(result.status, 'completed');
  runDir = result.runDir;
});

test('a worker that exited is dropped: the next request for its run starts another and answers', async () => {
  const started: InferenceClient[] = [];
  const service = new ExploreService(() => undefined, () => {
    const client = new InferenceClient();
    started.push(client);
    return client;
  });
  try {
    const decode: ExploreRequest = { type: 'exploreDecode', id: 1, runDir, checkpoint: 'last', view: 'test', z: [[0, 0, 0, 0]] };
    const first = (await service.handle(decode, runDir)) as ExploreImages;
    assert.equal(first.count, 1);
    assert.equal(started.length, 1);
    // The worker thread ends, as a crash would end it.
    await started[0].close();
    assert.equal(started[0].closed, true);
    const again = (await service.handle(decode, runDir)) as ExploreImages;
    assert.equal(again.count, 1);
    assert.equal(again.pixels, first.pixels, 'the new worker opened the same checkpoint');
    assert.equal(started.length, 2, 'a new worker took the place of the one that exited');
  } finally {
    await service.close();
  }
});

test('a worker holds only the split it was asked about: an example of another split loads it again and answers the same', async () => {
  const client = new InferenceClient();
  try {
    await client.open({ runDir, checkpoint: 'last' });
    const allFirst = await client.example({ split: 'all', index: 0 });
    const encoded = await client.encode({ split: 'test' });
    assert.ok(encoded.count > 0);
    const train = await client.example({ split: 'train', index: 0 });
    assert.deepEqual(train.input, allFirst.input, 'train example 0 is example 0 of all');
    const lastOfAll = await client.example({ split: 'all', index: 199 });
    const lastOfTest = await client.example({ split: 'test', index: encoded.count - 1 });
    assert.deepEqual(lastOfAll.input, lastOfTest.input, 'the last of all is the last test example');
    assert.equal((await client.encode({ split: 'test' })).count, encoded.count);
  } finally {
    await client.close();
  }
});
