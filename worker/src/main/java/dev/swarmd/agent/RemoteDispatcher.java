package dev.swarmd.agent;

import dev.swarmd.protocol.Dispatcher;
import dev.swarmd.protocol.DispatcherProtocol;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.StatusReport;
import dev.swarmd.protocol.TaskAssignment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A worker's view of the managers' dispatcher: finds it through the receptionist, subscribes for
 * this node's assignments, and sends status reports to it. Until the first assignments arrive it
 * is not synced, so that the agent does not mistake "not heard yet" for "nothing to run".
 */
public final class RemoteDispatcher implements Dispatcher {
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(10);

  private final ActorSystem<?> system;
  private final List<Runnable> watchers = new CopyOnWriteArrayList<>();
  private volatile List<TaskAssignment> assignments = List.of();
  private volatile List<IngressRoute> routes = List.of();
  private volatile List<ServiceName> names = List.of();
  private volatile String resolver;
  private volatile String subnet;
  private volatile boolean synced;
  private volatile ActorRef<DispatcherProtocol.Command> dispatcher;

  public RemoteDispatcher(ActorSystem<?> system, String nodeId) {
    this.system = system;
    system.systemActorOf(client(nodeId), "dispatcher-client", Props.empty());
  }

  private sealed interface Msg {}

  private record Found(Receptionist.Listing listing) implements Msg {}

  private record Got(DispatcherProtocol.Assignments assignments) implements Msg {}

  private record Resubscribe() implements Msg {}

  private Behavior<Msg> client(String nodeId) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, Found::new);
      ActorRef<DispatcherProtocol.Assignments> inbox =
          ctx.messageAdapter(DispatcherProtocol.Assignments.class, Got::new);
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(DispatcherProtocol.KEY, listings));
      // Subscriptions are renewed, so that a manager that restarted learns of this agent again.
      timers.startTimerWithFixedDelay(new Resubscribe(), Duration.ofSeconds(5));
      return Behaviors.receive(Msg.class)
          .onMessage(Found.class, f -> {
            f.listing().getServiceInstances(DispatcherProtocol.KEY).stream().findFirst().ifPresent(d -> {
              dispatcher = d;
              d.tell(new DispatcherProtocol.Subscribe(nodeId, inbox));
            });
            return Behaviors.same();
          })
          .onMessage(Resubscribe.class, r -> {
            ActorRef<DispatcherProtocol.Command> d = dispatcher;
            if (d != null) {
              d.tell(new DispatcherProtocol.Subscribe(nodeId, inbox));
            }
            return Behaviors.same();
          })
          .onMessage(Got.class, g -> {
            assignments = g.assignments().tasks();
            routes = g.assignments().routes() == null ? List.of() : g.assignments().routes();
            names = g.assignments().names() == null ? List.of() : g.assignments().names();
            resolver = g.assignments().resolver();
            subnet = g.assignments().subnet();
            synced = true;
            watchers.forEach(Runnable::run);
            return Behaviors.same();
          })
          .build();
    }));
  }

  @Override
  public List<TaskAssignment> assignments(String nodeId) {
    return assignments;
  }

  @Override
  public List<IngressRoute> routes() {
    return routes;
  }

  @Override
  public List<ServiceName> names() {
    return names;
  }

  @Override
  public String resolver() {
    return resolver;
  }

  @Override
  public String subnet() {
    return subnet;
  }

  @Override
  public CompletionStage<Boolean> report(StatusReport report) {
    ActorRef<DispatcherProtocol.Command> d = dispatcher;
    if (d == null) {
      return CompletableFuture.completedFuture(false);
    }
    return AskPattern.<DispatcherProtocol.Command, DispatcherProtocol.Ack>ask(d,
            replyTo -> new DispatcherProtocol.Report(report, replyTo), REPORT_TIMEOUT, system.scheduler())
        .thenApply(DispatcherProtocol.Ack::accepted);
  }

  @Override
  public void processEnded(String nodeId, String taskId) {
    ActorRef<DispatcherProtocol.Command> d = dispatcher;
    if (d != null) {
      // An ask only for the reply address the manager checks the sender by; the answer is not needed.
      AskPattern.<DispatcherProtocol.Command, DispatcherProtocol.Ack>ask(d,
          replyTo -> new DispatcherProtocol.ProcessEnded(nodeId, taskId, replyTo), REPORT_TIMEOUT, system.scheduler());
    }
  }

  @Override
  public void watch(Runnable onChange) {
    watchers.add(onChange);
  }

  @Override
  public boolean synced() {
    return synced;
  }
}
