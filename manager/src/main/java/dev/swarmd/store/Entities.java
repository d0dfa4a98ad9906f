package dev.swarmd.store;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/** Asks the sharded entities, with the one timeout every caller uses. */
public final class Entities {
  public static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);
  private final ClusterSharding sharding;

  public Entities(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
  }

  public CompletionStage<ServiceEntity.Reply> service(String id,
      Function<ActorRef<ServiceEntity.Reply>, ServiceEntity.Command> command) {
    return ask(ServiceEntity.KEY, id, command);
  }

  public CompletionStage<TaskEntity.Reply> task(String id,
      Function<ActorRef<TaskEntity.Reply>, TaskEntity.Command> command) {
    return ask(TaskEntity.KEY, id, command);
  }

  public CompletionStage<NodeEntity.Reply> node(String id,
      Function<ActorRef<NodeEntity.Reply>, NodeEntity.Command> command) {
    return ask(NodeEntity.KEY, id, command);
  }

  public CompletionStage<SwarmEntity.Reply> swarm(
      Function<ActorRef<SwarmEntity.Reply>, SwarmEntity.Command> command) {
    return ask(SwarmEntity.KEY, SwarmEntity.ID, command);
  }

  private <C, R> CompletionStage<R> ask(EntityTypeKey<C> key, String id, Function<ActorRef<R>, C> command) {
    return sharding.entityRefFor(key, id).ask(command::apply, ASK_TIMEOUT);
  }
}
