/**
 * How one alert's values read in a message, plain text or chat: bounded, one line each (`oneLine`,
 * over the one sanitiser), never more characters than a message can carry. Shared by message.ts and chat.ts.
 */
import { visibleText } from '../engine/text/visible-text.js';
import type { Alert } from './alert.js';

/** Replicas listed by name in one message; the rest are counted. */
export const LISTED_AT_MOST = 20;
/** SNS: an e-mail subject is ASCII, without line breaks, at most 100 characters. */
export const SUBJECT_MAX_CHARS = 100;
/** One replica's values are cut to these lengths, so 20 of them always fit. */
export const NAME_MAX_CHARS = 200;
export const ERROR_MAX_CHARS = 1_000;
export const VALUE_MAX_CHARS = 100;

/** How a kind reads in a replica's line. */
export const KIND_LABELS: Record<string, string> = { stuck: 'stuck', error: 'in error', finetune_failed: 'fine-tune failed' };

export function displayName(alert: Alert): string {
  return alert.replica_name ? clip(oneLine(alert.replica_name), NAME_MAX_CHARS) : '(no name)';
}

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? clip(oneLine(kind), VALUE_MAX_CHARS);
}

/** "status started, progress 40/100, fine-tune in_progress", from what the snapshot has. */
export function replicaState(alert: Alert): string {
  const value = (text: string) => clip(oneLine(text), VALUE_MAX_CHARS);
  return [
    alert.status ? `status ${value(alert.status)}` : '',
    alert.training_progress ? `progress ${value(alert.training_progress)}` : '',
    alert.finetune_status ? `fine-tune ${value(alert.finetune_status)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** "2026-11-29 04:00 UTC" from an ISO time; any other text as it came. */
/**
 * One value, one line, for a reader: a run of line breaks (or tabs) folds to one space, then every
 * other hidden character (controls, ESC, bidi, invisible ones) shows as an escape (visibleText).
 */
export function oneLine(text: string): string {
  return visibleText(text.replace(/[\t\n\r\u2028\u2029]+/g, ' '));
}

export function when(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? clip(oneLine(iso), VALUE_MAX_CHARS) : `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** At most `max` characters (code points, never half a pair), with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Enough code units for `max` code points, without splitting a whole long text.
  const chars = Array.from(text.slice(0, max * 2));
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Printable ASCII only, at most 100 characters: what SNS accepts as a subject. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return ascii.length <= SUBJECT_MAX_CHARS ? ascii : `${ascii.slice(0, SUBJECT_MAX_CHARS - 3)}...`;
}

export function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}
