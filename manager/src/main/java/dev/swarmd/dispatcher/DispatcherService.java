package dev.swarmd.dispatcher;

import dev.swarmd.protocol.DispatcherProtocol;
import dev.swarmd.protocol.DispatcherProtocol.Ack;
import dev.swarmd.protocol.DispatcherProtocol.Assignments;
import dev.swarmd.protocol.DispatcherProtocol.ProcessEnded;
import dev.swarmd.protocol.DispatcherProtocol.Report;
import dev.swarmd.protocol.DispatcherProtocol.Subscribe;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.view.SwarmView;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The managers' dispatcher for workers across the cluster: sends each subscribed agent its
 * assignments whenever they change, and takes its status reports. A subscription or report is
 * accepted only from the cluster member that carries that node's ID (its certificate's node), and
 * a report only for a task assigned to that node (the task entity checks).
 */
public final class DispatcherService extends AbstractBehavior<DispatcherProtocol.Command> {
  private record Push() implements DispatcherProtocol.Command {}

  private record Resend() implements DispatcherProtocol.Command {}

  private record Reported(ActorRef<Ack> replyTo, boolean ok) implements DispatcherProtocol.Command {}

  private final ManagerDispatcher local;
  private final SwarmView view;
  private final TimerScheduler<DispatcherProtocol.Command> timers;
  private final Map<String, ActorRef<Assignments>> agents = new HashMap<>();
  private final Map<String, Assignments> sent = new HashMap<>();

  public static Behavior<DispatcherProtocol.Command> create(ManagerDispatcher local, SwarmView view) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(DispatcherProtocol.KEY, ctx.getSelf()));
      // A lost message must not leave a worker stale for long: everything is sent again every few seconds.
      timers.startTimerWithFixedDelay("resend", new Resend(), Duration.ofSeconds(5));
      return new DispatcherService(ctx, timers, local, view);
    }));
  }

  private DispatcherService(ActorContext<DispatcherProtocol.Command> ctx,
      TimerScheduler<DispatcherProtocol.Command> timers, ManagerDispatcher local, SwarmView view) {
    super(ctx);
    this.timers = timers;
    this.local = local;
    this.view = view;
    var self = ctx.getSelf();
    local.watch(() -> self.tell(new Push()));
  }

  @Override
  public Receive<DispatcherProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::subscribe)
        .onMessage(Report.class, this::report)
        .onMessage(ProcessEnded.class, this::processEnded)
        .onMessage(Reported.class, m -> {
          m.replyTo().tell(new Ack(m.ok()));
          return this;
        })
        .onMessage(Push.class, m -> push())
        .onMessage(Resend.class, m -> {
          sent.clear();
          return push();
        })
        .build();
  }

  private Behavior<DispatcherProtocol.Command> subscribe(Subscribe s) {
    if (!fromNode(s.nodeId(), s.agent().path().address())) {
      getContext().getLog().warn("refused a subscription for node {} from {}", s.nodeId(), s.agent().path().address());
      return this;
    }
    if (!Objects.equals(agents.put(s.nodeId(), s.agent()), s.agent())) {
      getContext().getLog().info("node {} agent subscribed from {}", s.nodeId(), s.agent().path().address());
    }
    sent.remove(s.nodeId());
    return push();
  }

  private Behavior<DispatcherProtocol.Command> report(Report r) {
    String nodeId = r.report().nodeId();
    ActorRef<Assignments> agent = agents.get(nodeId);
    if (agent == null || !agent.path().address().equals(r.replyTo().path().address())) {
      getContext().getLog().warn("refused a report for node {} from {}", nodeId, r.replyTo().path().address());
      r.replyTo().tell(new Ack(false));
      return this;
    }
    getContext().pipeToSelf(local.report(r.report()), (ok, err) -> new Reported(r.replyTo(), err == null && ok));
    return this;
  }

  private Behavior<DispatcherProtocol.Command> processEnded(ProcessEnded p) {
    ActorRef<Assignments> agent = agents.get(p.nodeId());
    boolean fromAgent = agent != null && agent.path().address().equals(p.replyTo().path().address());
    if (fromAgent) {
      local.processEnded(p.nodeId(), p.taskId());
    }
    p.replyTo().tell(new Ack(fromAgent));
    return this;
  }

  private Behavior<DispatcherProtocol.Command> push() {
    agents.entrySet().removeIf(e -> view.node(e.getKey()).isEmpty());
    List<IngressRoute> routes = agents.isEmpty() ? List.of() : local.routes();
    List<ServiceName> names = agents.isEmpty() ? List.of() : local.names();
    for (Map.Entry<String, ActorRef<Assignments>> e : agents.entrySet()) {
      Assignments now = new Assignments(local.assignments(e.getKey()), routes, names, local.resolver(),
          local.subnet());
      if (!now.equals(sent.get(e.getKey()))) {
        e.getValue().tell(now);
        sent.put(e.getKey(), now);
      }
    }
    // A restart withheld until its delay is over changes nothing in the view when it falls due: push then.
    if (!agents.isEmpty()) {
      local.untilNextHandover().ifPresent(d -> timers.startSingleTimer("handover", new Push(), d));
    }
    return this;
  }

  /** Whether address is the cluster member of node nodeId, a node the swarm still has. */
  private boolean fromNode(String nodeId, Address address) {
    if (view.node(nodeId).isEmpty()) {
      return false;
    }
    for (var m : Cluster.get(getContext().getSystem()).state().getMembers()) {
      boolean up = m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp();
      if (m.address().equals(address) && m.getRoles().contains("node:" + nodeId) && up) {
        return true;
      }
    }
    return false;
  }
}
