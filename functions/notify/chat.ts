/**
 * The batch as an AWS Chatbot (now Amazon Q Developer in chat applications) custom notification,
 * so the topic can feed a Slack or Teams channel directly. Schema and limits from the AWS guide
 * "Custom notifications using Amazon Q Developer in chat applications": version "1.0", source
 * "custom", content { textType "client-markdown", title (at most 250 characters), description
 * (at most 8,000), nextSteps, keywords }, metadata { summary, eventType, relatedResources,
 * additionalContext }. Values from the API go into code spans with the characters chat markdown
 * would act on replaced, so a replica name can never mention a channel or break the layout.
 */
import type { Alert } from './alert.js';
import { clip, displayName, kindLabel, LISTED_AT_MOST, oneLine, replicaState, when } from './text.js';

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
      title: clip(`:rotating_light: ${subject}`, CHAT_TITLE_MAX_CHARS),
      description: lines.join('\n'),
      nextSteps: [...commands.map((command) => `\`${command}\``), ...(dashboard ? [`Dashboard: ${dashboard}`] : [])],
      keywords: [...counts.keys()].map((kind) => clip(oneLine(kind), 64)),
    },
    metadata: {
      summary: subject,
      eventType: CHAT_EVENT_TYPE,
      relatedResources: alerts.slice(0, listed).map((alert) => clip(oneLine(alert.replica_id), 200)),
      additionalContext: { kinds: [...counts.keys()].join(','), replicas: String(alerts.length) },
    },
  };
}

/** "• `Studio intro` `r1a2b3c4d5`: stuck since 2026-11-29 04:00 UTC (status started, progress 40/100)" and the error message. */
function chatLine(alert: Alert): string {
  const state = chatSafe(replicaState(alert));
  const since = alert.since ? ` since ${chatSafe(when(alert.since))}` : '';
  const head = `• ${code(displayName(alert))} ${code(alert.replica_id)}: *${chatSafe(kindLabel(alert.kind))}*${since}${state ? ` (${state})` : ''}`;
  return alert.error_message ? `${head}\n    > ${chatSafe(clip(oneLine(alert.error_message), 1_000))}` : head;
}

function code(text: string): string {
  return `\`${chatSafe(clip(oneLine(text), 200))}\``;
}

/** No backticks (they would end the code span) and no angle brackets (Slack's <!channel>, <@user>, links). */
function chatSafe(text: string): string {
  return text.replace(/`/g, "'").replace(/</g, '‹').replace(/>/g, '›');
}
