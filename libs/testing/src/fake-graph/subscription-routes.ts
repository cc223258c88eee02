import { randomUUID } from 'node:crypto';
import { authorizeMailbox, requireMailPermission, type GraphCaller } from './auth';
import { GraphErrors } from './graph-errors';
import type { Mailbox } from './mail-store';
import { parsePrefer } from './odata';
import { readJsonObject, sendGraphJson, sendNoContent, type GraphCall, type GraphRuntime } from './runtime';
import {
  parseCreateBody,
  parseExpiration,
  renderSubscription,
  setExpiration,
  type ParsedResource,
  type SubscriptionRecord,
} from './subscriptions';

/** /v1.0/subscriptions[/{id}[/reauthorize]] */
export async function handleSubscriptions(runtime: GraphRuntime, call: GraphCall, rest: string[]): Promise<void> {
  const method = call.req.method ?? 'GET';
  const [id, action, ...more] = rest;
  if (id === undefined) {
    if (method === 'POST') return create(runtime, call);
    if (method === 'GET') return list(runtime, call);
    throw GraphErrors.methodNotAllowed();
  }
  if (more.length) throw GraphErrors.unknownSegment(more[0] as string);
  if (action !== undefined) {
    if (action.toLowerCase() !== 'reauthorize') throw GraphErrors.unknownSegment(action);
    if (method !== 'POST') throw GraphErrors.methodNotAllowed();
    return reauthorize(runtime, call, id);
  }
  switch (method) {
    case 'GET':
      return get(runtime, call, id);
    case 'PATCH':
      return update(runtime, call, id);
    case 'DELETE':
      return remove(runtime, call, id);
    default:
      throw GraphErrors.methodNotAllowed();
  }
}

function entityContext(runtime: GraphRuntime): string {
  return `${runtime.baseUrl}/$metadata#subscriptions/$entity`;
}

/** The mailbox a subscription resource names, as the caller may see it. */
function resolveMailbox(runtime: GraphRuntime, caller: GraphCaller, user: ParsedResource['user']): Mailbox {
  if (user.me) {
    if (caller.kind === 'app') throw GraphErrors.meWithAppToken();
    const own = runtime.store.findMailbox(caller.oid) ?? (caller.username ? runtime.store.findMailbox(caller.username) : undefined);
    if (!own) throw GraphErrors.mailboxNotEnabled();
    return own;
  }
  const mailbox = runtime.store.findMailbox(user.key);
  if (!mailbox) throw GraphErrors.invalidUser(user.key);
  authorizeMailbox(caller, mailbox, user.key);
  return mailbox;
}

async function create(runtime: GraphRuntime, call: GraphCall): Promise<void> {
  requireMailPermission(call.caller);
  const input = parseCreateBody(await readJsonObject(call.req), runtime.now(), runtime.maxSubscriptionMinutes);
  const mailbox = resolveMailbox(runtime, call.caller, input.parsedResource.user);
  call.entry.email = mailbox.email;
  const folder = input.parsedResource.folder !== undefined ? runtime.store.folderOrError(mailbox, input.parsedResource.folder) : undefined;
  await runtime.admit(call, mailbox.email);
  const prefer = parsePrefer(call.req);

  // Graph creates the subscription only after both endpoints passed the handshake.
  await runtime.validateEndpoint(input.notificationUrl);
  if (input.lifecycleNotificationUrl) await runtime.validateEndpoint(input.lifecycleNotificationUrl);

  const sub: SubscriptionRecord = {
    id: randomUUID(),
    resource: input.resource,
    changeType: input.changeType,
    changeTypes: input.changeTypes,
    notificationUrl: input.notificationUrl,
    lifecycleNotificationUrl: input.lifecycleNotificationUrl,
    clientState: input.clientState,
    expirationDateTime: '',
    expiresAt: 0,
    applicationId: call.caller.appId,
    creatorId: call.caller.oid,
    tenantId: mailbox.tenantId,
    latestSupportedTlsVersion: input.latestSupportedTlsVersion,
    userId: mailbox.id,
    email: mailbox.email,
    folderId: folder?.id,
    immutableIds: prefer.immutableIds,
    reauthorizationRequired: false,
    createdAt: runtime.now(),
  };
  setExpiration(sub, input.expiresAt);
  runtime.registry.add(sub);
  sendGraphJson(call.res, 201, renderSubscription(sub, entityContext(runtime)), prefer.immutableIds ? { 'Preference-Applied': 'IdType="ImmutableId"' } : {});
}

