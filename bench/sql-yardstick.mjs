// The yardstick of `npm run bench -- --sql`: what a person could write in five minutes with the
// SDK alone. A fresh Node process, one plain sequential Scan of the table, the count printed.
// Plain JavaScript, so no TypeScript loader counts against it. Usage: node sql-yardstick.mjs ENDPOINT TABLE
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';

const [endpoint, table] = process.argv.slice(2);
const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
let count = 0;
for await (const page of paginateScan({ client }, { TableName: table })) count += page.Items?.length ?? 0;
process.stdout.write(`${count}\n`);
client.destroy();
