package dev.swarmd.node;

import dev.swarmd.protocol.Cause;
import dev.swarmd.store.Entities;
import dev.swarmd.view.SwarmView;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Cluster membership is the node list's status: a member that is up and reachable is a ready node;
 * one that is unreachable or gone is down. Each member carries its node ID as the role "node:<id>".
 * A member whose node was removed from the swarm is downed: its certificate no longer gets it in.
 */
public final class Membership {
  private static final Duration GRACE = Duration.ofSeconds(15);

  private record Check() implements ClusterEvent.ClusterDomainEvent {}

  private Membership() {}

  public static Behavior<ClusterEvent.ClusterDomainEvent> create(Entities entities, SwarmView view) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster.subscriptions().tell(
          Subscribe.<ClusterEvent.MemberEvent>create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.<ClusterEvent.ReachabilityEvent>create(ctx.getSelf().narrow(),
          ClusterEvent.ReachabilityEvent.class));
      // After a manager restart the journal still says "ready" for nodes that may be gone: those
      // that have not come back as members within a grace period are marked down.
      timers.startSingleTimer(new Check(), GRACE);
      return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
          .onMessage(ClusterEvent.MemberUp.class, e -> up(ctx, entities, view, e.member()))
          .onMessage(ClusterEvent.ReachableMember.class, e -> up(ctx, entities, view, e.member()))
          .onMessage(ClusterEvent.UnreachableMember.class,
              e -> status(ctx, entities, e.member(), "down", "heartbeat failure"))
          .onMessage(ClusterEvent.MemberRemoved.class,
              e -> status(ctx, entities, e.member(), "down", "node left the cluster"))
          .onMessage(Check.class, c -> check(ctx, entities, view))
          .onAnyMessage(e -> Behaviors.same())
          .build();
    }));
  }

  private static Behavior<ClusterEvent.ClusterDomainEvent> up(ActorContext<ClusterEvent.ClusterDomainEvent> ctx,
      Entities entities, SwarmView view, Member member) {
    Optional<String> nodeId = nodeId(member);
    if (nodeId.isPresent() && view.node(nodeId.get()).isEmpty() && !member.hasRole("manager")) {
      ctx.getLog().warn("member {} claims node {}, which is not in the swarm: downing it", member.address(),
          nodeId.get());
      Cluster.get(ctx.getSystem()).manager().tell(new Down(member.address()));
      return Behaviors.same();
    }
    return status(ctx, entities, member, "ready", null);
  }

  private static Behavior<ClusterEvent.ClusterDomainEvent> check(ActorContext<ClusterEvent.ClusterDomainEvent> ctx,
      Entities entities, SwarmView view) {
    Set<String> members = new HashSet<>();
    for (Member m : Cluster.get(ctx.getSystem()).state().getMembers()) {
      if (m.status() == MemberStatus.up()) {
        nodeId(m).ifPresent(members::add);
      }
    }
    view.nodes().stream().filter(n -> n.ready() && !members.contains(n.id())).forEach(n -> {
      ctx.getLog().info("node {} did not come back after the manager started: marking it down", n.id());
      entities.node(n.id(), r -> new NodeEntity.SetStatus("down", "heartbeat failure",
          Cause.loop("membership", "not a member after start"), r));
    });
    return Behaviors.same();
  }

  private static Behavior<ClusterEvent.ClusterDomainEvent> status(ActorContext<ClusterEvent.ClusterDomainEvent> ctx,
      Entities entities, Member member, String state, String message) {
    nodeId(member).ifPresent(nodeId -> {
      ctx.getLog().info("node {} is {} ({})", nodeId, state, member.address());
      entities.node(nodeId, r -> new NodeEntity.SetStatus(state, message, Cause.loop("membership", "member " + state), r));
    });
    return Behaviors.same();
  }

  private static Optional<String> nodeId(Member member) {
    return member.getRoles().stream().filter(r -> r.startsWith("node:")).findFirst()
        .map(r -> r.substring("node:".length()));
  }
}
