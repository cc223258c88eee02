import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { PROVIDER_TYPES, ProviderType } from '@app/persistence';
import { OAuthSettingsDto, OAuthSettingsPatchDto } from './oauth-settings.dto';
import { ProviderSettingsDto } from './provider-settings.dto';

export class CreateProviderDto extends ProviderSettingsDto {
  @ApiProperty({ example: 'Contoso Exchange Online' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: PROVIDER_TYPES })
  @IsIn(PROVIDER_TYPES, { message: `must be one of: ${PROVIDER_TYPES.join(', ')}` })
  type: ProviderType;

  @ApiPropertyOptional({ type: OAuthSettingsDto, description: 'Required when authMethod is oauth2' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OAuthSettingsDto)
  oauth?: OAuthSettingsDto;
}

export class UpdateProviderDto extends ProviderSettingsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;

  @ApiPropertyOptional({ enum: PROVIDER_TYPES })
  @IsOptional()
  @IsIn(PROVIDER_TYPES, { message: `must be one of: ${PROVIDER_TYPES.join(', ')}` })
  type?: ProviderType;

  @ApiPropertyOptional({ type: OAuthSettingsPatchDto, description: 'Fields given replace the stored ones' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OAuthSettingsPatchDto)
  oauth?: OAuthSettingsPatchDto;
}
