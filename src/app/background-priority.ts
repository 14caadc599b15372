/**
 * Lowers the CPU priority of the calling thread (Linux): a worker that parses policies, matches
 * hosts or plans then yields the CPU to the event loop that serves check-ins whenever both want
 * it, instead of sharing two cores with it evenly. Elsewhere, or when refused, it does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** A nice value for work that may take longer but must not delay check-ins. */
const BACKGROUND_NICE = 10;

export function lowerThreadPriority(): void {
  try {
    // /proc/thread-self → "<pid>/task/<tid>": setpriority on a thread id sets that thread alone.
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(threadId)) setPriority(threadId, BACKGROUND_NICE);
  } catch {
    // Not Linux, or not allowed: the worker runs at the process's priority.
  }
}
