/**
 * `command` (file and arguments) to run on these CPUs only (a `taskset -c` list, e.g. `"0"`), or as it is
 * when none are given. taskset execs the command in its own process: the spawned pid is the command's, so
 * signals and process groups reach it as without taskset; whatever it forks inherits the CPUs.
 */
export function onCpus(command: string[], cpus: string | undefined): string[] {
  return cpus ? ['taskset', '-c', cpus, ...command] : command;
}
