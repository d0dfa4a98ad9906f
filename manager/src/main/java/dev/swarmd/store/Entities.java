package dev.swarmd.store;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Asks the sharded entities, with the one timeout every caller uses. The entities live on the Raft
 * leader; a reply is passed on once this manager's view has folded the state it names, so that a
 * client reads its own writes from whichever manager it asked.
 */
public final class Entities {
  public static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);
  /** How long a reply waits for this manager to apply the write it reports. */
  private static final Duration CATCH_UP = Duration.ofSeconds(5);
  private final ClusterSharding sharding;
  private final VersionClock applied;

  /** applied: the version clock this manager's view moves as it folds the committed log. */
  public Entities(ActorSystem<?> system, VersionClock applied) {
    this.sharding = ClusterSharding.get(system);
    this.applied = applied;
  }

  public CompletionStage<ServiceEntity.Reply> service(String id,
      Function<ActorRef<ServiceEntity.Reply>, ServiceEntity.Command> command) {
    return ask(ServiceEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<TaskEntity.Reply> task(String id,
      Function<ActorRef<TaskEntity.Reply>, TaskEntity.Command> command) {
    return ask(TaskEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<NodeEntity.Reply> node(String id,
      Function<ActorRef<NodeEntity.Reply>, NodeEntity.Command> command) {
    return ask(NodeEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<SwarmEntity.Reply> swarm(
      Function<ActorRef<SwarmEntity.Reply>, SwarmEntity.Command> command) {
    return ask(SwarmEntity.KEY, SwarmEntity.ID, command, r -> r.state() == null ? 0 : r.state().version());
  }

  private <C, R> CompletionStage<R> ask(EntityTypeKey<C> key, String id, Function<ActorRef<R>, C> command,
      ToLongFunction<R> version) {
    return sharding.entityRefFor(key, id).ask(command::apply, ASK_TIMEOUT)
        .thenCompose(r -> caughtUp(version.applyAsLong(r), System.nanoTime() + CATCH_UP.toNanos()).thenApply(v -> r));
  }

  private CompletableFuture<Void> caughtUp(long version, long deadline) {
    if (applied.current() >= version || System.nanoTime() > deadline) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS))
        .thenCompose(v -> caughtUp(version, deadline));
  }
}
