/**
 * A simulated Tavus account that lives: `npm run simulator -- --live`. Trainings progress and
 * finish in minutes, some stall, some fail; a finished Phoenix-4.5 training starts its fine-tune
 * (`finetune_status` queued, training, then completed or errored); replicas are renamed, new ones
 * arrive and a few are deleted. Repeated syncs then tell the story the demo tells, over time.
 *
 * The account at a moment is a pure function of the starting account, the seed and the time
 * (`liveAccountAt`): nothing is stored between requests, so the same clock always gives the same
 * rows and tests advance an injected clock instead of sleeping. Every story is drawn from the seed
 * and its own index, so adding a story never reshuffles the others.
 */
import { makeReplicas, mulberry32, PHOENIX_4_5, type SimReplica, type TavusSimulator } from './tavus-simulator.js';

export interface LiveAccountOptions {
  /** Same seed, same story. */
  seed: number;
  /** The real moment the account started living: the story's time counts from here. */
  startedAt: Date;
  /** Simulated seconds per real second: 1 plays the story in real time, 60 a minute a second. */
  pace: number;
}

const MINUTE = 60_000;

/** The story's timetable, in simulated time. */
export const LIVE_TIMETABLE = {
  /** A training takes this long from its first progress to completed... */
  trainingMinMs: 2 * MINUTE,
  trainingMaxMs: 10 * MINUTE,
  /** ...a stalled one stops moving at this fraction of it, a failing one errors at this one. */
  stallAt: 0.4,
  failAt: 0.6,
  /** A Phoenix-4.5 fine-tune is queued this long after the preview completed, trains after this. */
  finetuneQueuedAfterMs: 1 * MINUTE,
  finetuneTrainingAfterMs: 3 * MINUTE,
  /** ...and trains this long before it ends. */
  finetuneMinMs: 5 * MINUTE,
  finetuneMaxMs: 15 * MINUTE,
  arrivalEveryMs: 3 * MINUTE,
  maxArrivals: 200,
  renameEveryMs: 4 * MINUTE,
  deletionEveryMs: 6 * MINUTE,
  maxDeletions: 5,
} as const;

const minutesOf = (ms: number) => ms / MINUTE;

/** The story in a few lines, from the timetable itself: the simulator's --help shows them. */
export const LIVE_STORY: readonly string[] = [
  `trainings progress and finish in ${minutesOf(LIVE_TIMETABLE.trainingMinMs)} to ${minutesOf(LIVE_TIMETABLE.trainingMaxMs)} minutes, some stall, some fail;`,
  'finished Phoenix-4.5 trainings start a fine-tune (queued, training, then completed or errored);',
  `a replica is renamed every ${minutesOf(LIVE_TIMETABLE.renameEveryMs)} minutes, one arrives every ${minutesOf(LIVE_TIMETABLE.arrivalEveryMs)}, one is deleted every ${minutesOf(LIVE_TIMETABLE.deletionEveryMs)} (${LIVE_TIMETABLE.maxDeletions} at most).`,
];

/** How each training ends, in turn by its index: so even a small account shows every ending. */
const TRAINING_ENDINGS = ['completes', 'stalls', 'fails', 'completes', 'completes'] as const;
/** How each fine-tune ends, in turn. */
const FINETUNE_ENDINGS = ['completed', 'completed', 'errored'] as const;
const TRAINING_ERROR = 'Training failed: the face is out of frame for most of the training video.';

/** Salts, so each kind of draw has its own sequence for the same seed and index. */
const SALT = { training: 0x1b873593, finetune: 0x85ebca6b, candidates: 0xc2b2ae35, arrivals: 0x27d4eb2f } as const;

