export * from './dto/create-provider.dto';
export * from './dto/oauth-settings.dto';
export * from './dto/provider-settings.dto';
export * from './dto/provider.response';
export * from './provider-settings';
export * from './provider.mapper';
export * from './providers.module';
export * from './providers.service';
