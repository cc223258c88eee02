import { Controller, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { answerValidation, GRAPH_RECEIVER_ROUTE, GraphEndpoint, GraphNotificationIntake, GraphReceiverEndpoint, validationTokenOf } from '@app/graph';
import { Public } from '@app/http';

/**
 * Microsoft Graph's webhook: change notifications and lifecycle notifications. Public (Graph has no API
 * key); each item is authenticated by its subscription's clientState instead. The raw request is read
 * here (no DTO, no validation pipe): a validation request is text/plain, and the collection is checked
 * item by item by the intake.
 */
@ApiTags('graph')
@Public()
@Controller(GRAPH_RECEIVER_ROUTE)
export class GraphNotificationsController {
  constructor(private readonly intake: GraphNotificationIntake) {}

  @Post('notifications')
  @GraphReceiverEndpoint('Microsoft Graph change notifications (and lifecycle notifications of subscriptions without a lifecycle URL)')
  notifications(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.receive('notifications', req, res);
  }

  @Post('lifecycle')
  @GraphReceiverEndpoint('Microsoft Graph lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)')
  lifecycle(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.receive('lifecycle', req, res);
  }

  private async receive(endpoint: GraphEndpoint, req: Request, res: Response): Promise<void> {
    const receivedAt = new Date();
    const token = validationTokenOf(req.query);
    if (token !== undefined) return answerValidation(res, token);
    await this.intake.receive(endpoint, req.body, receivedAt);
    res.status(202).end();
  }
}