/** The account at `now`: `base` as it has lived since `options.startedAt`. New objects, `base` untouched. */
export function liveAccountAt(base: readonly SimReplica[], options: LiveAccountOptions, now: Date): SimReplica[] {
  const elapsed = Math.max(0, now.getTime() - options.startedAt.getTime()) * options.pace;
  /** The real time at which the story reached simulated time `t`: what `updated_at` says. */
  const stamp = (t: number) => new Date(options.startedAt.getTime() + t / options.pace).toISOString();
  const story = { seed: options.seed, elapsed, stamp };

  const { renamed, deleted } = renamesAndDeletions(base, options.seed, elapsed);
  // Each story's index counts the base replicas of its kind before it, deleted ones included, so
  // a deletion never changes another replica's story.
  let trainings = 0;
  let finetunes = 0;
  const account: SimReplica[] = [];
  for (const replica of base) {
    const training = replica.status === 'started' ? trainings++ : undefined;
    const finetune = training === undefined && replica.model_name === PHOENIX_4_5 ? finetunes++ : undefined;
    if (deleted.has(replica.replica_id)) continue;
    let row: SimReplica = { ...replica };
    const rename = renamed.get(replica.replica_id);
    if (rename) row = { ...row, replica_name: `${replica.replica_name} (v2)`, updated_at: stamp(rename) };
    if (training !== undefined) row = liveTraining(row, training, 0, story);
    else if (finetune !== undefined) row = liveFinetune(row, finetune, startedFinetune(replica), story);
    account.push(row);
  }
  const arrivals = Math.min(LIVE_TIMETABLE.maxArrivals, Math.floor(elapsed / LIVE_TIMETABLE.arrivalEveryMs));
  const newcomers = makeReplicas(arrivals, { seed: options.seed ^ SALT.arrivals, idPrefix: 'rlive' });
  newcomers.forEach((drawn, k) => {
    const arrivedAt = (k + 1) * LIVE_TIMETABLE.arrivalEveryMs;
    const newcomer: SimReplica = {
      ...drawn,
      replica_name: drawn.replica_name.replace(' (Stock)', ''),
      thumbnail_video_url: null,
      training_progress: '0/100',
      status: 'started',
      created_at: stamp(arrivedAt),
      updated_at: stamp(arrivedAt),
      replica_type: 'user',
      // Every other newcomer is Phoenix-4.5, so fine-tunes keep starting.
      model_name: k % 2 === 0 ? PHOENIX_4_5 : drawn.model_name === PHOENIX_4_5 ? 'phoenix-3' : drawn.model_name,
      error_message: null,
    };
    delete newcomer.finetune_status;
    if (newcomer.model_name === PHOENIX_4_5) newcomer.finetune_status = null;
    account.push(liveTraining(newcomer, trainings + k, arrivedAt, story));
  });
  return account;
}

/**
 * Serves the simulator's account as a living one: before each request its rows become the account
 * at `clock()` (the real clock unless a test injects one), recomputed at most once per second of
 * that clock, so a walk of many pages costs one computation a second, not one a page. A hook set
 * before is kept and runs after.
 */
export function attachLiveAccount(
  simulator: TavusSimulator,
  options: LiveAccountOptions,
  clock: () => Date = () => new Date(),
): void {
  const base = simulator.replicas.map((replica) => ({ ...replica }));
  const before = simulator.beforeResponse;
  let second = Number.NaN;
  const refresh = (sim: TavusSimulator) => {
    const now = Math.floor(clock().getTime() / 1_000) * 1_000;
    if (now === second) return;
    second = now;
    sim.replicas = liveAccountAt(base, options, new Date(now));
  };
  refresh(simulator);
  simulator.beforeResponse = async (request, sim) => {
    refresh(sim);
    await before?.(request, sim);
  };
}

interface Story {
  seed: number;
  /** Simulated time since the account started living. */
  elapsed: number;
  stamp: (t: number) => string;
}

