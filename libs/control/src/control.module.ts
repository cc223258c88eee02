import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { ClientProxy, ClientsModule } from '@nestjs/microservices';
import { AppConfig } from '@app/config';
import { ControlRedisClient } from './control-redis.client';
import { controlTransport } from './control-transport';
import { CONTROL_CLIENT, MailboxAnnouncer } from './mailbox-announcer';

/** The API's side of control messages: MailboxAnnouncer, global so the OAuth flows can announce token changes. */
@Global()
@Module({})
export class ControlModule {
  static forRoot(config: AppConfig): DynamicModule {
    // The cast: Nest types customClass as a ClientProxy of string statuses, ClientRedis's are RedisStatus.
    const customClass = ControlRedisClient as unknown as Type<ClientProxy>;
    return {
      module: ControlModule,
      imports: [ClientsModule.register([{ name: CONTROL_CLIENT, customClass, options: controlTransport(config).options }])],
      providers: [MailboxAnnouncer],
      exports: [MailboxAnnouncer],
    };
  }
}
