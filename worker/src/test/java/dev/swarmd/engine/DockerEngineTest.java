package dev.swarmd.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventActor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's events as the agent reads them: which task went down. */
class DockerEngineTest {
  private static Event event(String action) {
    return new Event().withAction(action).withStatus(action).withEventActor(new EventActor().withId("c1")
        .withAttributes(Map.of(SwarmLabels.TASK_ID, "t1", "name", "web.1.t1")));
  }

  @Test
  void aDeathOrAnUnhealthyContainerNamesItsTask() {
    assertEquals("t1", DockerEngine.downTask(event("die")));
    assertEquals("t1", DockerEngine.downTask(event("health_status: unhealthy")));
  }

  @Test
  void otherEventsNameNone() {
    assertNull(DockerEngine.downTask(event("health_status: healthy")));
    assertNull(DockerEngine.downTask(event("start")));
    assertNull(DockerEngine.downTask(new Event().withAction("die")));
  }
}
