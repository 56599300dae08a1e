/**
 * The training charts' messaging, host side, with a recorder in place of VS Code's renderer
 * messaging (it exists only inside VS Code; test/vscode/chart.test.ts drives it there) and the
 * clock under the test's control (node:test's mock timers: no waiting, no timing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import type { ChartMessaging } from '../../extension/chart-channel';
import { CHART_MESSAGE_INTERVAL_MS, ChartChannel } from '../../extension/chart-channel';
import { ChartPoints } from '../../extension/chart-points';
import type { HostMessage } from '../../extension/renderer-protocol';
import type { MetricsRecord } from '../../runtime/protocol';

function recorder() {
  const posted: HostMessage[] = [];
  let listener: ((event: { editor: vscode.NotebookEditor; message: unknown }) => void) | undefined;
  const messaging: ChartMessaging = {
    onDidReceiveMessage: ((given: typeof listener) => {
      listener = given;
      return { dispose() {} };
    }) as ChartMessaging['onDidReceiveMessage'],
    postMessage: (message: unknown) => {
      posted.push(message as HostMessage);
      return Promise.resolve(true);
    },
  };
  return { messaging, posted, say: (message: unknown) => listener!({ editor: {} as vscode.NotebookEditor, message }) };
}

const logged = (step: number): MetricsRecord => ({ kind: 'train', epoch: 1, step, time: `2026-01-01T00:00:0${step}Z`, loss: 10 - step, reconstruction: 9 - step, lr: 0.001 });

test('a live chart\'s new points reach a renderer that shows it within the chart\'s own 50 ms, coalesced into one message, and a chart no renderer shows gets none', (context) => {
  context.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { messaging, posted, say } = recorder();
  const channel = new ChartChannel(messaging);
  const shown = new ChartPoints('shown', undefined, true);
  const unseen = new ChartPoints('unseen', undefined, true);
  channel.register(shown);
  channel.register(unseen);
  say({ type: 'ready', chartId: 'shown', step: 0, epoch: 0 });
  assert.deepEqual(posted.map((message) => message.type === 'append' && message.steps.length), [0]);
  for (const step of [1, 2, 3]) {
    shown.add(logged(step));
    unseen.add(logged(step));
    channel.changed();
  }
  context.mock.timers.tick(CHART_MESSAGE_INTERVAL_MS - 1);
  assert.equal(posted.length, 1, 'sent before the interval ended');
  context.mock.timers.tick(1);
  assert.equal(posted.length, 2);
  const sent = posted[1];
  assert.equal(sent.type === 'append' && sent.chartId, 'shown');
  assert.deepEqual(sent.type === 'append' && sent.steps.map((point) => point.step), [1, 2, 3]);
  // Stamped when sent: the views benchmark splits T2's time there.
  assert.equal(sent.type === 'append' && sent.sentAt, Date.now());
  // Its own interval, not the progress line's (latentLab.outputUpdateInterval, 250 ms by default): T2 allows 300 ms from the runtime to the screen.
  assert.ok(CHART_MESSAGE_INTERVAL_MS <= 100);
  channel.dispose();
});

test('a renderer that says it is ready gets what it lacks; a message it does not know is dropped with a warning', () => {
  const { messaging, posted, say } = recorder();
  const warnings: string[] = [];
  const channel = new ChartChannel(messaging, { warn: (message: string) => warnings.push(message) });
  const chart = new ChartPoints('run', undefined, true);
  channel.register(chart);
  for (const step of [1, 2, 3]) chart.add(logged(step));
  say({ type: 'ready', chartId: 'run', step: 1, epoch: 0 });
  assert.deepEqual(posted.map((message) => message.type === 'append' && message.steps.map((point) => point.step)), [[2, 3]]);
  say({ type: 'ready', chartId: 'run', step: -1, epoch: 0 });
  assert.equal(posted.length, 1);
  assert.equal(warnings.length, 1);
  channel.dispose();
});