/** Only the application that created a subscription may read or change it. */
async function own(runtime: GraphRuntime, call: GraphCall, id: string): Promise<SubscriptionRecord> {
  const sub = runtime.registry.get(id);
  if (!sub) {
    await runtime.admit(call);
    throw GraphErrors.subscriptionNotFound();
  }
  call.entry.email = sub.email;
  await runtime.admit(call, sub.email);
  if (sub.applicationId !== call.caller.appId) throw GraphErrors.subscriptionOfOtherApp();
  return sub;
}

async function list(runtime: GraphRuntime, call: GraphCall): Promise<void> {
  await runtime.admit(call);
  const { caller } = call;
  const value = runtime.registry
    .live()
    .filter((s) => s.applicationId === caller.appId && (caller.kind === 'app' || s.creatorId === caller.oid))
    .map((s) => renderSubscription(s));
  sendGraphJson(call.res, 200, { '@odata.context': `${runtime.baseUrl}/$metadata#subscriptions`, value });
}

async function get(runtime: GraphRuntime, call: GraphCall, id: string): Promise<void> {
  const sub = await own(runtime, call, id);
  sendGraphJson(call.res, 200, renderSubscription(sub, entityContext(runtime)));
}

/** Renew (expirationDateTime) and/or move (notificationUrl, validated again); either also reauthorizes. */
async function update(runtime: GraphRuntime, call: GraphCall, id: string): Promise<void> {
  const sub = await own(runtime, call, id);
  // Renewing re-checks the caller's access, as Graph does (a token that lost Mail.Read cannot renew).
  requireMailPermission(call.caller);
  const body = await readJsonObject(call.req);
  if (body.expirationDateTime === undefined && body.notificationUrl === undefined) {
    throw GraphErrors.invalidRequest("Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value.");
  }
  const expiresAt = body.expirationDateTime !== undefined ? parseExpiration(body.expirationDateTime, runtime.now(), runtime.maxSubscriptionMinutes) : undefined;
  if (body.notificationUrl !== undefined) {
    const url = typeof body.notificationUrl === 'string' ? body.notificationUrl : '';
    if (!/^https?:\/\//i.test(url)) throw GraphErrors.invalidRequest(`Invalid 'notificationUrl': '${String(body.notificationUrl)}' is not an absolute https URL.`);
    await runtime.validateEndpoint(url, sub.id);
    sub.notificationUrl = url;
  }
  // It may have expired or been removed while the handshake ran.
  if (!runtime.registry.get(id)) throw GraphErrors.subscriptionNotFound();
  if (expiresAt !== undefined) setExpiration(sub, expiresAt);
  sub.reauthorizationRequired = false;
  sendGraphJson(call.res, 200, renderSubscription(sub, entityContext(runtime)));
}

/** A client's own DELETE: no subscriptionRemoved lifecycle event (that is for removals by Graph). */
async function remove(runtime: GraphRuntime, call: GraphCall, id: string): Promise<void> {
  await own(runtime, call, id);
  runtime.registry.delete(id);
  sendNoContent(call.res);
}

/** Answers 204 No Content, as documented for subscription: reauthorize. */
async function reauthorize(runtime: GraphRuntime, call: GraphCall, id: string): Promise<void> {
  const sub = await own(runtime, call, id);
  requireMailPermission(call.caller);
  sub.reauthorizationRequired = false;
  sendNoContent(call.res);
}
