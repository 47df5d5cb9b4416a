/**
 * Global setup of the fault suite: the same local stack as the integration tests (found running, or started here and
 * stopped afterwards), through the same code. Fault cases get its clients from test/helpers/stack.ts and the
 * service-level levers (kill a service, bring the stack back with `quakectl local up`) from test/faults/levers.ts.
 * The project runs after unit and integration (vitest.config.ts `groupOrder`), one file at a time: a case that kills
 * a service must not pull it from under another test.
 */
export { default } from '../integration/global-setup.ts';
