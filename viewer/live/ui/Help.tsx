// What the figures mean, for the protocol in use: the latency readout is measured the same
// way on both, but only the packet protocol numbers its steps.
import type { ProtocolName } from '../link.ts';
import { MOSHI_WARMUP_STEPS } from '../moshi-audio.ts';

export function Help({ protocol }: { protocol: ProtocolName }) {
  return (
    <details className="help" data-testid="help">
      <summary>What the figures mean</summary>
      <p data-testid="latency-help">
        <strong>Step latency</strong> is the time from a microphone frame (80 ms) leaving the page to the audio of its step coming back.{' '}
        {protocol === 'moshi'
          ? `On the Moshi protocol no message carries a step number: the k-th 80 ms of reply audio is taken to answer the k-th frame sent after the model's warm-up (${MOSHI_WARMUP_STEPS} step, the audio delay of every released Moshi model and of the tiny one). It includes the Opus codec's look-ahead both ways. The server's step count is not sent: "server steps" stays empty.`
          : 'On the SolaceLive packet protocol audio packets come in step order and the server names the steps without audio (warm-up, skipped decodes), so each reading belongs to a known step.'}
      </p>
    </details>
  );
}
