import { HttpException } from '@nestjs/common';

/** The messages of an HttpException as the API's error body carries them (its `message`, one or several). */
export function apiMessages(error: HttpException): string[] {
  const body = error.getResponse();
  const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
  return Array.isArray(raw) ? raw.map(String) : [String(raw ?? error.message)];
}
