import { runBrokerForeground } from '@orderstream/testing';

/** `orderstream broker`: a local single-node Kafka broker in the foreground until Ctrl-C. */
export async function runBroker(options: { port?: number | undefined; dataDir?: string | undefined }): Promise<number> {
  await runBrokerForeground({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  });
  return 0;
}
