import type { ZodError } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

/** An error that becomes an RFC 9457 problem+json response as it is. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const titleFor = (status: number) => TITLES[status] ?? 'Error';

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(400, titleFor(400), detail, errors ? { errors } : {});

export const notFound = (detail: string) => new HttpProblem(404, titleFor(404), detail);

/** Validation failures as field errors; unknown keys name each parameter. */
function fieldErrorsOf(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: base ? `${base}.${key}` : key,
        message: 'unknown parameter',
      }));
    }
    return [{ path: base, message: issue.message }];
  });
}

export function validationProblem(error: ZodError, where: string): HttpProblem {
  const errors = fieldErrorsOf(error);
  const unknown = errors.filter((e) => e.message === 'unknown parameter').map((e) => e.path);
  const detail = unknown.length
    ? `unknown ${where} parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`
    : `invalid ${where}: ${errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ')}`;
  return badRequest(detail, errors);
}

/** 503 with Retry-After: the database, a full compute queue, a shutdown, a schema behind. */
export const unavailable = (detail: string, retryAfterSeconds: number) =>
  new HttpProblem(503, titleFor(503), detail, { headers: { 'retry-after': String(retryAfterSeconds) } });
