package dev.swarmd.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.ServiceName;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DnsTableTest {
  private static final ServiceName WEB =
      new ServiceName("web", "svc-web-id", "vip", "10.0.0.2", List.of("10.0.1.1", "10.0.1.2", "10.0.1.3"));
  private static final ServiceName DB =
      new ServiceName("db", "svc-db-id", "dnsrr", null, List.of("10.0.2.1", "10.0.2.2"));
  private static final ServiceName IDLE = new ServiceName("idle", "svc-idle-id", "dnsrr", null, List.of());
  private static final ServiceName NOVIP = new ServiceName("novip", "svc-novip-id", "vip", null, List.of("10.0.3.1"));

  private final DnsTable table = DnsTable.of(List.of(WEB, DB, IDLE, NOVIP));

  @Test
  void vipNameAnswersWithTheVirtualIp() {
    assertEquals(List.of("10.0.0.2"), lookup("web"));
    assertEquals(List.of("10.0.0.2"), lookup("web"));
  }

  @Test
  void vipWithoutVirtualIpAnswersWithTheTasks() {
    assertEquals(List.of("10.0.3.1"), lookup("novip"));
  }

  @Test
  void dnsrrNameAnswersWithTheTasksInTurn() {
    assertEquals(List.of("10.0.2.1", "10.0.2.2"), lookup("db"));
    assertEquals(List.of("10.0.2.2", "10.0.2.1"), lookup("db"));
    assertEquals(List.of("10.0.2.1", "10.0.2.2"), lookup("db"));
  }

  @Test
  void tasksNameAnswersWithTheTasksInEitherMode() {
    assertEquals(List.of("10.0.1.1", "10.0.1.2", "10.0.1.3"), lookup("tasks.web"));
    assertEquals(List.of("10.0.1.2", "10.0.1.3", "10.0.1.1"), lookup("tasks.web"));
    assertEquals(List.of("10.0.1.3", "10.0.1.1", "10.0.1.2"), lookup("tasks.web"));
    List<String> first = lookup("tasks.db");
    assertNotEquals(first, lookup("tasks.db"));
  }

  @Test
  void serviceIdResolvesLikeItsName() {
    assertEquals(List.of("10.0.0.2"), lookup("svc-web-id"));
    assertEquals(3, lookup("tasks.svc-web-id").size());
    assertEquals(2, lookup("svc-db-id").size());
  }

  @Test
  void namesIgnoreCaseAndTheFinalDot() {
    assertEquals(List.of("10.0.0.2"), lookup("WEB."));
    assertEquals(List.of("10.0.0.2"), lookup("Web"));
    assertEquals(3, lookup("TASKS.web.").size());
    assertEquals(List.of("10.0.0.2"), lookup("SVC-WEB-ID."));
  }

  @Test
  void serviceWithoutTasksExistsWithoutAddresses() {
    assertEquals(Optional.of(List.of()), table.lookup("idle"));
    assertEquals(Optional.of(List.of()), table.lookup("tasks.idle"));
  }

  @Test
  void unknownNamesAreNotOurs() {
    assertTrue(table.lookup("nope").isEmpty());
    assertTrue(table.lookup("tasks.nope").isEmpty());
    assertTrue(table.lookup("web.example.com").isEmpty());
    assertTrue(table.lookup("tasks").isEmpty());
    assertTrue(DnsTable.EMPTY.lookup("web").isEmpty());
  }

  @Test
  void addressesThatAreNotIpv4LiteralsAreLeftOut() {
    DnsTable t = DnsTable.of(List.of(new ServiceName("x", "x-id", "vip", "not-an-ip", List.of("10.0.0.9", "bad"))));
    assertEquals(List.of("10.0.0.9"), addresses(t.lookup("x")));
  }

  @Test
  void firstServiceKeepsAClashingName() {
    ServiceName other = new ServiceName("web", "other-id", "vip", "10.9.9.9", List.of());
    DnsTable t = DnsTable.of(List.of(WEB, other));
    assertEquals(List.of("10.0.0.2"), addresses(t.lookup("web")));
    assertEquals(List.of("10.9.9.9"), addresses(t.lookup("other-id")));
  }

  private List<String> lookup(String name) {
    return addresses(table.lookup(name));
  }

  private static List<String> addresses(Optional<List<InetAddress>> answer) {
    return answer.orElseThrow().stream().map(InetAddress::getHostAddress).toList();
  }
}
