export * from './broker/types.js';
export { repoRoot, brokerDir, brokerLibDir, brokerLog4jFile, defaultForegroundDataDir } from './broker/paths.js';
export { ensureBrokerJars, type EnsureBrokerJarsOptions, type BrokerJars } from './broker/jars.js';
export { findFreePort, isPortFree, assertPortFree, canConnect, LOOPBACK } from './broker/ports.js';
export {
  TEST_BROKER_SETTINGS,
  FIXED_CLUSTER_ID,
  renderServerProperties,
  dockerEnvName,
  toDockerEnv,
  randomClusterId,
  type BrokerSettings,
  type ServerPropertiesInput,
} from './broker/settings.js';
export { startLocalBroker, logExcerpt, BROKER_STARTED_LINE, type LocalBrokerOptions } from './broker/local.js';
export {
  isDockerAvailable,
  startDockerBroker,
  KAFKA_DOCKER_IMAGE,
  type DockerBrokerOptions,
  type DockerProbeOptions,
} from './broker/docker.js';
export { startBroker, parseBrokerList, type StartBrokerOptions, type BrokerMode } from './broker/start.js';
export { stopAllBrokers, killAllBrokersSync, isProcessAlive } from './broker/lifecycle.js';
export { runBrokerForeground, type ForegroundOptions } from './broker/foreground.js';
export { waitFor, uniqueName, type WaitForOptions } from './wait.js';
export {
  startSchemaRegistry,
  startLocalRegistry,
  ensureRegistryDist,
  registryDistDir,
  CCOMPAT_PATH,
  type SchemaRegistry,
  type LocalSchemaRegistry,
  type LocalRegistryOptions,
} from './registry/registry.js';
