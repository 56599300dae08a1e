import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInbound, parseOutbound } from '../../runtime/inference/messages';

test('requests to the worker are checked field by field, each fault in one line naming the field', () => {
  const cases: [unknown, string][] = [
    [null, 'a request must be an object, not null'],
    [{ type: 'memory' }, 'a request needs a whole-number id ≥ 0, not undefined'],
    [{ type: 'paint', id: 1 }, 'unknown request type "paint"'],
    [{ type: 'open', id: 1, runDir: '', checkpoint: 'last' }, 'open needs runDir, the run folder, not ""'],
    [{ type: 'open', id: 1, runDir: '/r', checkpoint: 3 }, 'open needs checkpoint (last, best or epoch-N), not 3'],
    [{ type: 'encode', id: 1, split: 'validation' }, 'split must be "train", "test" or "all", not "validation"'],
    [{ type: 'encode', id: 1, split: 'test', batch: 0 }, 'batch must be a whole number from 1 to 10000, not 0'],
    [{ type: 'example', id: 1, split: 'test', index: 1.5 }, 'index must be a whole number ≥ 0, not 1.5'],
    [{ type: 'decode', id: 1, z: [0, 0], count: 1 }, 'z must be a Float32Array, not a list of 2'],
    [{ type: 'decode', id: 1, z: Float32Array.of(0, Number.NaN), count: 1 }, 'z[1] is NaN: latent values must be finite'],
    [{ type: 'decode', id: 1, z: new Float32Array(2), count: 5000 }, 'count must be a whole number from 1 to 4096, not 5000'],
    [{ type: 'decode', id: 1, z: new Float32Array(4), count: 2, labels: [1] }, 'labels must be a list of 2 class numbers (one per vector), not a list of 1'],
    [{ type: 'interpolate', id: 1, from: { z: new Float32Array(2) }, to: { split: 'test' }, steps: 5, method: 'lerp' }, 'to.index must be a whole number ≥ 0, not undefined'],
    [{ type: 'interpolate', id: 1, from: { z: new Float32Array(2) }, to: { z: new Float32Array(2) }, steps: 1, method: 'lerp' }, 'steps must be a whole number from 2 to 4096, not 1'],
    [{ type: 'interpolate', id: 1, from: { z: new Float32Array(2) }, to: { z: new Float32Array(2) }, steps: 3, method: 'cubic' }, 'method must be "lerp" or "slerp", not "cubic"'],
    [{ type: 'traverse', id: 1, origin: { z: new Float32Array(2) }, dimension: 0, low: -Infinity, high: 1, steps: 3 }, 'low and high must be finite numbers, not -Infinity and 1'],
    [{ type: 'traverse', id: 1, origin: { z: new Float32Array(2) }, dimension: 0, low: -1, high: 1, steps: 3, label: -2 }, 'label must be a class number ≥ 0, not -2'],
  ];
  for (const [message, expected] of cases) assert.equal(parseInbound(message), expected, JSON.stringify(message));
  const good = { type: 'traverse', id: 4, origin: { split: 'all', index: 3 }, dimension: 2, low: -3, high: 3, steps: 7 };
  assert.equal(parseInbound(good), good);
});

test('messages from the worker are checked before the client acts on them', () => {
  assert.equal(parseOutbound({ type: 'result', id: 1, result: {} }), 'result needs an id, a result object and milliseconds');
  assert.equal(parseOutbound({ type: 'error', id: 1, error: { message: 'x' } }), 'error needs an id and an error {name, message}');
  assert.equal(parseOutbound({ type: 'shout' }), 'unknown worker message type "shout"');
  const error = { type: 'error', id: 2, error: { name: 'CheckpointError', message: 'x: truncated', stack: 'at y' } };
  assert.equal(parseOutbound(error), error);
});
