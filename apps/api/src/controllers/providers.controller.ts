import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsEmail, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '@app/http';
import { CreateProviderDto, ProviderListResponse, ProviderResponse, ProvidersService, UpdateProviderDto } from '@app/providers';
import { FIELD_LIMITS, IdParam } from '@app/validation';

class ResolveQueryDto {
  @IsEmail({ require_tld: false }, { message: 'must be an email address such as ana@contoso.com' })
  @MaxLength(FIELD_LIMITS.email)
  email: string;
}

@ApiTags('providers')
@ApiBearerAuth()
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Post()
  @ApiCreatedResponse({ type: ProviderResponse })
  create(@Body() dto: CreateProviderDto): Promise<ProviderResponse> {
    return this.providers.create(dto);
  }

  @Get()
  @ApiOkResponse({ type: ProviderListResponse })
  list(@Query() query: PaginationQueryDto): Promise<ProviderListResponse> {
    return this.providers.list(query.limit, query.offset);
  }

  @Get('resolve')
  @ApiQuery({ name: 'email', example: 'ana@contoso.com' })
  @ApiOkResponse({ type: ProviderResponse, description: 'The provider serving the address domain (or a parent domain)' })
  resolve(@Query() query: ResolveQueryDto): Promise<ProviderResponse> {
    return this.providers.resolve(query.email);
  }

  @Get(':id')
  @ApiOkResponse({ type: ProviderResponse })
  get(@IdParam() id: string): Promise<ProviderResponse> {
    return this.providers.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: ProviderResponse })
  update(@IdParam() id: string, @Body() dto: UpdateProviderDto): Promise<ProviderResponse> {
    return this.providers.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'Mailboxes still use the provider' })
  remove(@IdParam() id: string): Promise<void> {
    return this.providers.remove(id);
  }
}
