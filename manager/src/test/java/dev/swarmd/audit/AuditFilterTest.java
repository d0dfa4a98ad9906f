package dev.swarmd.audit;

import static dev.swarmd.testsupport.Fixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.swarmd.protocol.Cause;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditFilterTest {
  private static final AuditEntry WEB_CREATE = entry("service", "create", "s1", Map.of("name", "web"));
  private static final AuditEntry WEB_UPDATE = entry("service", "update", "s1", Map.of("name", "web"));
  private static final AuditEntry API_REMOVE = entry("service", "remove", "s2", Map.of("name", "api"));
  private static final AuditEntry NODE_UPDATE = entry("node", "update", "n1", Map.of("name", "host-1"));
  private static final AuditEntry WEB_START = entry("container", "start", "c1", Map.of("name", "web.1.t1",
      AuditTrail.SERVICE_ID, "s1", AuditTrail.SERVICE_NAME, "web", AuditTrail.TASK_ID, "t1",
      AuditTrail.NODE_ID, "n1"));
  private static final AuditEntry SWARM_UPDATE = entry("swarm", "update", "cluster1", Map.of("name", "default"));
  private static final List<AuditEntry> ALL = List.of(WEB_CREATE, WEB_UPDATE, API_REMOVE, NODE_UPDATE, WEB_START,
      SWARM_UPDATE);

  private static AuditEntry entry(String type, String action, String id, Map<String, String> attributes) {
    return new AuditEntry(1, T0, Cause.api("test", "filter"), type, action, id, AuditEntry.attributes(attributes),
        "X|" + id, 1);
  }

  private static List<AuditEntry> kept(Map<String, List<String>> filters) {
    return ALL.stream().filter(Filter.of(filters)).toList();
  }

  @Test
  void allKeepsEverything() {
    assertEquals(ALL, ALL.stream().filter(Filter.ALL).toList());
    assertEquals(ALL, kept(Map.of()));
    assertEquals(ALL, kept(Map.of("type", List.of())));
  }

  @Test
  void typeKeepsEntriesOfTheType() {
    assertEquals(List.of(WEB_CREATE, WEB_UPDATE, API_REMOVE), kept(Map.of("type", List.of("service"))));
  }

  @Test
  void valuesOfOneKeyAreAlternatives() {
    assertEquals(List.of(WEB_CREATE, WEB_UPDATE, API_REMOVE, NODE_UPDATE),
        kept(Map.of("type", List.of("service", "node"))));
    assertEquals(List.of(WEB_CREATE, API_REMOVE), kept(Map.of("event", List.of("create", "remove"))));
  }

  @Test
  void keysMustAllMatch() {
    assertEquals(List.of(WEB_UPDATE), kept(Map.of("type", List.of("service"), "event", List.of("update"))));
    assertEquals(List.of(), kept(Map.of("type", List.of("node"), "service", List.of("web"))));
  }

  @Test
  void actionIsAnAliasOfEvent() {
    assertEquals(List.of(WEB_UPDATE, NODE_UPDATE, WEB_START, SWARM_UPDATE),
        kept(Map.of("action", List.of("update"), "event", List.of("start"))));
  }

  @Test
  void serviceKeepsTheServiceAndItsContainersByIdOrName() {
    assertEquals(List.of(WEB_CREATE, WEB_UPDATE, WEB_START), kept(Map.of("service", List.of("web"))));
    assertEquals(List.of(WEB_CREATE, WEB_UPDATE, WEB_START), kept(Map.of("service", List.of("s1"))));
    assertEquals(List.of(WEB_CREATE, WEB_UPDATE, API_REMOVE, WEB_START),
        kept(Map.of("service", List.of("web", "s2"))));
  }

  @Test
  void nodeKeepsTheNodeAndTheContainersOnIt() {
    assertEquals(List.of(NODE_UPDATE, WEB_START), kept(Map.of("node", List.of("n1"))));
    assertEquals(List.of(NODE_UPDATE), kept(Map.of("node", List.of("host-1"))));
  }

  @Test
  void idsAndNamesMatchByPrefixAsDockersFuzzyMatch() {
    assertEquals(List.of(NODE_UPDATE), kept(Map.of("node", List.of("host"))));
    assertEquals(List.of(WEB_START), kept(Map.of("container", List.of("web.1"))));
    assertEquals(List.of(WEB_START), kept(Map.of("container", List.of("c"))));
  }

  @Test
  void onlyTheSwarmScopeMatches() {
    assertEquals(ALL, kept(Map.of("scope", List.of("swarm"))));
    assertEquals(List.of(), kept(Map.of("scope", List.of("local"))));
  }

  @Test
  void anUnknownKeyIsRefusedWithDockersMessage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Filter.of(Map.of("colour", List.of("red"))));
    assertEquals("invalid filter 'colour'", e.getMessage());
  }
}
