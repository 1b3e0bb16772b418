// Which implementation runs a request: the builtin reference models or an external command.
import { builtinStages } from './builtin';
import { commandStage, type CommandStageOptions } from './command/backend';
import { ConfigError } from './params';
import type { StageImpl, StageRequest } from './contract';

export function stageBackends(options: CommandStageOptions = {}): (request: StageRequest) => StageImpl {
  const command = commandStage(options);
  return (request) => {
    if (request.backend === 'command') return command;
    const impl = builtinStages[request.stage];
    if (!impl) throw new ConfigError(`stage "${request.stage}" has no builtin implementation; set stages.${request.stage}.backend to "command" (docs/command-backend.md)`);
    return impl;
  };
}
