import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type LocalSession, SESSION_FILE } from './stack';

/**
 * Signs a body as Alma signs its webhooks: base64(HMAC-SHA256(secret, raw body)). The sender's side of the
 * check in apps/webhook-receiver.
 */
export const signAsAlma = (secret: string, body: string): string => createHmac('sha256', secret).update(body).digest('base64');

/** The running local stack's URL, webhook secret and tokens, written by `npm start`. */
export const readSession = (): LocalSession => {
  if (!existsSync(SESSION_FILE)) {
    throw new Error(`No local stack session at ${SESSION_FILE}: start one with \`npm start\` (and leave it running).`);
  }
  return JSON.parse(readFileSync(SESSION_FILE, 'utf8')) as LocalSession;
};

/** POSTs a webhook body to the receiver, signed with the session's secret (or `signature` as given). */
export const postWebhook = async (session: LocalSession, body: string, signature = signAsAlma(session.webhookSecret, body)) => {
  const response = await fetch(`${session.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-exl-signature': signature },
    body,
  });
  return { status: response.status, body: await response.text() };
};

/** GETs a query API path with the session's reader token. */
export const queryApi = async (session: LocalSession, path: string, token = session.readerToken) => {
  const response = await fetch(`${session.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, cache: response.headers.get('x-cache'), text, json };
};

type AlmaObject = Record<string, any>;

/** One line per record of a `GET /users/{id}` answer, for people. */
export const describePatronAnswer = (answer: { loans?: AlmaObject[]; requests?: AlmaObject[]; fees?: AlmaObject[] }): string[] => [
  ...(answer.loans ?? []).map((loan) => `loan ${loan['loan_id']} "${loan['title']}" ${loan['loan_status']}, due ${loan['due_date']}`),
  ...(answer.requests ?? []).map(
    (request) => `request ${request['request_id']} ${request['request_type']} "${request['title']}" ${request['request_status']}`,
  ),
  ...(answer.fees ?? []).map((fee) => `fee ${fee['id']} ${fee['type']?.['value'] ?? ''} balance ${fee['balance']} ${fee['status']?.['value'] ?? ''}`),
];
