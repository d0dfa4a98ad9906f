package dev.swarmd.view;

import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SwarmViewTest {
  private final SwarmView view = new SwarmView();

  private ServiceEntity.State putService(String id, String name) {
    ServiceEntity.State s = service(id, replicated(name, 1), 1);
    view.put(s);
    return s;
  }

  @Test
  void findsAServiceByFullId() {
    ServiceEntity.State web = putService("abc123", "web");
    putService("abc124", "api");

    SwarmView.Lookup<ServiceEntity.State> found = view.findService("abc123");

    assertEquals(web, found.value());
    assertEquals(1, found.matches());
  }

  @Test
  void findsAServiceByExactName() {
    ServiceEntity.State web = putService("abc123", "web");
    putService("def456", "api");

    assertEquals(web, view.findService("web").value());
    assertNull(view.findService("we").value()); // names match whole, never by prefix
  }

  @Test
  void findsAServiceByUniqueIdPrefix() {
    ServiceEntity.State web = putService("abc123", "web");
    putService("def456", "api");

    assertEquals(web, view.findService("ab").value());
  }

  @Test
  void anAmbiguousIdPrefixMatchesSeveral() {
    putService("abc123", "web");
    putService("abc456", "api");

    SwarmView.Lookup<ServiceEntity.State> lookup = view.findService("abc");

    assertNull(lookup.value());
    assertEquals(2, lookup.matches());
  }

  @Test
  void anExactNameWinsOverAnIdPrefix() {
    putService("web123", "api");
    ServiceEntity.State named = putService("xyz789", "web");

    assertEquals(named, view.findService("web").value());
  }

  @Test
  void aFullIdWinsOverAName() {
    ServiceEntity.State byId = putService("db", "web");
    putService("xyz789", "db");

    assertEquals(byId, view.findService("db").value());
  }

  @Test
  void unknownAndEmptyReferencesMatchNothing() {
    putService("abc123", "web");

    assertEquals(0, view.findService("zzz").matches());
    assertEquals(0, view.findService("").matches());
    assertNull(view.findService("").value());
  }

  @Test
  void findsANodeByHostnameOrSpecNameAndSeesDuplicateHostnames() {
    NodeEntity.State n1 = Fixtures.node("n1aaaa", "worker", "worker", "active", "ready", Map.of());
    NodeEntity.State n2 = Fixtures.node("n2bbbb", "worker", "worker", "active", "ready", Map.of());
    NodeEntity.State named = new NodeEntity.State("n3cccc", true, new NodeSpec("edge", Map.of(), "worker", "active"),
        Fixtures.description("edge-host"), "10.0.0.3", null, "ready", null, 1, Fixtures.T0, Fixtures.T0);
    view.put(n1);
    view.put(n2);
    view.put(named);

    assertEquals(2, view.findNode("worker").matches());
    assertEquals(named, view.findNode("edge").value());
    assertEquals(named, view.findNode("edge-host").value());
    assertEquals(n2, view.findNode("n2").value());
  }

  @Test
  void findsATaskByIdPrefixOnly() {
    ServiceEntity.State web = putService("svc1", "web");
    TaskEntity.State t = Fixtures.task("t0123456789", web).build();
    view.put(t);

    assertEquals(t, view.findTask("t01").value());
    assertEquals(t, view.findTask("t0123456789").value());
    assertEquals(0, view.findTask("web").matches());
  }

  @Test
  void reserveNameRefusesASecondClaimUntilReleased() {
    assertTrue(view.reserveName("web", "svc1"));
    assertFalse(view.reserveName("web", "svc2"));

    view.releaseName("web");

    assertTrue(view.reserveName("web", "svc2"));
  }

  @Test
  void reserveNameRefusesTheNameOfALiveService() {
    putService("svc1", "web");

    assertFalse(view.reserveName("web", "svc2"));
    assertTrue(view.reserveName("api", "svc2"));
  }

  @Test
  void aRemovedServiceFreesItsName() {
    ServiceEntity.State s = putService("svc1", "web");
    view.put(new ServiceEntity.State(s.id(), false, s.spec(), null, 2, s.createdAt(), s.updatedAt(), null, null, null));

    assertTrue(view.services().isEmpty());
    assertTrue(view.reserveName("web", "svc2"));
  }

  @Test
  void tasksOfListsOnlyThatServicesTasks() {
    ServiceEntity.State web = putService("svc1", "web");
    ServiceEntity.State api = putService("svc2", "api");
    view.put(Fixtures.task("t1", web).build());
    view.put(Fixtures.task("t2", web).slot(2).build());
    view.put(Fixtures.task("t3", api).build());

    assertEquals(2, view.tasksOf("svc1").size());
    assertEquals(1, view.tasksOf("svc2").size());
    assertTrue(view.tasksOf("svc3").isEmpty());
  }

  @Test
  void everyPutNotifiesTheWatchers() {
    int[] calls = {0};
    view.watch(() -> calls[0]++);

    putService("svc1", "web");
    view.put(Fixtures.readyNode("n1"));

    assertEquals(2, calls[0]);
  }
}
