// `npm run cache -- <patron id> [loans|requests|fees]`: shows a patron's cache through the query API of the
// running local stack (`npm start`), with its local reader token.
import { parseArgs } from 'node:util';
import { describePatronAnswer, queryApi, readSession } from './local-client';

const { positionals } = parseArgs({ allowPositionals: true });

const main = async () => {
  const [patron, kind] = positionals;
  if (!patron) throw new Error('Usage: npm run cache -- <patron id> [loans|requests|fees]');
  const session = readSession();
  const path = `/users/${encodeURIComponent(patron)}${kind ? `/${kind}` : ''}`;
  const answer = await queryApi(session, path);
  process.stdout.write(`GET ${session.url}${path} → ${answer.status}${answer.cache ? ` (x-cache: ${answer.cache})` : ''}\n`);
  if (answer.status !== 200) {
    process.stdout.write(`${answer.text}\n`);
    process.exitCode = 1;
    return;
  }
  // `/users/{id}` answers every kind; `/users/{id}/loans` (and siblings) answers `{primary_id, loans}`: same shape.
  const lines = describePatronAnswer(answer.json);
  for (const line of lines) process.stdout.write(`  ${line}\n`);
  if (lines.length === 0) process.stdout.write('  (nothing cached)\n');
};

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
