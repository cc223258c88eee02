import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { OutboundPolicy } from './outbound-policy';

/** The outbound policy built from the validated configuration (enforced when NODE_ENV=production). */
@Module({
  providers: [{ provide: OutboundPolicy, inject: [APP_CONFIG], useFactory: (config: AppConfig) => OutboundPolicy.fromConfig(config) }],
  exports: [OutboundPolicy],
})
export class OutboundModule {}
