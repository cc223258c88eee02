import { PROVIDER_TYPES, ProviderType } from '@app/persistence';
import { Field, FIELD_LIMITS } from '@app/validation';
import { OAuthSettingsDto, OAuthSettingsPatchDto } from './oauth-settings.dto';
import { ProviderSettingsDto } from './provider-settings.dto';

const NAME = { kind: 'string', maxLength: FIELD_LIMITS.name } as const;

export class CreateProviderDto extends ProviderSettingsDto {
  @Field({ ...NAME, required: true, example: 'Contoso Exchange Online' })
  name: string;

  @Field({ kind: 'enum', values: PROVIDER_TYPES, required: true })
  type: ProviderType;

  @Field({ kind: 'object', type: () => OAuthSettingsDto, description: 'Required when authMethod is oauth2' })
  oauth?: OAuthSettingsDto;
}

export class UpdateProviderDto extends ProviderSettingsDto {
  @Field(NAME)
  name?: string;

  @Field({ kind: 'enum', values: PROVIDER_TYPES })
  type?: ProviderType;

  @Field({ kind: 'object', type: () => OAuthSettingsPatchDto, description: 'Fields given replace the stored ones' })
  oauth?: OAuthSettingsPatchDto;
}
