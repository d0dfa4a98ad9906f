package dev.swarmd.node;

import dev.swarmd.protocol.Cause;
import dev.swarmd.store.Entities;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Cluster membership is the node list's status: a member that is up is a ready node, one that is
 * unreachable or gone is down. Each member carries its node ID as the role "node:<id>".
 */
public final class Membership {
  private Membership() {}

  public static Behavior<ClusterEvent.MemberEvent> create(Entities entities) {
    return Behaviors.setup(ctx -> {
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberEvent.class));
      return Behaviors.receive(ClusterEvent.MemberEvent.class)
          .onMessage(ClusterEvent.MemberUp.class, e -> status(ctx, entities, e.member(), "ready", null))
          .onMessage(ClusterEvent.MemberRemoved.class,
              e -> status(ctx, entities, e.member(), "down", "heartbeat failure"))
          .onAnyMessage(e -> Behaviors.same())
          .build();
    });
  }

  private static Behavior<ClusterEvent.MemberEvent> status(
      org.apache.pekko.actor.typed.javadsl.ActorContext<ClusterEvent.MemberEvent> ctx, Entities entities,
      Member member, String state, String message) {
    member.getRoles().stream().filter(r -> r.startsWith("node:")).findFirst().ifPresent(role -> {
      String nodeId = role.substring("node:".length());
      ctx.getLog().info("node {} is {} ({})", nodeId, state, member.address());
      entities.node(nodeId,
          r -> new NodeEntity.SetStatus(state, message, Cause.loop("membership", "member " + state), r));
    });
    return Behaviors.same();
  }
}
