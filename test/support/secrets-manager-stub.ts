/**
 * A local stand-in for AWS Secrets Manager's GetSecretValue, enough for the bundled handler to
 * read its key through AWS_ENDPOINT_URL_SECRETS_MANAGER: the SDK's JSON protocol
 * (`X-Amz-Target: secretsmanager.GetSecretValue`), answers and errors shaped as AWS sends them.
 * Signatures are not checked; dummy credentials are fine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStub {
  url: string;
  /** ARN -> secret string; an ARN mapped to undefined exists but has no value yet. */
  secrets: Map<string, string | undefined>;
  /** SecretIds asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startSecretsManagerStub(secrets: Record<string, string | undefined> = {}): Promise<SecretsManagerStub> {
  const stub = { secrets: new Map(Object.entries(secrets)), requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `stub-${stub.requests.length}` });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return reply(400, { __type: 'UnknownOperationException', message: `The stub answers GetSecretValue only, not ${String(req.headers['x-amz-target'])}.` });
      }
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      stub.requests.push(String(SecretId));
      const id = String(SecretId);
      if (!stub.secrets.has(id)) {
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      }
      const value = stub.secrets.get(id);
      if (value === undefined) {
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        });
      }
      reply(200, {
        ARN: id,
        Name: id.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') ?? id,
        SecretString: value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Math.floor(Date.now() / 1000),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...stub,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
