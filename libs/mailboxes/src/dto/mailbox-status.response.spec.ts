import { FailureCode } from '@app/failures';
import { StatusErrorResponse } from './mailbox-status.response';

/** Where @ApiProperty keeps a property's schema (@nestjs/swagger's DECORATORS.API_MODEL_PROPERTIES, not exported). */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

describe('StatusErrorResponse in the OpenAPI document', () => {
  it('lastError.code lists every code of the failure vocabulary and the passed-through patterns', () => {
    const property = Reflect.getMetadata(API_MODEL_PROPERTIES, StatusErrorResponse.prototype, 'code') as { description: string };
    for (const code of Object.values(FailureCode)) expect(property.description).toContain(`\`${code}\``);
    expect(property.description).toContain('`GRAPH_<code>`');
    expect(property.description).toContain('`AADSTS<number>`');
  });
});
