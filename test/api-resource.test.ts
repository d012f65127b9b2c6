/** api-resource.ts: either endpoint's rows come out under the same canonical names, so one table and one content hash serve both. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_RESOURCE_SHAPES } from '../functions/engine/extract/api-resource.js';
import { API_RESOURCES, apiFields, type ApiRow, contentHash } from '../functions/engine/model/replica.js';
import { parseApiResource } from '../functions/engine/settings/parsers.js';
import { InputError } from '../functions/engine/errors.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';

const KEY = 'test-key';
const faces = API_RESOURCE_SHAPES.faces;
const replicas = API_RESOURCE_SHAPES.replicas;

/** The row a CanonicalRow holds; fails the test when it holds a reason instead. */
function canonical(resource: 'replicas' | 'faces', raw: Record<string, unknown>): Record<string, unknown> {
  const result = API_RESOURCE_SHAPES[resource].canonicalRow(raw);
  expect(result.reason).toBeUndefined();
  return result.row!;
}

describe('the endpoints', () => {
  it('name the list, its type filter and its lookup by id as Tavus documents them', () => {
    expect(API_RESOURCES).toEqual(['replicas', 'faces']);
    expect(replicas).toMatchObject({ listPath: '/v2/replicas', typeParameter: 'replica_type', idsParameter: 'replica_ids', idField: 'replica_id' });
    expect(faces).toMatchObject({ listPath: '/v2/faces', typeParameter: 'face_type', idsParameter: 'face_ids', idField: 'face_id' });
  });
});

describe('the same replica from both endpoints', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(120) });
  const fetchAll = async (resource: 'replicas' | 'faces', verbose: boolean) => {
    const res = await fetch(`${sim.url}${API_RESOURCE_SHAPES[resource].listPath}?limit=100&page=1&verbose=${verbose}`, {
      headers: { 'x-api-key': KEY },
    });
    const page = (await res.json()) as { data: Record<string, unknown>[] };
    return page.data.map((row) => canonical(resource, row));
  };
  beforeAll(() => sim.start());
  afterAll(() => sim.stop());

  it('is deep-equal once canonical, Phoenix-4.5 fine-tunes included, so its content hash is equal too', async () => {
    for (const verbose of [true, false]) {
      const [fromReplicas, fromFaces] = [await fetchAll('replicas', verbose), await fetchAll('faces', verbose)];
      expect(fromFaces).toHaveLength(100);
      expect(fromFaces).toEqual(fromReplicas);
      const hash = (row: Record<string, unknown>) => contentHash(apiFields(row as ApiRow));
      expect(fromFaces.map(hash)).toEqual(fromReplicas.map(hash));
    }
    expect((await fetchAll('faces', true)).filter((row) => 'finetune_status' in row).length).toBeGreaterThan(0);
  });
});

describe('canonicalRow on /v2/faces', () => {
  const face = {
    face_id: 'r90bbd427f71',
    face_name: 'My Face',
    thumbnail_video_url: null,
    training_progress: '100/100',
    status: 'completed',
    created_at: '2024-01-24T07:14:03.327Z',
    face_type: 'user',
    model_name: 'phoenix-4.5',
    finetune_status: 'training',
    something_new: { nested: [1, 2] },
  };

  it('renames face_id, face_name and face_type and keeps every other field as it came', () => {
    const { face_id, face_name, face_type, ...rest } = face;
    expect(canonical('faces', face)).toEqual({ replica_id: face_id, replica_name: face_name, replica_type: face_type, ...rest });
  });

  it('keeps legacy replica_* fields, drops a face_* twin that says the same and keeps one that does not', () => {
    const row = canonical('faces', { ...face, replica_id: face.face_id, replica_name: 'Legacy name', replica_type: 'user' });
    expect(row).toMatchObject({ replica_id: face.face_id, replica_name: 'Legacy name', face_name: 'My Face', replica_type: 'user' });
    expect(row).not.toHaveProperty('face_id');
    expect(row).not.toHaveProperty('face_type');
  });

  it('leaves the raw row as it was', () => {
    const raw = structuredClone(face);
    canonical('faces', raw);
    expect(raw).toEqual(face);
  });

  it.each([
    ['r1', 'r2'],
    ['r1', null],
    [7, '7'],
    [`r${'x'.repeat(200)}`, 'r1'],
  ])('gives a reason instead of a row when face_id %j and replica_id %j differ', (faceId, replicaId) => {
    const result = faces.canonicalRow({ ...face, face_id: faceId, replica_id: replicaId });
    expect(result.row).toBeUndefined();
    expect(result.reason).toMatch(/face_id .* and replica_id .* differ/);
    expect(result.reason!.length).toBeLessThan(200);
  });

  it('leaves a row without an id to the page validation', () => {
    const { face_id: _id, ...nameless } = face;
    expect(canonical('faces', nameless)).not.toHaveProperty('replica_id');
  });
});

describe('canonicalRow on /v2/replicas', () => {
  it('keeps every field as it came, a face_* field included', () => {
    const raw = { replica_id: 'r1', replica_name: 'A', face_id: 'f-1', face_name: 'B', status: 'started' };
    expect(canonical('replicas', raw)).toEqual(raw);
  });
});

describe('parseApiResource', () => {
  it('accepts replicas and faces', () => {
    expect(parseApiResource('replicas', 'TAVUS_API_RESOURCE')).toBe('replicas');
    expect(parseApiResource(' faces\n', 'TAVUS_API_RESOURCE')).toBe('faces');
  });

  it.each([[''], ['Faces'], ['face'], ['replica'], ['replicas,faces'], ['pals']])(
    'rejects %j with one sentence naming where it came from and what to write',
    (text) => {
      const call = () => parseApiResource(text, 'TAVUS_API_RESOURCE');
      expect(call).toThrow(InputError);
      expect(call).toThrow(`TAVUS_API_RESOURCE must be replicas or faces (leave it out for replicas), not "${text}".`);
    },
  );
});
