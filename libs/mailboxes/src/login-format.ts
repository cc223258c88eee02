import { BadRequestException } from '@nestjs/common';
import { LoginFormat } from '@app/persistence';

/**
 * The login a mailbox uses: the full address, the part before `@`, or (manual) the one supplied.
 * A supplied login is refused for derived formats so an integrator is never silently overridden.
 */
export function deriveLogin(format: LoginFormat, email: string, supplied: string | undefined, providerName: string): string {
  if (format === 'manual') {
    if (!supplied) throw new BadRequestException(`login: is required because provider "${providerName}" uses the manual login format`);
    return supplied;
  }
  if (supplied !== undefined) {
    throw new BadRequestException(`login: only accepted when the provider's loginFormat is manual (provider "${providerName}" uses ${format})`);
  }
  return format === 'email' ? email : email.slice(0, email.lastIndexOf('@'));
}
