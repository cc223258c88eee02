import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

/** A console page asked for without a session: the filter sends the browser to the sign-in page. */
export class ConsoleSignInRequired extends UnauthorizedException {
  constructor(readonly returnTo: string) {
    super('Sign in to the console first');
  }
}

/** A state-changing console request without its session's CSRF token. */
export class ConsoleCsrfRefused extends ForbiddenException {
  constructor() {
    super('This form has expired or did not come from the console. Go back, reload the page and try again.');
  }
}
