// `npm run webhook -- <file.json | EVENT_TYPE> [--patron ID] [--tamper]`: sends an Alma webhook, signed as Alma
// signs it, to the webhook receiver of the running local stack (`npm start`). A bare event type sends the sample
// fixture of that type, re-dated to now so it is newer than what the cache holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { postWebhook, readSession, signAsAlma } from './local-client';
import { WORKSPACE } from './stack';

const FIXTURES = join(WORKSPACE, 'libs', 'cache-domain', 'src', 'testing', 'alma-webhooks');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { patron: { type: 'string' }, tamper: { type: 'boolean', default: false } },
});

const main = async () => {
  const [what] = positionals;
  if (!what) throw new Error('Usage: npm run webhook -- <file.json | EVENT_TYPE> [--patron ID] [--tamper]');
  const fromFixture = /^[A-Z_]+$/.test(what);
  const body = JSON.parse(readFileSync(fromFixture ? join(FIXTURES, `${what.toLowerCase()}.json`) : what, 'utf8'));
  if (fromFixture) {
    body.id = `${body.id}-${Date.now()}`;
    body.time = new Date().toISOString();
  }
  if (values.patron) {
    if (body.item_loan) body.item_loan.user_id = values.patron;
    if (body.user_request) body.user_request.user_primary_id = values.patron;
  }
  const session = readSession();
  const text = JSON.stringify(body);
  const signature = values.tamper ? signAsAlma('not-the-secret', text) : undefined;
  const reply = await postWebhook(session, text, signature);
  process.stdout.write(`POST ${session.url}/ ${body.event?.value ?? '(no event.value)'} → ${reply.status} ${reply.body}\n`);
  if (reply.status >= 400) process.exitCode = 1;
};

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
