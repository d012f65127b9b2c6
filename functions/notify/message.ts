/**
 * One message for a batch of alerts, whatever its size: a subject that counts, a plain-text body
 * that lists at most 20 replicas by name and id and then says how many more, the commands that
 * list them all, and the dashboard. The same batch as a chat notification is in chat.ts; the SNS
 * Publish input that carries both, within SNS's size limit, is `snsMessage` below.
 */
import { ALERT_KINDS, type Alert } from './alert.js';
import { chatNotification } from './chat.js';
import { dashboardUrl, queryCommands, type AlertContext } from './commands.js';
import {
  clip,
  displayName,
  ERROR_MAX_CHARS,
  KIND_LABELS,
  kindLabel,
  LISTED_AT_MOST,
  NAME_MAX_CHARS,
  oneLine,
  plural,
  replicaState,
  snsSubject,
  VALUE_MAX_CHARS,
  when,
} from './text.js';

/** SNS: a message (all protocols' bodies and the attributes together) is at most 256 KB. */
export const SNS_MAX_BYTES = 262_144;

export interface AlertMessage {
  subject: string;
  /** The plain text for e-mail and every subscriber without a body of its own. */
  text: string;
  /** The AWS Chatbot (Amazon Q Developer in chat applications) custom notification. */
  chat: ReturnType<typeof chatNotification>;
  /** The distinct kinds in the batch, for the `kinds` message attribute. */
  kinds: string[];
}

/** How each kind is counted in the subject: the first phrase names replicas, the rest are short. */
const SUBJECT_PHRASES: Record<string, (count: number, first: boolean) => string> = {
  stuck: (n, first) => `${n}${first ? ` ${plural(n, 'replica')}` : ''} stuck`,
  error: (n, first) => `${n}${first ? ` ${plural(n, 'replica')}` : ''} failed`,
  finetune_failed: (n, first) => `${n}${first ? ' replica' : ''} ${plural(n, 'fine-tune')} failed`,
};
const otherPhrase = (n: number, first: boolean) => `${n}${first ? ' replica' : ' other'} ${plural(n, 'alert')}`;

export function alertMessage(unsorted: readonly Alert[], context: AlertContext): AlertMessage {
  const alerts = sortAlerts(unsorted);
  const counts = countKinds(alerts);
  const subject = subjectLine(counts);
  const listed = alerts.slice(0, LISTED_AT_MOST);
  const commands = queryCommands(alerts, context);
  const dashboard = dashboardUrl(context);
  const lines = [`${summarySentence(alerts.length, counts)}`, ''];
  for (const alert of listed) lines.push(...replicaLines(alert));
  if (alerts.length > listed.length) lines.push(`and ${alerts.length - listed.length} more (${alerts.length} in all): the commands below list them.`);
  lines.push('', 'What to do:', ...commands.map((command) => `  ${command}`));
  if (dashboard) lines.push(`Dashboard: ${dashboard}`);
  return {
    subject,
    text: `${lines.join('\n')}\n`,
    chat: chatNotification({ alerts, subject, counts, commands, dashboard }),
    kinds: [...counts.keys()],
  };
}

/** Known kinds first, in the order of ALERT_KINDS, then by replica name and id: the same batch reads the same. */
function sortAlerts(alerts: readonly Alert[]): Alert[] {
  const rank = (kind: string) => {
    const index = (ALERT_KINDS as readonly string[]).indexOf(kind);
    return index === -1 ? ALERT_KINDS.length : index;
  };
  const keyed = alerts.map((alert) => ({ alert, key: [rank(alert.kind), alert.kind, clip(alert.replica_name ?? '', NAME_MAX_CHARS).toLowerCase(), alert.replica_id] as const }));
  keyed.sort(({ key: x }, { key: y }) => {
    for (let i = 0; i < x.length; i++) if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
  return keyed.map(({ alert }) => alert);
}

/** Kind -> how many replicas, in the sorted order. */
export function countKinds(alerts: readonly Alert[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const alert of alerts) counts.set(alert.kind, (counts.get(alert.kind) ?? 0) + 1);
  return counts;
}

/** "Tavus: 2 replicas stuck, 1 failed": unknown kinds are counted together as "other alerts". */
export function subjectLine(counts: ReadonlyMap<string, number>): string {
  const phrases: string[] = [];
  let others = 0;
  for (const [kind, count] of counts) {
    const phrase = SUBJECT_PHRASES[kind];
    if (phrase) phrases.push(phrase(count, phrases.length === 0));
    else others += count;
  }
  if (others > 0) phrases.push(otherPhrase(others, phrases.length === 0));
  return snsSubject(`Tavus: ${phrases.join(', ')}`);
}

function summarySentence(total: number, counts: ReadonlyMap<string, number>): string {
  const parts = [...counts].map(([kind, count]) => `${count} ${KIND_LABELS[kind] ?? clip(oneLine(kind), VALUE_MAX_CHARS)}`);
  return `${total} Tavus ${plural(total, 'replica')} ${total === 1 ? 'needs' : 'need'} attention: ${parts.join(', ')}.`;
}

/** Two or three lines: who and what since when, the replica's state, and its error message. */
function replicaLines(alert: Alert): string[] {
  const state = replicaState(alert);
  return [
    `- ${displayName(alert)} (${clip(oneLine(alert.replica_id), NAME_MAX_CHARS)}): ${kindLabel(alert.kind)}${alert.since ? ` since ${when(alert.since)}` : ''}`,
    ...(state ? [`    ${state}`] : []),
    ...(alert.error_message ? [`    error message: ${clip(oneLine(alert.error_message), ERROR_MAX_CHARS)}`] : []),
  ];
}

/** What SNS Publish gets (topic aside): plain-text bodies for e-mail and the rest, JSON for chat. */
export interface SnsMessage {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
  MessageAttributes: Record<string, { DataType: 'String.Array'; StringValue: string }>;
}

const CUT_NOTE = '\n[Cut to fit the 256 KB limit of an SNS message: the commands above list every replica.]\n';

/**
 * The Publish input, at most `maxBytes` in all. The bounded values keep a message far below the
 * limit; should it ever grow past it, the plain text is cut (at a character boundary) until it fits.
 */
export function snsMessage(message: AlertMessage, maxBytes = SNS_MAX_BYTES): SnsMessage {
  const attributes = { kinds: { DataType: 'String.Array' as const, StringValue: JSON.stringify(message.kinds) } };
  const attributeBytes = Buffer.byteLength(JSON.stringify(attributes));
  const chat = JSON.stringify(message.chat);
  const full = Array.from(message.text);
  let text = message.text;
  for (let keep = full.length; ; keep = Math.floor(keep * 0.75)) {
    if (keep < full.length) text = `${full.slice(0, keep).join('')}${CUT_NOTE}`;
    const body = JSON.stringify({ default: text, email: text, https: chat });
    if (Buffer.byteLength(body) + attributeBytes <= maxBytes || keep === 0) {
      return { Subject: message.subject, Message: body, MessageStructure: 'json', MessageAttributes: attributes };
    }
  }
}
