package dev.swarmd.bench;

import com.typesafe.config.ConfigFactory;
import dev.swarmd.persistence.Journal;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import dev.swarmd.view.SwarmView;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.query.EventEnvelope;

/**
 * Fills the journal of a stopped node's data root with a long history, through the service
 * entities themselves (so every event is sealed into the hash chain as the daemon seals it):
 * services created, updated (a label changed) many times, then removed, so that the swarm they
 * leave is as it was. Usage: JournalBench DATA_ROOT EVENTS [SERVICES]. Run on the daemon's jar
 * (bench/journal.sh).
 */
public final class JournalBench {
  private static final Duration ASK = Duration.ofSeconds(60);
  private static final Cause CAUSE = Cause.loop("bench", "journal history");

  public static void main(String[] args) throws Exception {
    Path swarmDir = Path.of(args[0]).resolve("swarm");
    long events = Long.parseLong(args[1]);
    int services = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    // The history is bench data: fsync per write would only measure the disk, at a million writes. It
    // goes straight to the local journal, as a manager's history from before the Raft log.
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "swarm",
        ConfigFactory.parseString("pekko.persistence.journal.leveldb.fsync = off\npekko.loglevel = WARNING\n"
            + "pekko.persistence.journal.plugin = pekko.persistence.journal.leveldb")
            .withFallback(Journal.config(swarmDir)).withFallback(ConfigFactory.load()));
    try {
      VersionClock clock = new VersionClock();
      SwarmView view = new SwarmView();
      for (EventEnvelope e : Journal.history(system).toCompletableFuture().get(10, TimeUnit.MINUTES)) {
        Stamp s = view.replay(e.persistenceId(), e.event());
        if (s != null) {
          clock.observe(s);
        }
      }
      long perService = Math.max(2, events / services);
      AtomicLong written = new AtomicLong();
      long t0 = System.nanoTime();
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int i = 0; i < services; i++) {
        String id = Ids.newId();
        ActorRef<ServiceEntity.Command> s = system.systemActorOf(ServiceEntity.create(id, clock), "s" + i,
            org.apache.pekko.actor.typed.Props.empty());
        all.add(history(system, s, "bench-" + i, perService, written).toCompletableFuture());
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.MINUTES);
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("wrote %d events (%d services x %d) in %.1f s: %.0f events/s; head index %d%n",
          written.get(), services, perService, seconds, written.get() / seconds, clock.current());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  /** One service's life: created, updated perService - 2 times, removed. */
  private static CompletionStage<Void> history(ActorSystem<?> system, ActorRef<ServiceEntity.Command> s,
      String name, long perService, AtomicLong written) {
    return ask(system, s, r -> new ServiceEntity.Create(spec(name, 0), List.of(), null, CAUSE, r))
        .thenCompose(created -> updates(system, s, name, created, 1, perService - 2, written))
        .thenCompose(last -> ask(system, s, r -> new ServiceEntity.Remove(CAUSE, r)))
        .thenAccept(removed -> written.addAndGet(2));
  }

  /** The updates from generation n on, one after the other (each needs the version the last one wrote). */
  private static CompletionStage<ServiceEntity.Reply> updates(ActorSystem<?> system,
      ActorRef<ServiceEntity.Command> s, String name, ServiceEntity.Reply prev, long n, long last,
      AtomicLong written) {
    if (n > last) {
      return CompletableFuture.completedFuture(prev);
    }
    return ask(system, s, r -> new ServiceEntity.Update(spec(name, n), List.of(), null, prev.state().version(),
            CAUSE, r))
        .thenCompose(next -> {
          written.incrementAndGet();
          return updates(system, s, name, next, n + 1, last, written);
        });
  }

  private static ServiceSpec spec(String name, long generation) {
    ServiceSpec.ContainerSpec c = new ServiceSpec.ContainerSpec("swarmd-test/busybox", Map.of(),
        List.of("sleep", "3600"), List.of(), List.of(), null, null, null, false, false, null, null, null, null);
    return new ServiceSpec(name, Map.of("generation", Long.toString(generation)),
        new ServiceSpec.TaskSpec(c, null, null, null, 0), ServiceSpec.Mode.replicated(0), null, null, null);
  }

  private static CompletionStage<ServiceEntity.Reply> ask(ActorSystem<?> system, ActorRef<ServiceEntity.Command> s,
      java.util.function.Function<ActorRef<ServiceEntity.Reply>, ServiceEntity.Command> command) {
    return AskPattern.ask(s, command::apply, ASK, system.scheduler()).thenApply(r -> {
      if (r.failure() != null) {
        throw new IllegalStateException(r.failure().message());
      }
      return r;
    });
  }
}
