import type { Check } from '../types.js';
import { backoffHonoured } from './backoff.js';
import { backlogCount } from './backlog.js';
import { badConfig } from './bad-config.js';
import { batchCrash, batchKeyOrdering, batchOutcomes } from './batches.js';
import { competingConsumers } from './competing-consumers.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { crashRedelivery } from './crash-redelivery.js';
import { declareThenAttach } from './declare-then-attach.js';
import { deadLetterAfterMaxAttempts, explicitDeadLetter } from './dead-letter.js';
import { deadLetterReplay } from './dead-letter-replay.js';
import { delayedSend } from './delayed-send.js';
import { ephemeralSubscription } from './ephemeral.js';
import { fanOut } from './fan-out.js';
import { keyOrdering } from './key-ordering.js';
import { keyHandover } from './key-handover.js';
import { keyOrderingUnderRetries } from './key-ordering-under-retries.js';
import { restartNoLoss } from './restart-no-loss.js';
import { retryAfterError } from './retry-after-error.js';
import { roundTrip } from './round-trip.js';
import { sizeLimit } from './size-limit.js';
import { throughput } from './throughput.js';
import { traceContext } from './trace-context.js';

/** Every check, in the order of DESIGN.md §7, then trace-context (issue 11); key-ordering-under-retries and declare-then-attach from issue 28; key-handover from issue 32; backlog, delayed-send and dead-letter-replay from issue 33; the batch checks from issue 34. */
export const CHECKS: readonly Check[] = [
  roundTrip,
  fanOut,
  competingConsumers,
  keyOrdering,
  keyOrderingUnderRetries,
  keyHandover,
  retryAfterError,
  crashRedelivery,
  backoffHonoured,
  deadLetterAfterMaxAttempts,
  explicitDeadLetter,
  restartNoLoss,
  ephemeralSubscription,
  concurrencyLimit,
  sizeLimit,
  badConfig,
  declareThenAttach,
  traceContext,
  backlogCount,
  delayedSend,
  deadLetterReplay,
  batchOutcomes,
  batchKeyOrdering,
  batchCrash,
  throughput,
];
