/**
 * The batch as an AWS Chatbot (now Amazon Q Developer in chat applications) custom notification,
 * so the topic can feed a Slack or Teams channel directly. Schema and limits from the AWS guide
 * "Custom notifications using Amazon Q Developer in chat applications": version "1.0", source
 * "custom", content { textType "client-markdown", title (at most 250 characters), description
 * (at most 8,000), nextSteps, keywords }, metadata { summary, eventType, relatedResources,
 * additionalContext }. Values from the API go into code spans through the one chat escaper
 * (`chatText`), so a replica name or an error message can never mention, link or break the layout.
 */
import type { Alert } from './alert.js';
import { clip, displayName, KIND_LABELS, kindLabel, LISTED_AT_MOST, oneLine, replicaState, when } from './text.js';

export const CHAT_TITLE_MAX_CHARS = 250;
export const CHAT_DESCRIPTION_MAX_CHARS = 8_000;
/** metadata.eventType, which custom action buttons match on ([a-zA-Z0-9-]+). */
export const CHAT_EVENT_TYPE = 'TavusReplicaAlert';

export interface ChatInput {
  alerts: readonly Alert[];
  subject: string;
  counts: ReadonlyMap<string, number>;
  commands: readonly string[];
  dashboard?: string;
}

export function chatNotification({ alerts, subject, counts, commands, dashboard }: ChatInput) {
  const lines: string[] = [];
  let listed = 0;
  for (const alert of alerts.slice(0, LISTED_AT_MOST)) {
    const line = chatLine(alert);
    // Room for the line and for the "and N more" that may follow it.
    if ([...lines, line].join('\n').length > CHAT_DESCRIPTION_MAX_CHARS - 100) break;
    lines.push(line);
    listed++;
  }
  if (alerts.length > listed) lines.push(`_and ${alerts.length - listed} more (${alerts.length} in all): the commands below list them._`);
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: clip(`:rotating_light: ${chatText(subject)}`, CHAT_TITLE_MAX_CHARS),
      description: lines.join('\n'),
      nextSteps: [...commands.map((command) => `\`${chatText(command)}\``), ...(dashboard ? [`Dashboard: ${chatText(dashboard)}`] : [])],
      keywords: [...counts.keys()].map((kind) => clip(chatText(kind), 64)),
    },
    metadata: {
      summary: subject,
      eventType: CHAT_EVENT_TYPE,
      relatedResources: alerts.slice(0, listed).map((alert) => clip(chatText(alert.replica_id), 200)),
      additionalContext: { kinds: chatText([...counts.keys()].join(',')), replicas: String(alerts.length) },
    },
  };
}

/**
 * "• `Studio intro` `r1a2b3c4d5`: *stuck* since `2026-11-29 04:00 UTC` (`status started, progress 40/100`)"
 * and the error message. Every value from the data sits in a code span, where chat markdown neither
 * formats nor links, and goes through `chatText`, so it cannot close the span either.
 */
function chatLine(alert: Alert): string {
  const state = replicaState(alert);
  const since = alert.since ? ` since ${code(when(alert.since))}` : '';
  const kind = KIND_LABELS[alert.kind] ? `*${KIND_LABELS[alert.kind]}*` : code(kindLabel(alert.kind));
  const head = `• ${code(displayName(alert))} ${code(alert.replica_id)}: ${kind}${since}${state ? ` (${code(state)})` : ''}`;
  return alert.error_message ? `${head}\n    > ${code(clip(alert.error_message, 1_000))}` : head;
}

function code(text: string): string {
  return `\`${chatText(clip(text, 1_000))}\``;
}

/**
 * The one chat escaper, for Slack and Teams alike: hidden characters made visible (one line), `&`,
 * `<` and `>` as the entities Slack asks for (so no `<!channel>`, `<@U123>` or `<url|text>`), a
 * backtick as a look-alike (a code span cannot hold one, nor be closed by one), link brackets as
 * full-width ones (no `[text](url)`). Inside the code spans it is used in, `*`, `_` and `~` do not format.
 */
export function chatText(text: string): string {
  return oneLine(text).replace(/[&<>`[\]]/g, (character) => CHAT_REPLACEMENTS[character]!);
}

const CHAT_REPLACEMENTS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '`': '\u02cb', '[': '\uff3b', ']': '\uff3d' };
