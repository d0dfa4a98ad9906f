package dev.swarmd.orchestrator;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.scheduler.Scheduler;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Entities;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Runs the orchestrator and then the scheduler whenever the view changes (and once a second, for
 * restart delays), one round at a time: a round's writes all land in the view before the next
 * round reads it, so no slot is filled twice.
 */
public final class ControlLoop extends AbstractBehavior<ControlLoop.Msg> {
  public sealed interface Msg {}

  public record Poke() implements Msg {}

  private record RoundDone() implements Msg {}

  private final SwarmView view;
  private final Entities entities;
  private boolean running;
  private boolean dirty;

  public static Behavior<Msg> create(SwarmView view, Entities entities) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Poke(), Duration.ofSeconds(1));
      var self = ctx.getSelf();
      view.watch(() -> self.tell(new Poke()));
      return new ControlLoop(ctx, view, entities);
    }));
  }

  private ControlLoop(ActorContext<Msg> ctx, SwarmView view, Entities entities) {
    super(ctx);
    this.view = view;
    this.entities = entities;
  }

  @Override
  public Receive<Msg> createReceive() {
    return newReceiveBuilder()
        .onMessage(Poke.class, m -> poke())
        .onMessage(RoundDone.class, this::roundDone)
        .build();
  }

  private Behavior<Msg> poke() {
    if (running) {
      dirty = true;
    } else {
      startRound();
    }
    return this;
  }

  private Behavior<Msg> roundDone(RoundDone m) {
    running = false;
    // Every write of a round pokes through the view, so dirty also covers the round's own writes.
    if (dirty) {
      dirty = false;
      startRound();
    }
    return this;
  }

  private void startRound() {
    if (!view.swarm().exists()) {
      return;
    }
    running = true;
    Instant now = Instant.now();
    long history = view.swarm().settings().taskHistoryRetentionLimit();
    List<CompletionStage<?>> writes = new ArrayList<>();
    List<Orchestrator.Action> actions =
        Orchestrator.reconcile(view.services(), view.nodes(), view.tasks(), history, now);
    for (Orchestrator.Action a : actions) {
      writes.add(apply(a));
    }
    if (actions.isEmpty()) {
      for (Scheduler.Decision d : Scheduler.schedule(view.tasks(), view.nodes(), now)) {
        boolean sameReason = d.nodeId() == null && view.task(d.taskId())
            .map(t -> Objects.equals(t.status().err(), d.err())).orElse(true);
        if (!sameReason) {
          writes.add(apply(d));
        }
      }
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(
        writes.stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new));
    getContext().pipeToSelf(all, (ok, err) -> {
      if (err != null) {
        getContext().getLog().warn("control loop round failed: {}", err.toString());
      }
      return new RoundDone();
    });
  }

  private CompletionStage<?> apply(Orchestrator.Action a) {
    Cause cause = Cause.loop("orchestrator", a.reason());
    if (a instanceof Orchestrator.CreateTask c) {
      getContext().getLog().info("task {} created for service {} slot {}: {}", c.taskId(),
          c.definition().serviceName(), c.definition().slot(), c.reason());
      return entities.task(c.taskId(), r -> new TaskEntity.Create(c.definition(), cause, r));
    }
    if (a instanceof Orchestrator.SetDesired s) {
      getContext().getLog().info("task {} desired {}: {}", s.taskId(), s.desired().apiName(), s.reason());
      return entities.task(s.taskId(), r -> new TaskEntity.SetDesired(s.desired(), cause, r));
    }
    if (a instanceof Orchestrator.SetUpdateStatus u) {
      getContext().getLog().info("service {} update status {}", u.serviceId(), u.status().state());
      return entities.service(u.serviceId(), r -> new ServiceEntity.SetUpdateStatus(u.status(), u.serviceVersion(), cause, r));
    }
    if (a instanceof Orchestrator.AutoRollback r) {
      getContext().getLog().info("service {} rolls back: {}", r.serviceId(), r.reason());
      return entities.service(r.serviceId(), reply -> new ServiceEntity.AutoRollback(r.taskId(), cause, reply));
    }
    Orchestrator.DeleteTask d = (Orchestrator.DeleteTask) a;
    return entities.task(d.taskId(), r -> new TaskEntity.Delete(cause, r));
  }

  private CompletionStage<?> apply(Scheduler.Decision d) {
    if (d.nodeId() != null) {
      getContext().getLog().info("task {} assigned to node {}", d.taskId(), d.nodeId());
      return entities.task(d.taskId(),
          r -> new TaskEntity.Assign(d.nodeId(), Cause.loop("scheduler", "placement"), r));
    }
    TaskEntity.Status pending = new TaskEntity.Status(TaskState.PENDING, "pending task scheduling", d.err(),
        Instant.now(), null, null, null, null, null);
    return entities.task(d.taskId(),
        r -> new TaskEntity.Report(null, pending, Cause.loop("scheduler", d.err()), r));
  }
}
