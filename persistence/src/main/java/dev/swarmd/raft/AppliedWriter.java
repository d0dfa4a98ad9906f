package dev.swarmd.raft;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.PersistentEnvelope;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Applies committed entries to this manager's own journal (LevelDB), one at a time and in log order,
 * each after {@link WriteCheck}; then hands the events to the listener (the read view's fold). Knows
 * where each entity's history ends, asking the journal the first time an entity comes up.
 */
final class AppliedWriter extends AbstractActor {
  private static final Logger LOG = LoggerFactory.getLogger(AppliedWriter.class);
  /** What became of an entry: applied, or refused and why. */
  record Outcome(boolean applied, String reason) {}

  /** An entry to apply; entry null: a log entry of Raft's own (a term's start, a new configuration). */
  record Apply(JournalEntry entry, long logTerm, CompletableFuture<Outcome> done) {}

  /** Takes the events of each applied entry, in log order, on this actor's thread. */
  interface Listener {
    void applied(String persistenceId, long sequenceNr, Object event);
  }

  private final ActorRef journal;
  private final Listener listener;
  private final Serialization serialization;
  private final Map<String, Long> highest = new HashMap<>();
  private final Queue<Apply> queue = new ArrayDeque<>();
  private Apply current;
  private List<PersistentRepr> writing;
  private int confirmed;
  private int instance;

  static Props props(ActorRef journal, Listener listener) {
    return Props.create(AppliedWriter.class, () -> new AppliedWriter(journal, listener));
  }

  private AppliedWriter(ActorRef journal, Listener listener) {
    this.journal = journal;
    this.listener = listener;
    this.serialization = SerializationExtension.get(getContext().getSystem());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Apply.class, a -> {
          queue.add(a);
          next();
        })
        .match(JournalProtocol.RecoverySuccess.class, r -> {
          highest.put(current.entry().persistenceId(), r.highestSequenceNr());
          judgeOrFail();
        })
        .match(JournalProtocol.ReplayMessagesFailure.class, f -> fail(f.cause()))
        .match(JournalProtocol.WriteMessageSuccess.class, s -> {
          if (s.actorInstanceId() == instance && ++confirmed == writing.size()) {
            written();
          }
        })
        .match(JournalProtocol.WriteMessageFailure.class, f -> fail(f.cause()))
        .match(JournalProtocol.WriteMessageRejected.class, f -> fail(f.cause()))
        .matchAny(m -> { }) // WriteMessagesSuccessful/Failed: the per-event answers follow
        .build();
  }

  private void next() {
    if (current != null || queue.isEmpty()) {
      return;
    }
    current = queue.poll();
    if (current.entry() == null) {
      finish(new Outcome(true, "raft"));
      return;
    }
    String pid = current.entry().persistenceId();
    if (highest.containsKey(pid)) {
      judgeOrFail();
    } else {
      journal.tell(new JournalProtocol.ReplayMessages(Long.MAX_VALUE, Long.MAX_VALUE, 0, pid, getSelf()), getSelf());
    }
  }

  /** An entry that cannot be read fails its apply, rather than the actor (whose restart would lose the queue). */
  private void judgeOrFail() {
    try {
      judge();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private void judge() {
    JournalEntry e = current.entry();
    long h = highest.get(e.persistenceId());
    WriteCheck.Verdict v = WriteCheck.judge(e, current.logTerm(), h);
    if (v != WriteCheck.Verdict.APPLY) {
      finish(new Outcome(false, WriteCheck.reason(v, e, current.logTerm(), h)));
      return;
    }
    writing = e.reprs(serialization);
    confirmed = 0;
    instance++;
    AtomicWrite write = AtomicWrite.apply(CollectionConverters.asScala(writing).toList());
    List<PersistentEnvelope> envelopes = List.of(write);
    journal.tell(new JournalProtocol.WriteMessages(CollectionConverters.asScala(envelopes).toList(), getSelf(),
        instance), getSelf());
  }

  private void written() {
    JournalEntry e = current.entry();
    highest.put(e.persistenceId(), e.lastSequenceNr());
    for (PersistentRepr r : writing) {
      Object event = r.payload() instanceof Tagged t ? t.payload() : r.payload();
      try {
        listener.applied(e.persistenceId(), r.sequenceNr(), event);
      } catch (RuntimeException ex) {
        LOG.error("the read view could not take {} {}: {}", e.persistenceId(), r.sequenceNr(), ex.toString(), ex);
      }
    }
    finish(new Outcome(true, "applied"));
  }

  private void finish(Outcome o) {
    Apply done = current;
    current = null;
    writing = null;
    done.done().complete(o);
    next();
  }

  /** The local journal failed: the entry is not applied, and nothing after it may be. */
  private void fail(Throwable cause) {
    Apply done = current;
    current = null;
    writing = null;
    done.done().completeExceptionally(cause);
    queue.forEach(a -> a.done().completeExceptionally(cause));
    queue.clear();
  }
}