/** A training that started (at `startsAt`, simulated) from its current progress: where it is now. */
function liveTraining(replica: SimReplica, index: number, startsAt: number, story: Story): SimReplica {
  const draw = drawn(story.seed, SALT.training, index);
  const { trainingMinMs, trainingMaxMs } = LIVE_TIMETABLE;
  const duration = trainingMinMs + Math.floor(draw * (trainingMaxMs - trainingMinMs));
  const ending = TRAINING_ENDINGS[index % TRAINING_ENDINGS.length]!;
  const stopsAt = ending === 'stalls' ? LIVE_TIMETABLE.stallAt : ending === 'fails' ? LIVE_TIMETABLE.failAt : 1;
  const from = Number(replica.training_progress.split('/')[0]) || 0;
  const ran = Math.min(story.elapsed - startsAt, duration * stopsAt);
  if (ran <= 0) return replica;
  const progress = `${Math.min(99, from + Math.floor(((100 - from) * ran) / duration))}/100`;
  const ended = story.elapsed - startsAt >= duration * stopsAt;
  const updatedAt = story.stamp(startsAt + ran);
  if (!ended || ending === 'stalls') return { ...replica, training_progress: progress, updated_at: updatedAt };
  if (ending === 'fails') return { ...replica, training_progress: progress, status: 'error', error_message: TRAINING_ERROR, updated_at: updatedAt };
  const completed: SimReplica = {
    ...replica,
    training_progress: '100/100',
    status: 'completed',
    thumbnail_video_url: `https://cdn.replica.tavus.io/thumbnails/${replica.replica_id}.mp4`,
    updated_at: updatedAt,
  };
  if (replica.model_name !== PHOENIX_4_5) return completed;
  return liveFinetune(completed, 1_000 + index, startsAt + duration, story);
}

/** When a base replica's fine-tune is, in the story: how far along it already is at the start. */
function startedFinetune(replica: SimReplica): number {
  const { finetuneQueuedAfterMs, finetuneTrainingAfterMs } = LIVE_TIMETABLE;
  if (replica.finetune_status === 'queued') return -finetuneQueuedAfterMs;
  if (replica.finetune_status === 'training') return -finetuneTrainingAfterMs;
  return Number.POSITIVE_INFINITY; // none yet, or already over: it stays as it is
}

/** A Phoenix-4.5 fine-tune whose preview completed at `previewAt` (simulated): its status now. */
function liveFinetune(replica: SimReplica, index: number, previewAt: number, story: Story): SimReplica {
  if (!Number.isFinite(previewAt)) return replica;
  const { finetuneQueuedAfterMs, finetuneTrainingAfterMs, finetuneMinMs, finetuneMaxMs } = LIVE_TIMETABLE;
  const trains = finetuneMinMs + Math.floor(drawn(story.seed, SALT.finetune, index) * (finetuneMaxMs - finetuneMinMs));
  const since = story.elapsed - previewAt;
  const status =
    since >= finetuneTrainingAfterMs + trains
      ? FINETUNE_ENDINGS[index % FINETUNE_ENDINGS.length]!
      : since >= finetuneTrainingAfterMs
        ? 'training'
        : since >= finetuneQueuedAfterMs
          ? 'queued'
          : replica.finetune_status ?? null;
  return { ...replica, finetune_status: status };
}

/**
 * Which completed user replicas (not Phoenix-4.5: their fine-tunes are stories of their own) have
 * been renamed, and when, and which deleted: the k-th rename every `renameEveryMs`, the k-th
 * deletion every `deletionEveryMs`, from opposite ends of one seeded shuffle so none is both.
 */
function renamesAndDeletions(base: readonly SimReplica[], seed: number, elapsed: number) {
  const candidates = base.filter((r) => r.status === 'completed' && r.replica_type === 'user' && r.model_name !== PHOENIX_4_5);
  const random = mulberry32(seed ^ SALT.candidates);
  for (let i = candidates.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const maxDeletions = Math.min(LIVE_TIMETABLE.maxDeletions, Math.floor(candidates.length / 4));
  const deletions = Math.min(maxDeletions, Math.floor(elapsed / LIVE_TIMETABLE.deletionEveryMs));
  const deleted = new Set(candidates.slice(candidates.length - deletions).map((r) => r.replica_id));
  const renames = Math.min(candidates.length - maxDeletions, Math.floor(elapsed / LIVE_TIMETABLE.renameEveryMs));
  const renamed = new Map(candidates.slice(0, renames).map((r, k) => [r.replica_id, (k + 1) * LIVE_TIMETABLE.renameEveryMs]));
  return { renamed, deleted };
}

/** A number in [0, 1) for one story: the seed, the kind of draw and the story's index. */
function drawn(seed: number, salt: number, index: number): number {
  return mulberry32((seed ^ salt) + Math.imul(index + 1, 0x9e3779b1))();
}
