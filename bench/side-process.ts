/**
 * Child-process entry: receives one SideJob over IPC, runs it, answers with the SideMeasure and
 * exits, so each side's memory is measured in a process of its own. `bench/run.ts` bundles this
 * file with esbuild first, so the figures carry no TypeScript loader, as in Lambda.
 */
import { runSide, type SideJob } from './side.js';

process.once('message', (job: SideJob) => {
  runSide(job).then(
    (measure) => process.send?.({ measure }, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: (error as Error).stack ?? String(error) }, () => process.exit(1)),
  );
});
