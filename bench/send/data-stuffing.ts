/**
 * SMTP DATA encoding (dot-stuffing, bare CR/LF to CRLF) of the bench's two message shapes, nodemailer's
 * DataStream `_transform` against stuffData (libs/sending smtp/data-stuffing.ts, what the send worker
 * uses): CPU per message (this process's user + system time), rounds alternating, the first dropped.
 *
 *   npm run build && tsc -p bench/tsconfig.json && tsc-alias -p bench/tsconfig.json && node dist-bench/bench/send/data-stuffing.js [--rounds=10]
 */
import { randomBytes } from 'node:crypto';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream';
import { nodemailerTransform, stuffData } from '../../libs/sending/src/smtp/data-stuffing';
import { numberArg } from '../args';

const ROUNDS = numberArg('rounds', 10);
const PER_ROUND = 10;

/** As the API composes them: 20 KB of text with bare LFs (as posted), and that plus a 1 MB attachment in base64 lines of 76. */
const TEXT = Array.from({ length: 300 }, (_, i) => `Line ${i} of the quarterly report: revenue, costs and the outlook for the next quarter.`).join('\n').slice(0, 20_000);
const HEAD = 'From: s001@bench.example\r\nTo: r1@bench.example\r\nSubject: Bench\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n';
const ATTACHMENT = randomBytes(1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
const messages = {
  text: Buffer.from(`${HEAD}${TEXT}\r\n--b--\r\n`),
  attachment: Buffer.from(`${HEAD}${TEXT}\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${ATTACHMENT}\r\n--b--\r\n`),
};

function viaNodemailer(message: Buffer): Buffer {
  const out: Buffer[] = [];
  const stream = new DataStream() as DataStream & { push(chunk: Buffer): boolean };
  stream.push = (chunk: Buffer) => out.push(chunk) > 0;
  (nodemailerTransform as (this: unknown, chunk: Buffer, encoding: string, done: () => void) => void).call(stream, message, 'buffer', () => undefined);
  return Buffer.concat(out);
}

const encoders = { nodemailer: viaNodemailer, stuffData: (message: Buffer) => stuffData(message, false) };
const results: Record<string, Record<string, number>> = {};
for (const [shape, message] of Object.entries(messages)) {
  if (!viaNodemailer(message).equals(stuffData(message, false))) throw new Error(`${shape}: the outputs differ`);
  const total: Record<string, number> = { nodemailer: 0, stuffData: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, encode] of Object.entries(encoders)) {
      const before = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i++) encode(message);
      const used = process.cpuUsage(before);
      if (round > 0) total[name] += (used.user + used.system) / 1000;
    }
  }
  results[`${shape} (${message.length} bytes)`] = Object.fromEntries(Object.entries(total).map(([name, ms]) => [name, Number((ms / ((ROUNDS - 1) * PER_ROUND)).toFixed(3))]));
}
process.stdout.write(`${JSON.stringify({ cpuMsPerMessage: results }, null, 1)}\n`);
