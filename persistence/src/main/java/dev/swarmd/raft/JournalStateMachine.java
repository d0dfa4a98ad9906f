package dev.swarmd.raft;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.ActorRef;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;

/**
 * The Raft state machine of a manager: each committed entry goes to the manager's own journal,
 * through the {@link AppliedWriter}, in log order. The applied index moves only once the journal has
 * the entry on disk.
 */
final class JournalStateMachine extends BaseStateMachine {
  /** Told when leadership moves (leaderId null: none known) and when this member's leadership is ready. */
  interface Roles {
    void leaderChanged(RaftPeerId leaderId);

    void leaderReady();
  }

  static final String APPLIED = "applied";

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final ActorRef writer;
  private final Roles roles;

  JournalStateMachine(ActorRef writer, Roles roles) {
    this.writer = writer;
    this.roles = roles;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    reinitialize();
  }

  @Override
  public void reinitialize() {
    SingleFileSnapshotInfo s = storage.loadLatestSnapshot();
    if (s != null) {
      setLastAppliedTermIndex(s.getTermIndex());
    }
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    JournalEntry e = JournalEntry.fromBytes(entry.getStateMachineLogEntry().getLogData().toByteArray());
    return apply(e, entry.getTerm(), entry.getIndex())
        .thenApply(o -> Message.valueOf(o.applied() ? APPLIED : o.reason()));
  }

  /** Raft's own entries take their turn too, so that the applied index never passes an entry in flight. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    apply(null, term, index);
  }

  private CompletableFuture<AppliedWriter.Outcome> apply(JournalEntry e, long term, long index) {
    CompletableFuture<AppliedWriter.Outcome> done = new CompletableFuture<>();
    writer.tell(new AppliedWriter.Apply(e, term, done), ActorRef.noSender());
    return done.thenApply(o -> {
      updateLastAppliedTermIndex(term, index);
      return o;
    });
  }

  /** A read's barrier (see {@link RaftLog#barrier()}): by the time Raft calls this, it is passed. */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    roles.leaderChanged(newLeaderId);
  }

  @Override
  public void notifyLeaderReady() {
    roles.leaderReady();
  }
}
