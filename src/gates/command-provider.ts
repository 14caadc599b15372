/**
 * Command gates: `sh -c <command>` where the server runs, with FLEETPATCH_HOST (pre-host and
 * post-host gates), FLEETPATCH_BUCKET and FLEETPATCH_ROLLOUT in its environment (values are never
 * pasted into the command line). Exit 0 passes, any other status or a signal fails; a timeout or an
 * abort is an error, and the command's whole process group is killed, children included. Once the
 * shell exits, whatever it left running in its group is killed too: the check is over. stdout and
 * stderr are kept interleaved, their last MAX_GATE_OUTPUT_BYTES.
 */
import { spawn } from 'node:child_process';
import { MAX_GATE_OUTPUT_BYTES, type RawMeasurement } from '../domain/gates/gate-measurement.js';
import { measurementDeadline, type GateCheck, type GateProvider, type MeasureContext } from './gate-provider.js';
import { OutputTail } from '../protocol/output-tail.js';

export class CommandGateProvider implements GateProvider<'command'> {
  readonly kind = 'command' as const;

  measure(check: Extract<GateCheck, { kind: 'command' }>, context: MeasureContext): Promise<RawMeasurement> {
    const deadline = measurementDeadline(context.signal, check.timeout);
    const output = new OutputTail(MAX_GATE_OUTPUT_BYTES);
    const env: NodeJS.ProcessEnv = { ...process.env, FLEETPATCH_BUCKET: context.bucket, FLEETPATCH_ROLLOUT: String(context.rolloutId) };
    if (context.host === undefined) delete env.FLEETPATCH_HOST;
    else env.FLEETPATCH_HOST = context.host;
    return new Promise((resolve) => {
      // Its own process group, so a timeout reaches everything the command started.
      const child = spawn('/bin/sh', ['-c', check.command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // ESRCH: the group is already gone.
        }
      };
      let stopped = false;
      const onDeadline = () => {
        stopped = true;
        killGroup();
      };
      if (deadline.signal.aborted) onDeadline();
      else deadline.signal.addEventListener('abort', onDeadline, { once: true });
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
      child.on('exit', killGroup);
      child.on('error', (error) => {
        deadline.signal.removeEventListener('abort', onDeadline);
        resolve({ outcome: 'error', error: `sh -c could not start: ${error.message}` });
      });
      child.on('close', (code, signal) => {
        deadline.signal.removeEventListener('abort', onDeadline);
        const value = { kind: 'exit' as const, code, ...(signal ? { signal } : {}) };
        if (stopped) resolve({ outcome: 'error', error: `${deadline.reason()} (the command's process group was killed)`, value, output: output.text() });
        else if (code === 0) resolve({ outcome: 'success', value, detail: 'exit status 0', output: output.text() });
        else resolve({ outcome: 'failure', value, detail: signal ? `killed by ${signal}` : `exit status ${code}`, output: output.text() });
      });
    });
  }
}
