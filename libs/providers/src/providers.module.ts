import { Module } from '@nestjs/common';
import { OutboundModule } from '@app/outbound';
import { ProvidersService } from './providers.service';

@Module({ imports: [OutboundModule], providers: [ProvidersService], exports: [ProvidersService] })
export class ProvidersModule {}
