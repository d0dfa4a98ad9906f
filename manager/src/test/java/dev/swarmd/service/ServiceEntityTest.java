package dev.swarmd.service;

import static dev.swarmd.testsupport.Fixtures.replicated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.service.ServiceEntity.Command;
import dev.swarmd.service.ServiceEntity.Event;
import dev.swarmd.service.ServiceEntity.Reply;
import dev.swarmd.service.ServiceEntity.State;
import dev.swarmd.store.VersionClock;
import dev.swarmd.testsupport.Fixtures;
import dev.swarmd.view.SwarmView;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one ActorTestKit for the class, shut down after all tests
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class ServiceEntityTest {
  private static final Cause CAUSE = Cause.api("test", "POST /services/create");
  private static final ServiceSpec WEB = replicated("web", 3);
  private static final ServiceSpec WEB_V2 = replicated("web", 5);

  @JUnit5TestKit
  public ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(Fixtures.entityTestConfig()).build();

  private VersionClock clock;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> es;

  @BeforeEach
  void setUp() {
    clock = new VersionClock();
    clock.observe(41); // other objects have written up to index 41
    id = Ids.newId();
    es = EventSourcedBehaviorTestKit.create(testKit.system(), ServiceEntity.create(id, clock));
  }

  private CommandResultWithReply<Command, Event, State, Reply> create(ServiceSpec spec) {
    return es.runCommand(r -> new ServiceEntity.Create(spec, spec.endpoint().ports(), null, CAUSE, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> update(ServiceSpec spec, long expectedVersion) {
    return es.runCommand(r -> new ServiceEntity.Update(spec, spec.endpoint().ports(), null, expectedVersion, CAUSE, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> rollback(long expectedVersion) {
    return es.runCommand(r -> new ServiceEntity.Rollback(expectedVersion, CAUSE, r));
  }

  /** The read view as a manager folds it from this entity's persisted events. */
  private SwarmView view() {
    SwarmView v = new SwarmView();
    String pid = "Service|" + id;
    es.persistenceTestKit().persistedInStorage(pid).forEach(e -> v.replay(pid, e));
    return v;
  }

  @Test
  void createPersistsCreatedAndTakesTheNextClockIndexAsVersion() {
    var result = create(WEB);

    ServiceEntity.Created created = result.eventOfType(ServiceEntity.Created.class);
    assertEquals(WEB, created.spec());
    assertEquals(42, created.stamp().index());
    assertEquals(CAUSE, created.stamp().cause());
    assertTrue(result.state().exists());
    assertEquals(42, result.state().version());
    assertEquals(WEB, result.state().spec());
    assertNull(result.state().previousSpec());
    assertEquals(result.state(), result.reply().state());
    assertNull(result.reply().failure());
    assertEquals(42, clock.current());
  }

  @Test
  void createTwiceIsAConflict() {
    create(WEB);
    var again = create(WEB_V2);

    assertTrue(again.hasNoEvents());
    assertEquals(Failure.Kind.CONFLICT, again.reply().failure().kind());
    assertEquals(WEB, again.state().spec());
  }

  @Test
  void getOfAnUnknownServiceIsNotFound() {
    Reply reply = es.<Reply>runCommand(ServiceEntity.Get::new).reply();
    assertEquals(Failure.Kind.NOT_FOUND, reply.failure().kind());
  }

  @Test
  void updateWithAStaleVersionIsOutOfSequenceAndPersistsNothing() {
    long version = create(WEB).state().version();
    update(WEB_V2, version);

    var stale = update(replicated("web", 9), version);

    assertTrue(stale.hasNoEvents());
    assertEquals(Failure.Kind.OUT_OF_SEQUENCE, stale.reply().failure().kind());
    assertNull(stale.reply().state());
    assertEquals(WEB_V2, es.getState().spec());
  }

  @Test
  void anUpdateStatusDecidedOnAnOlderVersionDoesNotLandOnTheNextUpdate() {
    long version = create(WEB).state().version();
    ServiceEntity.UpdateStatus completed = new ServiceEntity.UpdateStatus("completed", Instant.EPOCH, Instant.EPOCH,
        "update completed");
    update(WEB_V2, version);

    CommandResultWithReply<Command, Event, State, Reply> late =
        es.runCommand(r -> new ServiceEntity.SetUpdateStatus(completed, version, CAUSE, r));

    assertTrue(late.hasNoEvents(), "the loop saw the service before the update: its verdict is stale");
    assertTrue(late.reply().failure() == null);
    long now = es.getState().version();
    CommandResultWithReply<Command, Event, State, Reply> current =
        es.runCommand(r -> new ServiceEntity.SetUpdateStatus(completed, now, CAUSE, r));
    assertEquals("completed", current.state().updateStatus().state());
  }

  @Test
  void updateKeepsTheReplacedSpecAsPreviousSpec() {
    State created = create(WEB).state();

    var result = update(WEB_V2, created.version());

    ServiceEntity.Updated updated = result.eventOfType(ServiceEntity.Updated.class);
    assertEquals(WEB_V2, updated.spec());
    assertEquals(WEB, updated.previous());
    assertNull(updated.updateStatus());
    State s = result.state();
    assertEquals(WEB_V2, s.spec());
    assertEquals(WEB, s.previousSpec());
    assertEquals(43, s.version());
    assertEquals(created.createdAt(), s.createdAt());
    assertEquals(s, result.reply().state());
  }

  @Test
  void updateOfAnUnknownServiceIsNotFound() {
    var result = update(WEB, 0);
    assertTrue(result.hasNoEvents());
    assertEquals(Failure.Kind.NOT_FOUND, result.reply().failure().kind());
  }

  @Test
  void aFailedUpdateRollsBackToThePreviousSpecAndSaysWhy() {
    long version = create(WEB).state().version();
    update(WEB_V2, version);

    var result = es.<Reply>runCommand(r -> new ServiceEntity.AutoRollback("task1", CAUSE, r));

    assertEquals(WEB, result.state().spec());
    assertEquals(WEB_V2, result.state().previousSpec());
    assertEquals("rollback_started", result.state().updateStatus().state());
    assertEquals("update rolled back due to failure or early termination of task task1",
        result.state().updateStatus().message());
  }

  @Test
  void aFailedUpdateWithNothingToRollBackToPauses() {
    create(WEB);

    var result = es.<Reply>runCommand(r -> new ServiceEntity.AutoRollback("task1", CAUSE, r));

    assertEquals(WEB, result.state().spec());
    assertEquals("paused", result.state().updateStatus().state());
  }

  @Test
  void rollbackWithoutPreviousSpecIsAPreconditionFailure() {
    long version = create(WEB).state().version();

    var result = rollback(version);

    assertTrue(result.hasNoEvents());
    assertEquals(Failure.Kind.PRECONDITION, result.reply().failure().kind());
  }

  @Test
  void rollbackWithAStaleVersionIsOutOfSequence() {
    long version = create(WEB).state().version();
    update(WEB_V2, version);

    var result = rollback(version);

    assertTrue(result.hasNoEvents());
    assertEquals(Failure.Kind.OUT_OF_SEQUENCE, result.reply().failure().kind());
  }

  @Test
  void rollbackSwapsSpecAndPreviousAndStartsARollback() {
    long version = create(WEB).state().version();
    long updated = update(WEB_V2, version).state().version();

    var result = rollback(updated);

    State s = result.state();
    assertEquals(WEB, s.spec());
    assertEquals(WEB_V2, s.previousSpec());
    assertEquals(updated + 1, s.version());
    ServiceEntity.UpdateStatus status = s.updateStatus();
    assertNotNull(status);
    assertEquals("rollback_started", status.state());
    assertEquals(result.eventOfType(ServiceEntity.Updated.class).stamp().at(), status.startedAt());
    assertNull(status.completedAt());
  }

  @Test
  void updateAfterRollbackClearsTheUpdateStatus() {
    long version = create(WEB).state().version();
    long updated = update(WEB_V2, version).state().version();
    long rolledBack = rollback(updated).state().version();

    State s = update(WEB_V2, rolledBack).state();

    assertNull(s.updateStatus());
    assertEquals(WEB, s.previousSpec());
  }

  @Test
  void removedServiceIsNotFoundAfterwards() {
    create(WEB);

    var removed = es.<Reply>runCommand(r -> new ServiceEntity.Remove(CAUSE, r));

    assertInstanceOf(ServiceEntity.Removed.class, removed.event());
    assertFalse(removed.state().exists());
    assertEquals(43, removed.state().version());
    assertEquals(Failure.Kind.NOT_FOUND, es.<Reply>runCommand(ServiceEntity.Get::new).reply().failure().kind());
    assertEquals(Failure.Kind.NOT_FOUND, update(WEB_V2, 43).reply().failure().kind());
    assertEquals(Failure.Kind.NOT_FOUND,
        es.<Reply>runCommand(r -> new ServiceEntity.Remove(CAUSE, r)).reply().failure().kind());
  }

  @Test
  void aRemovedServiceIdCannotBeCreatedAgain() {
    create(WEB);
    es.<Reply>runCommand(r -> new ServiceEntity.Remove(CAUSE, r));

    var again = create(WEB);

    assertTrue(again.hasNoEvents());
    assertEquals(Failure.Kind.CONFLICT, again.reply().failure().kind());
  }

  @Test
  void stateSurvivesRecoveryFromTheJournal() {
    long version = create(WEB).state().version();
    long updated = update(WEB_V2, version).state().version();
    State before = rollback(updated).state();

    State recovered = es.restart().state();

    assertEquals(before, recovered);
    assertEquals(44, recovered.version());
    assertEquals(before, es.<Reply>runCommand(ServiceEntity.Get::new).reply().state());
    // The recovered entity still checks versions against what it recovered.
    assertEquals(Failure.Kind.OUT_OF_SEQUENCE, update(WEB, updated).reply().failure().kind());
    assertEquals(45, update(WEB, 44).state().version());
  }

  @Test
  void theViewFoldedFromThePersistedEventsHasEachNewState() {
    State created = create(WEB).state();
    assertEquals(created, view().service(id).orElseThrow());
    assertEquals(created, view().findService("web").value());

    State updated = update(WEB_V2, created.version()).state();
    assertEquals(updated, view().service(id).orElseThrow());

    update(WEB, 0); // refused: the view keeps the last persisted state
    assertEquals(updated, view().service(id).orElseThrow());

    es.<Reply>runCommand(r -> new ServiceEntity.Remove(CAUSE, r));
    assertTrue(view().service(id).isEmpty());
    assertTrue(view().services().isEmpty());
  }

  @Test
  void messagesAreBoundToJacksonCbor() {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());

    assertInstanceOf(JacksonCborSerializer.class, serialization.findSerializerFor(State.empty(id)));
    assertInstanceOf(JacksonCborSerializer.class, serialization.findSerializerFor(CAUSE));
  }
}
