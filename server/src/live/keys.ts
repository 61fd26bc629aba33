/** Redis key and channel names of live data, all under the deployment's queue prefix. */
export class LiveKeys {
  constructor(readonly prefix: string) {}

  /** The run's event stream; entry ids are `<seq>-0`, so a replay from N is one XRANGE. */
  stream(executionId: number): string {
    return `${this.prefix}:live:run:${executionId}:events`;
  }

  /** The run's last assigned sequence number. */
  seq(executionId: number): string {
    return `${this.prefix}:live:run:${executionId}:seq`;
  }

  /** Pub/sub channel that carries each event of the run once it is in the stream. */
  eventsChannel(executionId: number): string {
    return `${this.prefix}:live:run:${executionId}:channel`;
  }

  /** Pub/sub channel of execution-level events of every run, for the dashboard room. */
  get executionsChannel(): string {
    return `${this.prefix}:live:executions`;
  }

  /** Pub/sub channel of the run's browser frames (never stored). */
  framesChannel(executionId: number): string {
    return `${this.prefix}:live:run:${executionId}:frames`;
  }

  /** Sorted set of API nodes with a frame watcher of the run, scored by when that lapses. */
  frameWatchers(executionId: number): string {
    return `${this.prefix}:live:run:${executionId}:frame-watchers`;
  }

  /** Which API node computes the dashboard tick for the whole cluster right now. */
  get dashboardLeader(): string {
    return `${this.prefix}:live:dashboard:leader`;
  }

  /** The latest tick, for clients that join between ticks. */
  get dashboardLast(): string {
    return `${this.prefix}:live:dashboard:last`;
  }

  get dashboardSeq(): string {
    return `${this.prefix}:live:dashboard:seq`;
  }

  /** Socket.IO redis adapter's channel prefix. */
  get adapter(): string {
    return `${this.prefix}:live:socket.io`;
  }
}
