package dev.swarmd.raft;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.NonPersistentRepr;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.PersistentEnvelope;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The entities' journal plugin on a manager: a write is replicated through the Raft log and
 * acknowledged once it is committed and applied to this manager's own journal; replays and deletes
 * are the local journal's (which holds every committed event this manager has applied).
 */
public final class RaftJournal extends AbstractActor {
  private final ActorRef local;
  private final Serialization serialization;

  private record Written(JournalProtocol.WriteMessages write, Throwable error) {}

  public RaftJournal(Config config) {
    this.local = Persistence.get(getContext().getSystem()).journalFor(RaftLog.LOCAL_JOURNAL, ConfigFactory.empty());
    this.serialization = SerializationExtension.get(getContext().getSystem());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(JournalProtocol.WriteMessages.class, this::write)
        .match(Written.class, this::written)
        .matchAny(m -> local.forward(m, getContext()))
        .build();
  }

  private void write(JournalProtocol.WriteMessages w) {
    List<PersistentRepr> reprs = reprs(w);
    if (reprs.isEmpty()) {
      written(new Written(w, null));
      return;
    }
    RaftLog log = RaftLog.Registry.get(getContext().getSystem()).log().orElse(null);
    if (log == null) {
      written(new Written(w, new RaftLog.NotLeader(null)));
      return;
    }
    ActorRef self = getSelf();
    log.write(term -> JournalEntry.of(term, reprs, serialization).toBytes())
        .whenComplete((v, error) -> self.tell(new Written(w, error), ActorRef.noSender()));
  }

  private static List<PersistentRepr> reprs(JournalProtocol.WriteMessages w) {
    List<PersistentRepr> out = new ArrayList<>();
    for (PersistentEnvelope e : CollectionConverters.asJava(w.messages())) {
      if (e instanceof AtomicWrite a) {
        out.addAll(CollectionConverters.asJava(a.payload()));
      }
    }
    return out;
  }

  /** Answers the writer as a journal does: the whole write, then each message in order. */
  private void written(Written done) {
    JournalProtocol.WriteMessages w = done.write();
    ActorRef to = w.persistentActor();
    List<PersistentEnvelope> messages = CollectionConverters.asJava(w.messages());
    if (done.error() == null) {
      to.tell(JournalProtocol.WriteMessagesSuccessful$.MODULE$, getSelf());
    } else {
      to.tell(new JournalProtocol.WriteMessagesFailed(done.error(), messages.size()), getSelf());
    }
    for (PersistentEnvelope e : messages) {
      if (e instanceof AtomicWrite a) {
        for (PersistentRepr r : CollectionConverters.asJava(a.payload())) {
          to.tell(done.error() == null
              ? new JournalProtocol.WriteMessageSuccess(r, w.actorInstanceId())
              : new JournalProtocol.WriteMessageFailure(r, done.error(), w.actorInstanceId()), getSelf());
        }
      } else if (e instanceof NonPersistentRepr n) {
        to.tell(new JournalProtocol.LoopMessageSuccess(n.payload(), w.actorInstanceId()), n.sender());
      }
    }
  }
}
