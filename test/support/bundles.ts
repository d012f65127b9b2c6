/** Where the cloud assembly keeps a function's bundle: the asset its code key was built from. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_FILE } from '../../lib/sync-function.js';

export function bundleFile(outdir: string, stackName: string, fn: { Properties: { Code: { S3Key: string } } }): string {
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const asset = Object.values(manifest.files).find((file) =>
    Object.values(file.destinations).some((destination) => destination.objectKey === fn.Properties.Code.S3Key),
  );
  if (!asset) throw new Error(`No asset in ${stackName}.assets.json builds ${fn.Properties.Code.S3Key}.`);
  return path.join(outdir, asset.source.path, BUNDLE_FILE);
}
