package dev.swarmd.scheduler;

import static dev.swarmd.testsupport.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConstraintTest {
  private static final NodeEntity.State NODE = node("node-id-1", "Web-1", "manager", "active", "ready",
      Map.of("zone", "eu", "Rack", "r1"));

  private static boolean matches(String expr) {
    return Constraint.parse(expr).matches(NODE);
  }

  @Test
  void parsesEqualsAndNotEquals() {
    assertEquals(new Constraint("node.hostname", true, "web1"), Constraint.parse("node.hostname==web1"));
    assertEquals(new Constraint("node.role", false, "manager"), Constraint.parse("  node.role != manager "));
  }

  @Test
  void keysAreCaseInsensitiveButLabelNamesKeepTheirCase() {
    assertEquals(new Constraint("node.hostname", true, "x"), Constraint.parse("Node.HostName==x"));
    assertEquals(new Constraint("node.labels.Rack", true, "r1"), Constraint.parse("NODE.LABELS.Rack==r1"));
    assertEquals(new Constraint("engine.labels.storage", false, "hdd"),
        Constraint.parse("engine.labels.storage!=hdd"));
  }

  @Test
  void aValueMayContainSpaces() {
    assertEquals(new Constraint("node.labels.desc", true, "rack a"), Constraint.parse("node.labels.desc == rack a"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"node.hostname=web1", "node.hostname", "", "node.hostname==", "==web1",
      "node.hostname<>web1"})
  void anExpressionWithoutOneOperatorIsInvalid(String expr) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Constraint.parse(expr));
    assertEquals("constraint expected one operator from ==, !=", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"node.name==x", "labels.zone==eu", "hostname==web1"})
  void anUnknownKeyIsInvalid(String expr) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Constraint.parse(expr));
    assertEquals("constraint key is not supported: " + expr.substring(0, expr.indexOf("==")), e.getMessage());
  }

  @Test
  void parseAllOfNothingIsEmpty() {
    assertTrue(Constraint.parseAll(null).isEmpty());
    assertEquals(2, Constraint.parseAll(List.of("node.role==manager", "node.labels.zone!=us")).size());
  }

  @Test
  void matchesHostnameAndRoleIgnoringCase() {
    assertTrue(matches("node.hostname==web-1"));
    assertFalse(matches("node.hostname!=WEB-1"));
    assertTrue(matches("node.role==Manager"));
    assertTrue(matches("node.role!=worker"));
  }

  @Test
  void matchesIdPlatformAndAddress() {
    assertTrue(matches("node.id==node-id-1"));
    assertTrue(matches("node.platform.os==linux"));
    assertTrue(matches("node.platform.arch!=aarch64"));
    assertTrue(matches("node.ip==" + NODE.addr()));
  }

  @Test
  void matchesNodeAndEngineLabels() {
    assertTrue(matches("node.labels.zone==eu"));
    assertTrue(matches("node.labels.Rack==r1"));
    assertFalse(matches("node.labels.rack==r1")); // label names are case-sensitive
    assertTrue(matches("engine.labels.storage==ssd"));
    assertFalse(matches("engine.labels.zone==eu")); // engine labels are not node labels
  }

  @Test
  void aMissingLabelFailsEqualsAndPassesNotEquals() {
    assertFalse(matches("node.labels.gpu==true"));
    assertTrue(matches("node.labels.gpu!=true"));
  }

  @Test
  void aNodeWithoutLabelsIsHandled() {
    NodeEntity.State bare = node("n2", "h2", "worker", "active", "ready", null);

    assertFalse(Constraint.parse("node.labels.zone==eu").matches(bare));
    assertTrue(Constraint.parse("node.labels.zone!=eu").matches(bare));
  }

  @Test
  void labelValuesCompareIgnoringCaseAsInSwarmkit() {
    assertTrue(matches("node.labels.zone==EU"));
    assertTrue(matches("node.platform.os==Linux"));
  }

  @Test
  void nodeIpMatchesACidrSubnetAsInSwarmkit() {
    assertTrue(matches("node.ip==10.0.0.0/8"));
    assertFalse(matches("node.ip!=10.0.0.0/8"));
  }
}
