import { BadRequestException, Param, ParseUUIDPipe } from '@nestjs/common';

/**
 * A UUID path parameter: anything else (NUL bytes, SQL, emoji, a character too many) is a 400 naming the
 * parameter before it reaches Postgres, whose uuid parser would answer 22P02 / 22021.
 */
export function IdParam(name = 'id'): ParameterDecorator {
  return Param(name, new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name}: must be a UUID`) }));
}
