import { gzipSync } from 'node:zlib';
import { INestApplication } from '@nestjs/common';
import express from 'express';
import request from 'supertest';
import { installGraphBodyParsing } from './graph-body-parsing';

/**
 * The receiver's own parser on a bare Express app, without the API's general error handler: whatever that
 * handler knows, a body that is not what its Content-Encoding says is answered here with the standard body.
 */
describe('installGraphBodyParsing', () => {
  const app = express();
  installGraphBodyParsing(app as unknown as INestApplication);
  app.post('/v1/graph/notifications', (req, res) => void res.json({ parsed: req.body }));

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['deflate', Buffer.from('{"value": []}')],
    ['br', Buffer.from('xx')],
    ['gzip', Buffer.alloc(0)],
  ])('Content-Encoding %s with a body that is not: 400 with the standard error body', async (encoding, body) => {
    const res = await request(app).post('/v1/graph/notifications').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `Content-Encoding: the body is not valid "${encoding}" data` });
  });

  it('reads a real gzip body, whatever its Content-Type', async () => {
    const res = await request(app)
      .post('/v1/graph/notifications')
      .set('Content-Type', 'text/plain')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync('{"value":[]}'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ parsed: { value: [] } });
  });

  it('leaves typed body-parser errors (malformed JSON) to the API handler', async () => {
    const res = await request(app).post('/v1/graph/notifications').set('Content-Type', 'application/json').send('{"value":');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });
});
