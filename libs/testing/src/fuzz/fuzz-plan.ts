import { combinationCases, fieldCases, unknownKeyCases, wholeBodyCases } from './body-mutations';
import { CaseFactory } from './case-factory';
import { FuzzCase, OperationSetup, PlanOptions } from './fuzz-case';
import { OpenApiDocument, operationsOf } from './openapi-operations';
import { Prng } from './prng';
import { transportCases } from './transport-mutations';
import { pathCases, queryCases } from './url-mutations';

export interface FuzzPlan {
  seed: number;
  /**
   * One lane per operation. A lane's requests run one after the other (concurrency is across lanes),
   * so what a request changes (a PATCH that passed, a DELETE) happens at the same point on every run.
   */
  lanes: FuzzCase[][];
  size: number;
}

export interface FuzzPlanOptions extends PlanOptions {
  seed: number;
  /** Random several-field mutations per body operation. */
  combinations: number;
}

/**
 * Every operation of the document, each with: every body field mutated one at a time, unknown and
 * prototype keys, whole-body replacements, encodings and content types, path and query variants, and a
 * few random combinations; and the unmutated request.
 */
export function planFuzz(doc: OpenApiDocument, setups: Record<string, OperationSetup>, options: FuzzPlanOptions): FuzzPlan {
  const prng = new Prng(options.seed);
  const lanes = operationsOf(doc).map((operation) => {
    const setup = setups[operation.key] ?? {};
    const factory = new CaseFactory(operation, setup, options, prng);
    const cases = [
      ...fieldCases(factory),
      ...unknownKeyCases(factory),
      ...wholeBodyCases(factory),
      ...transportCases(factory),
      ...pathCases(factory, setup.pathParams ?? {}),
      ...queryCases(factory),
      ...combinationCases(factory, options.combinations),
    ];
    // The valid request runs last (after every mutation, the row still answers normally), except a
    // DELETE's: it removes the row, so it runs first and the mutations meet a row that is gone.
    return operation.method === 'DELETE' ? [factory.baseline(), ...prng.shuffle(cases)] : [...prng.shuffle(cases), factory.baseline()];
  });
  return { seed: options.seed, lanes, size: lanes.reduce((total, lane) => total + lane.length, 0) };
}
