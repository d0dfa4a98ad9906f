package dev.swarmd.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the control loops that must be unique in the swarm (orchestrator and scheduler, membership,
 * dispatcher) while this manager leads the Raft group, and stops them when it no longer does, as
 * swarmkit's manager does on becoming leader or follower.
 */
public final class LeaderDuties {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);

  private LeaderDuties() {}

  private record Leading(boolean leading) {}

  /** duties: each loop's actor name and how to make it. */
  public static Behavior<Object> create(RaftLog log, Map<String, Supplier<Behavior<?>>> duties) {
    return Behaviors.setup(ctx -> {
      ActorRef<Object> self = ctx.getSelf();
      log.watchLeading(leading -> self.tell(new Leading(leading)));
      List<ActorRef<?>> running = new ArrayList<>();
      int[] term = {0}; // names stay unique when leadership comes back before the old loops have stopped
      return Behaviors.receive(Object.class)
          .onMessage(Leading.class, m -> {
            if (m.leading() && running.isEmpty()) {
              term[0]++;
              duties.forEach((name, make) -> running.add(ctx.spawn(make.get(), name + "-" + term[0])));
              LOG.info("manager {} leads: control loops {} started", log.selfId(), duties.keySet());
            } else if (!m.leading() && !running.isEmpty()) {
              running.forEach(ctx::stop);
              running.clear();
              LOG.info("manager {} no longer leads: control loops stopped", log.selfId());
            }
            return Behaviors.same();
          })
          .build();
    });
  }
}
