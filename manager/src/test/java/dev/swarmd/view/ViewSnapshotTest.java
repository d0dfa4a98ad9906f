package dev.swarmd.view;

import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.testsupport.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
class ViewSnapshotTest {
  @JUnit5TestKit
  public ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(Fixtures.entityTestConfig()).build();

  @Test
  void aWrittenSnapshotRestoresTheSameView(@TempDir Path dir) throws Exception {
    SwarmView view = new SwarmView();
    ServiceEntity.State web = service("svc-web", replicated("web", 2), 7);
    view.put(web);
    view.put(task("t1", web).slot(1).on("n1").state(TaskState.RUNNING).build());
    view.put(readyNode("n1"));
    view.put(SwarmEntity.State.empty());

    ViewSnapshot.of(42, 9, 9, "ab".repeat(32), view).write(testKit.system(), dir);
    Optional<ViewSnapshot> back = ViewSnapshot.read(testKit.system(), dir);

    assertEquals(42, back.orElseThrow().offset());
    assertEquals("ab".repeat(32), back.get().head());
    SwarmView restored = new SwarmView();
    back.get().restore(restored);
    assertEquals(List.copyOf(view.services()), List.copyOf(restored.services()));
    assertEquals(List.copyOf(view.tasks()), List.copyOf(restored.tasks()));
    assertEquals(List.copyOf(view.nodes()), List.copyOf(restored.nodes()));
    assertEquals("svc-web", restored.findService("web").value().id());
  }

  @Test
  void anUnreadableSnapshotMeansAFullReplay(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(ViewSnapshot.FILE), "not cbor");
    assertTrue(ViewSnapshot.read(testKit.system(), dir).isEmpty());
    assertTrue(ViewSnapshot.read(testKit.system(), dir.resolve("none")).isEmpty());
  }
}
