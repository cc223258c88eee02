import { Body, Controller, Delete, Get, HttpCode, HttpException, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiFoundResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { consoleMailboxPath } from '@app/console';
import { Public } from '@app/http';
import { TokenStatusResponse } from '@app/mailboxes';
import {
  AppOnlyTokenService,
  AuthorizationCodeFlowService,
  CallbackNext,
  CallbackOutcome,
  CallbackQuery,
  DeviceCodeFlowService,
  DeviceCodeStarted,
  renderCallbackPage,
  TokenImportService,
  TokenStatus,
} from '@app/oauth';
import { Field, FIELD_LIMITS, IdParam, isoDateTime } from '@app/validation';

class DeviceCodeResponse implements DeviceCodeStarted {
  @ApiProperty({ example: 'ABCD1234' }) userCode: string;
  @ApiProperty({ example: 'https://microsoft.com/devicelogin' }) verificationUri: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ description: 'Seconds between polls' }) interval: number;
  @ApiProperty() message: string;
}

class ImportTokenDto {
  @Field({ kind: 'string', required: true, maxLength: FIELD_LIMITS.token, writeOnly: true, description: 'Refresh token the CRM holds; redeemed once at import (nothing is stored if refused)' })
  refreshToken: string;

  @Field({ kind: 'string', maxLength: FIELD_LIMITS.token, minLength: 0, writeOnly: true, description: 'Accepted for compatibility; a fresh access token is obtained at import' })
  accessToken?: string;

  @Field({ kind: 'string', maxLength: FIELD_LIMITS.dateTime, check: isoDateTime('2026-11-21T10:00:00Z'), description: 'Expiry of accessToken (ISO 8601)' })
  expiresAt?: string;
}

@ApiTags('oauth')
@Controller('v1')
export class OAuthController {
  constructor(
    private readonly deviceCodes: DeviceCodeFlowService,
    private readonly authorizationCodes: AuthorizationCodeFlowService,
    private readonly imports: TokenImportService,
    private readonly appOnly: AppOnlyTokenService,
  ) {}

  @Post('mailboxes/:id/oauth/device-code')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: DeviceCodeResponse, description: 'Show the user code and address; the service polls until the user signs in' })
  deviceCode(@IdParam() id: string): Promise<DeviceCodeStarted> {
    return this.deviceCodes.start(id);
  }

  @Get('mailboxes/:id/oauth/authorize')
  @ApiBearerAuth()
  @ApiFoundResponse({ description: 'Redirect to the identity provider consent page (send the user there)' })
  async authorize(@IdParam() id: string, @Res() res: Response): Promise<void> {
    res.redirect(302, await this.authorizationCodes.authorizationUrl(id));
  }

  @Get('oauth/callback')
  @Public()
  @ApiExcludeEndpoint()
  async callback(@Query() raw: Record<string, unknown>, @Res() res: Response): Promise<void> {
    // Identity providers add parameters of their own (session_state, client_info, scope…): read only ours.
    const pick = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
    const query: CallbackQuery = { code: pick('code'), state: pick('state'), error: pick('error'), error_description: pick('error_description') };
    let outcome: CallbackOutcome;
    try {
      outcome = await this.authorizationCodes.callback(query);
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      const body = error.getResponse();
      outcome = { status: error.getStatus(), title: 'Sign-in failed', message: typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? error.message) };
    }
    res.status(outcome.status).type('html').setHeader('Cache-Control', 'no-store').send(renderCallbackPage(outcome.title, outcome.message, this.nextOf(outcome)));
  }

  /** A sign-in the console started goes back to its mailbox's page: at once when it worked, by a link when not. */
  private nextOf(outcome: CallbackOutcome): CallbackNext | undefined {
    if (outcome.returnTo !== 'console' || !outcome.mailboxId) return undefined;
    return { href: consoleMailboxPath(outcome.mailboxId), label: 'Back to the mailbox in the console', automatic: outcome.status === 200 };
  }

  @Put('mailboxes/:id/token')
  @ApiBearerAuth()
  @ApiOkResponse({ type: TokenStatusResponse })
  importToken(@IdParam() id: string, @Body() dto: ImportTokenDto): Promise<TokenStatus> {
    return this.imports.import(id, dto.refreshToken);
  }

  @Delete('mailboxes/:id/token')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Tokens forgotten; state not_obtained' })
  deleteToken(@IdParam() id: string): Promise<void> {
    return this.imports.remove(id);
  }

  @Post('providers/:id/oauth/app-token')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: TokenStatusResponse, description: 'Acquires the app-only (client credentials) token now and reports it' })
  appToken(@IdParam() id: string): Promise<TokenStatus> {
    return this.appOnly.acquire(id);
  }
}
